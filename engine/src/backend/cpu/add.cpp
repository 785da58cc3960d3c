// Residual and bias additions.
#include "backend/cpu/ops.h"

namespace meswitch::cpu {

void add(float* y, const float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
}

void add_bias(float* y, const float* bias, std::int64_t rows, std::int64_t n) {
    for (std::int64_t t = 0; t < rows; ++t) add(y + t * n, bias, static_cast<std::size_t>(n));
}

}  // namespace meswitch::cpu
