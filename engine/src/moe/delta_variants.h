// The alternative to consolidation: keep each variant as ME-Switch compressed deltas against
// the MoE base (every matrix, expert blocks included, through delta::compress_linear) and
// run base + Δ̂. compress_expert() does not cover Mixtral tensors yet, so this quantizes
// without calibration activations: the output-error metric is the identity (every input
// channel weighted 1), i.e. salient channels and step sizes are chosen in weight space.
#pragma once

#include <cstdint>
#include <filesystem>

#include "meswitch/model.h"

namespace meswitch::moe {

struct DeltaVariantOptions {
    int bits = 2;
    std::string salient = "2%";
    int threads = 0;
};

struct DeltaVariant {
    Model model;                    // base + reconstructed Δ̂ (f32 working copies)
    std::uint64_t delta_bytes = 0;  // stored bytes of every compressed delta (+ f16 norms)
    std::uint64_t dense_bytes = 0;  // the variant's own weights, as stored
};

DeltaVariant delta_variant(const std::filesystem::path& base, const std::filesystem::path& variant,
                           const DeltaVariantOptions& options);

}  // namespace meswitch::moe
