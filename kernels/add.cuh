// Residual add and bias add. CPU reference: engine/src/backend/cpu/add.cpp (cpu::add,
// cpu::add_bias).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace meswitch::kernels {

// y[i] += x[i] for i < n.
cudaError_t add_f32(float* y, const float* x, std::int64_t n, cudaStream_t stream);
// y[t, j] += bias[j] for t < rows, j < n.
cudaError_t add_bias_f32(float* y, const float* bias, std::int64_t rows, std::int64_t n,
                         cudaStream_t stream);

}  // namespace meswitch::kernels
