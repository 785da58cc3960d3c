// The generation loop itself, independent of where the forward pass runs: batched prefill,
// then sample → stream → feed one token at a time until EOS (or BOS with stop_on_bos), a stop
// string, max_tokens, cancellation or a full cache. meswitch::generate runs it on a Model,
// the serving engine on a DeviceBackend.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "meswitch/generate.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"

namespace meswitch::model {

// Runs `tokens` after what the cache holds and returns the last position's logits.
using ForwardFn = std::function<std::vector<float>(std::span<const std::int32_t> tokens)>;

// Errors: Error(invalid_argument) for an empty prompt or a negative max_tokens (before any
// forward pass). `cache_full` says whether the cache has room for one more token.
GenerateResult run_decode_loop(const ModelConfig& config, const Tokenizer& tokenizer,
                               std::span<const std::int32_t> prompt, const GenerateOptions& options,
                               const TokenCallback& on_text, const ForwardFn& forward,
                               const std::function<bool()>& cache_full);

}  // namespace meswitch::model
