// Weighted row scatter-add: y[rows[i], :] += weights[i] · src[i, :].
#include "backend/cpu/rows.h"

namespace meswitch::cpu {

void scatter_add_weighted(float* y, std::int64_t cols, const std::int32_t* rows,
                          const float* weights, const float* src, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        float* dst = y + static_cast<std::int64_t>(rows[i]) * cols;
        const float* s = src + i * cols;
        const float w = weights[i];
        for (std::int64_t j = 0; j < cols; ++j) {
            const volatile float product = w * s[j];  // rounded: no fused multiply-add
            dst[j] += product;
        }
    }
}

}  // namespace meswitch::cpu
