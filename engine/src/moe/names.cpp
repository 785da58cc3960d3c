// Names and enum spellings of the MoE consolidation module.
#include "meswitch/error.h"
#include "meswitch/moe.h"

namespace meswitch::moe {

const char* to_string(DistanceMetric metric) {
    return metric == DistanceMetric::cosine ? "cosine" : "l2";
}

const char* to_string(SharedExpert shared) {
    switch (shared) {
        case SharedExpert::mean:
            return "mean";
        case SharedExpert::medoid:
            return "medoid";
        case SharedExpert::base:
            return "base";
    }
    return "mean";
}

DistanceMetric parse_metric(std::string_view text) {
    if (text == "l2") return DistanceMetric::l2;
    if (text == "cosine") return DistanceMetric::cosine;
    throw Error(ErrorKind::invalid_argument,
                "distance metric '" + std::string(text) + "' is not l2 or cosine");
}

SharedExpert parse_shared_expert(std::string_view text) {
    if (text == "mean") return SharedExpert::mean;
    if (text == "medoid") return SharedExpert::medoid;
    if (text == "base") return SharedExpert::base;
    throw Error(ErrorKind::invalid_argument,
                "shared expert '" + std::string(text) + "' is not mean, medoid or base");
}

std::vector<std::string> expert_tensor_names(std::int64_t layer, std::int64_t expert) {
    const std::string p = "model.layers." + std::to_string(layer) + ".block_sparse_moe.experts." +
                          std::to_string(expert) + ".";
    return {p + "w1.weight", p + "w2.weight", p + "w3.weight"};
}

bool is_expert_tensor(std::string_view name) {
    return name.find(".block_sparse_moe.experts.") != std::string_view::npos;
}

}  // namespace meswitch::moe
