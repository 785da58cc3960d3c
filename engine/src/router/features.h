// Router features from the base model's hidden states: for each chosen layer, the mean over
// the prompt's tokens (BOS excluded) and the last token's state, concatenated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/model.h"
#include "meswitch/tokenizer.h"

namespace meswitch::router {

struct FeatureSpec {
    std::vector<int> layers;  // 0 … num_hidden_layers (the last = final-norm output)
    bool mean = true;         // mean-pooled states of the prompt tokens
    bool last = true;         // the last token's state

    std::vector<std::string> pooling() const;  // {"mean", "last"}
};

// The middle decoder layer and the final-norm output (see router/README.md for the
// measurement behind it).
std::vector<int> default_feature_layers(const ModelConfig& config);

// Throws Error(invalid_argument) naming a layer outside [0, num_hidden_layers] or an empty spec.
void check_feature_spec(const FeatureSpec& spec, const ModelConfig& config);

// The ids the model sees for `prompt`: BOS (when the tokenizer adds it) + the prompt, cut to
// the model's context by keeping BOS and the last tokens.
struct PromptIds {
    std::vector<std::int32_t> ids;
    bool truncated = false;
};
PromptIds prompt_ids(const Tokenizer& tokenizer, std::string_view prompt, std::int64_t context);

// The model's usable context: max_position_embeddings (at least 1).
std::int64_t model_context(const ModelConfig& config);

struct PromptFeatures {
    std::vector<float> values;
    int tokens = 0;
    bool truncated = false;
};

// One prefill of the prompt (no logits) collecting the spec's layers.
PromptFeatures extract_features(Model& model, const Tokenizer& tokenizer, std::string_view prompt,
                                const FeatureSpec& spec);

}  // namespace meswitch::router
