// The generation loop: batched prefill, then sample → stream → feed, one token at a time.
#include <algorithm>

#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"
#include "model/decode_loop.h"

namespace meswitch {

GenerateResult generate(Model& model, const Tokenizer& tokenizer,
                        std::span<const std::int32_t> prompt, const GenerateOptions& options,
                        const TokenCallback& on_text) {
    const std::int64_t max_pos = model.config().max_position_embeddings;
    const std::int64_t n = static_cast<std::int64_t>(prompt.size());
    if (n > max_pos)
        throw Error(ErrorKind::invalid_argument, "generate: the prompt has " + std::to_string(n) +
                                                     " tokens but the model's context is " +
                                                     std::to_string(max_pos));
    const std::int64_t capacity =
        std::min<std::int64_t>(max_pos, n + std::max(0, options.max_tokens));
    KvCache cache = model.make_cache(std::max<std::int64_t>(capacity, 1));
    return generate(model, tokenizer, cache, prompt, options, on_text);
}

GenerateResult generate(Model& model, const Tokenizer& tokenizer, KvCache& cache,
                        std::span<const std::int32_t> prompt, const GenerateOptions& options,
                        const TokenCallback& on_text) {
    return model::run_decode_loop(
        model.config(), tokenizer, prompt, options, on_text,
        [&](std::span<const std::int32_t> tokens) { return model.forward(tokens, cache); },
        [&] { return cache.size() >= cache.capacity(); });
}

}  // namespace meswitch
