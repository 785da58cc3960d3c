#include "router/features.h"

#include <algorithm>

#include "meswitch/error.h"

namespace meswitch::router {

std::vector<std::string> FeatureSpec::pooling() const {
    std::vector<std::string> p;
    if (mean) p.emplace_back("mean");
    if (last) p.emplace_back("last");
    return p;
}

std::vector<int> default_feature_layers(const ModelConfig& config) {
    const int n = static_cast<int>(config.num_hidden_layers);
    const int middle = n / 2;
    if (middle == n) return {n};
    return {middle, n};
}

void check_feature_spec(const FeatureSpec& spec, const ModelConfig& config) {
    if (spec.layers.empty() || (!spec.mean && !spec.last))
        throw Error(ErrorKind::invalid_argument,
                    "router features: choose at least one layer and one pooling");
    for (int l : spec.layers)
        if (l < 0 || l > config.num_hidden_layers)
            throw Error(ErrorKind::invalid_argument,
                        "router features: layer " + std::to_string(l) + " is outside 0…" +
                            std::to_string(config.num_hidden_layers) + " (the last is the " +
                            "final-norm output)");
}

std::int64_t model_context(const ModelConfig& config) {
    return std::max<std::int64_t>(1, config.max_position_embeddings);
}

PromptIds prompt_ids(const Tokenizer& tokenizer, std::string_view prompt, std::int64_t context) {
    PromptIds out;
    out.ids = tokenizer.encode(prompt, true);
    const auto limit = static_cast<std::size_t>(std::max<std::int64_t>(1, context));
    if (out.ids.size() <= limit) return out;
    out.truncated = true;
    const bool keep_bos = tokenizer.bos_id() && out.ids.front() == *tokenizer.bos_id() && limit > 1;
    std::vector<std::int32_t> kept;
    kept.reserve(limit);
    if (keep_bos) kept.push_back(out.ids.front());
    kept.insert(kept.end(), out.ids.end() - static_cast<std::ptrdiff_t>(limit - kept.size()),
                out.ids.end());
    out.ids = std::move(kept);
    return out;
}

PromptFeatures extract_features(Model& model, const Tokenizer& tokenizer, std::string_view prompt,
                                const FeatureSpec& spec) {
    const ModelConfig& cfg = model.config();
    check_feature_spec(spec, cfg);
    PromptIds p = prompt_ids(tokenizer, prompt, model_context(cfg));
    PromptFeatures out;
    out.tokens = static_cast<int>(p.ids.size());
    out.truncated = p.truncated;
    if (p.ids.empty()) throw Error(ErrorKind::invalid_argument, "router features: no tokens");
    // Mean over the prompt tokens; the BOS state is the same for every prompt.
    const bool skip_bos =
        tokenizer.bos_id() && p.ids.front() == *tokenizer.bos_id() && p.ids.size() > 1;
    const std::int64_t h = cfg.hidden_size;
    const std::size_t per_layer =
        static_cast<std::size_t>(h) * ((spec.mean ? 1 : 0) + (spec.last ? 1 : 0));
    out.values.assign(per_layer * spec.layers.size(), 0.0f);
    ForwardOptions fo;
    fo.compute_logits = false;
    fo.on_hidden = [&](std::int64_t layer, const float* states, std::int64_t rows,
                       std::int64_t hidden) {
        for (std::size_t k = 0; k < spec.layers.size(); ++k) {
            if (spec.layers[k] != layer) continue;
            float* dst = out.values.data() + k * per_layer;
            if (spec.mean) {
                const std::int64_t first = skip_bos ? 1 : 0;
                std::vector<double> acc(static_cast<std::size_t>(hidden), 0.0);
                for (std::int64_t r = first; r < rows; ++r)
                    for (std::int64_t j = 0; j < hidden; ++j)
                        acc[static_cast<std::size_t>(j)] += states[r * hidden + j];
                for (std::int64_t j = 0; j < hidden; ++j)
                    dst[j] = static_cast<float>(acc[static_cast<std::size_t>(j)] /
                                                static_cast<double>(rows - first));
                dst += hidden;
            }
            if (spec.last) std::copy_n(states + (rows - 1) * hidden, hidden, dst);
        }
    };
    KvCache cache = model.make_cache(static_cast<std::int64_t>(p.ids.size()));
    model.forward(p.ids, cache, fo);
    return out;
}

}  // namespace meswitch::router
