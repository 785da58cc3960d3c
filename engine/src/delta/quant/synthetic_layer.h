// Synthetic linear layers for tests and benchmarks: a weight delta with Laplace-distributed
// entries (per-row spread varies) and calibration activations shaped like a 7B model's:
// per-channel scales, a low-rank shared component, a non-zero mean, and a few outlier
// input channels whose magnitude is 20–100× the rest.
#pragma once

#include <cstdint>
#include <vector>

namespace meswitch::delta {

struct SyntheticLayerOptions {
    std::int64_t rows = 256;
    std::int64_t cols = 256;
    std::int64_t samples = 256;  // activation vectors
    std::int64_t outliers = 0;   // outlier input channels
    float outlier_min = 20.0f;
    float outlier_max = 100.0f;
    float delta_scale = 1e-3f;  // typical |Δ|
    int latent_rank = 8;        // shared low-rank activation component (0: none)
    std::uint64_t seed = 1;
};

struct SyntheticLayer {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::int64_t samples = 0;
    std::vector<float> delta;                    // rows × cols
    std::vector<float> x;                        // samples × cols
    std::vector<std::int64_t> outlier_channels;  // sorted
};

SyntheticLayer make_synthetic_layer(const SyntheticLayerOptions& options);

}  // namespace meswitch::delta
