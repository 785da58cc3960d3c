// The generation loop of meswitch::generate (generate.h) over a DeviceBackend: batched
// prefill, then sample → stream → feed one token at a time, with the same stop rules.
#pragma once

#include <span>

#include "meswitch/generate.h"
#include "meswitch/tokenizer.h"
#include "serve/device_backend.h"

namespace meswitch::serve {

// Generates after `prompt` in a fresh device cache (capacity prompt + max_tokens, bounded
// by the model's max positions). options.cancel is polled between tokens.
GenerateResult generate_on(DeviceBackend& backend, const Tokenizer& tokenizer,
                           std::span<const std::int32_t> prompt, const GenerateOptions& options,
                           const TokenCallback& on_text = {});

}  // namespace meswitch::serve
