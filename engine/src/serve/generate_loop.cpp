// The generation loop over a DeviceBackend: model::run_decode_loop on a fresh device cache.
#include "serve/generate_loop.h"

#include <algorithm>
#include <memory>

#include "meswitch/error.h"
#include "model/decode_loop.h"

namespace meswitch::serve {

GenerateResult generate_on(DeviceBackend& backend, const Tokenizer& tokenizer,
                           std::span<const std::int32_t> prompt, const GenerateOptions& options,
                           const TokenCallback& on_text) {
    const ModelConfig& config = backend.config();
    const auto n = static_cast<std::int64_t>(prompt.size());
    if (n > config.max_position_embeddings)
        throw Error(ErrorKind::invalid_argument,
                    "generate: the prompt has " + std::to_string(n) +
                        " tokens but the model's context is " +
                        std::to_string(config.max_position_embeddings));
    const std::int64_t capacity =
        std::min<std::int64_t>(config.max_position_embeddings, n + std::max(0, options.max_tokens));
    std::unique_ptr<DeviceCache> cache = backend.make_cache(std::max<std::int64_t>(capacity, 1));
    return model::run_decode_loop(
        config, tokenizer, prompt, options, on_text,
        [&](std::span<const std::int32_t> tokens) { return backend.forward(tokens, *cache); },
        [&] { return cache->size() >= cache->capacity(); });
}

}  // namespace meswitch::serve
