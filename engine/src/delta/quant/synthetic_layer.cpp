// Synthetic layers (see synthetic_layer.h).
#include "delta/quant/synthetic_layer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace meswitch::delta {

SyntheticLayer make_synthetic_layer(const SyntheticLayerOptions& o) {
    SyntheticLayer l;
    l.rows = o.rows;
    l.cols = o.cols;
    l.samples = o.samples;
    std::mt19937_64 rng(o.seed);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::exponential_distribution<float> expo(1.0f);

    l.delta.resize(static_cast<std::size_t>(o.rows * o.cols));
    for (std::int64_t r = 0; r < o.rows; ++r) {
        const float row_scale = o.delta_scale * std::exp(0.3f * normal(rng));
        for (std::int64_t i = 0; i < o.cols; ++i) {
            const float mag = expo(rng) * row_scale;
            l.delta[static_cast<std::size_t>(r * o.cols + i)] = uniform(rng) < 0.5f ? -mag : mag;
        }
    }

    std::vector<float> gamma(static_cast<std::size_t>(o.cols)),
        mean(static_cast<std::size_t>(o.cols));
    for (std::int64_t i = 0; i < o.cols; ++i) {
        gamma[static_cast<std::size_t>(i)] = std::exp(0.5f * normal(rng));
        mean[static_cast<std::size_t>(i)] = 0.3f * normal(rng);
    }
    std::vector<std::int64_t> order(static_cast<std::size_t>(o.cols));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const std::int64_t outliers = std::min(o.outliers, o.cols);
    l.outlier_channels.assign(order.begin(), order.begin() + outliers);
    std::sort(l.outlier_channels.begin(), l.outlier_channels.end());
    for (std::int64_t c : l.outlier_channels)
        gamma[static_cast<std::size_t>(c)] *=
            o.outlier_min + (o.outlier_max - o.outlier_min) * uniform(rng);

    const int rank = std::max(0, o.latent_rank);
    std::vector<float> a(static_cast<std::size_t>(rank * o.cols));
    for (float& v : a) v = normal(rng) * 0.7f / std::sqrt(static_cast<float>(std::max(1, rank)));
    l.x.resize(static_cast<std::size_t>(o.samples * o.cols));
    std::vector<float> z(static_cast<std::size_t>(rank));
    for (std::int64_t t = 0; t < o.samples; ++t) {
        for (float& v : z) v = normal(rng);
        for (std::int64_t i = 0; i < o.cols; ++i) {
            float v = mean[static_cast<std::size_t>(i)] + 0.7f * normal(rng);
            for (int j = 0; j < rank; ++j)
                v += z[static_cast<std::size_t>(j)] * a[static_cast<std::size_t>(j * o.cols + i)];
            l.x[static_cast<std::size_t>(t * o.cols + i)] = gamma[static_cast<std::size_t>(i)] * v;
        }
    }
    return l;
}

}  // namespace meswitch::delta
