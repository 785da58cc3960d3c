// SwiGLU feed-forward activation: silu(gate) · up, silu(g) = g / (1 + e^-g).
#include <cmath>

#include "backend/cpu/ops.h"

namespace meswitch::cpu {

void swiglu(const float* gate, const float* up, float* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const float g = gate[i];
        out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
}

}  // namespace meswitch::cpu
