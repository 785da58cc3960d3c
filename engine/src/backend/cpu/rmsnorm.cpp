// RMSNorm (Llama): y = x · rsqrt(mean(x²) + eps) · weight.
#include <cmath>

#include "backend/cpu/ops.h"

namespace meswitch::cpu {

void rmsnorm(const float* x, const float* weight, float* y, std::int64_t rows, std::int64_t n,
             float eps) {
    for (std::int64_t t = 0; t < rows; ++t) {
        const float* xr = x + t * n;
        float* yr = y + t * n;
        double sum = 0.0;
        for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
        const float scale = static_cast<float>(
            1.0 / std::sqrt(sum / static_cast<double>(n) + static_cast<double>(eps)));
        for (std::int64_t i = 0; i < n; ++i) yr[i] = weight[i] * (xr[i] * scale);
    }
}

}  // namespace meswitch::cpu
