// SwiGLU activation: out[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^-g). CPU
// reference: engine/src/backend/cpu/swiglu.cpp (cpu::swiglu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace meswitch::kernels {

// out may alias gate or up.
cudaError_t swiglu_f32(const float* gate, const float* up, float* out, std::int64_t n,
                       cudaStream_t stream);

}  // namespace meswitch::kernels
