// Rotary position embeddings, Hugging Face convention: the rotated pairs are (i, i + d/2)
// ("rotate_half"), inv_freq[i] = theta^(-2i/d), optionally rescaled as transformers'
// _compute_linear_scaling_rope_parameters / _compute_llama3_parameters do.
#include <cmath>
#include <numbers>

#include "backend/cpu/ops.h"

namespace meswitch::cpu {

std::vector<float> rope_inv_freq(std::int64_t head_dim, double theta, const RopeScaling& scaling) {
    const std::int64_t half = head_dim / 2;
    std::vector<float> inv(static_cast<std::size_t>(half));
    for (std::int64_t i = 0; i < half; ++i) {
        // float32 like torch: 1 / base ** (arange(0, d, 2).float() / d)
        const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
        inv[i] = 1.0f / std::pow(static_cast<float>(theta), exponent);
    }
    switch (scaling.type) {
        case RopeScaling::Type::none:
            break;
        case RopeScaling::Type::linear:
            for (float& f : inv) f = static_cast<float>(f / scaling.factor);
            break;
        case RopeScaling::Type::llama3: {
            const double old_len = static_cast<double>(scaling.original_max_position_embeddings);
            const double low_wavelen = old_len / scaling.low_freq_factor;
            const double high_wavelen = old_len / scaling.high_freq_factor;
            for (float& f : inv) {
                const double freq = f;
                const double wavelen = 2.0 * std::numbers::pi / freq;
                double out = freq;
                if (wavelen > low_wavelen) {
                    out = freq / scaling.factor;
                } else if (!(wavelen < high_wavelen)) {
                    // medium frequencies: interpolate between scaled and unscaled
                    const double smooth = (old_len / wavelen - scaling.low_freq_factor) /
                                          (scaling.high_freq_factor - scaling.low_freq_factor);
                    out = (1.0 - smooth) * freq / scaling.factor + smooth * freq;
                }
                f = static_cast<float>(out);
            }
            break;
        }
    }
    return inv;
}

void rope(float* x, std::int64_t rows, std::int64_t heads, std::int64_t head_dim, std::int64_t pos0,
          const std::vector<float>& inv_freq) {
    const std::int64_t half = head_dim / 2;
    std::vector<float> cos_t(static_cast<std::size_t>(half)), sin_t(static_cast<std::size_t>(half));
    for (std::int64_t t = 0; t < rows; ++t) {
        const float pos = static_cast<float>(pos0 + t);
        for (std::int64_t i = 0; i < half; ++i) {
            const float angle = pos * inv_freq[i];  // float32 product, as torch does
            cos_t[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
            sin_t[i] = static_cast<float>(std::sin(static_cast<double>(angle)));
        }
        float* row = x + t * heads * head_dim;
        for (std::int64_t h = 0; h < heads; ++h) {
            float* v = row + h * head_dim;
            for (std::int64_t i = 0; i < half; ++i) {
                const float a = v[i], b = v[i + half];
                v[i] = a * cos_t[i] - b * sin_t[i];
                v[i + half] = b * cos_t[i] + a * sin_t[i];
            }
        }
    }
}

}  // namespace meswitch::cpu
