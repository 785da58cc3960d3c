// Numerically stable softmax: subtract the maximum before exponentiating.
#include <algorithm>
#include <cmath>

#include "backend/cpu/ops.h"

namespace meswitch::cpu {

void softmax(float* x, std::int64_t n) {
    if (n <= 0) return;
    const float max = *std::max_element(x, x + n);
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (std::int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace meswitch::cpu
