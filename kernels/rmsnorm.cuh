// RMSNorm: y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * w. CPU reference:
// engine/src/backend/cpu/rmsnorm.cpp (meswitch::cpu::rmsnorm).
#pragma once

#include <cuda_runtime.h>

namespace meswitch::kernels {

// x, y: rows × cols row-major float32 device pointers (may alias); w: cols floats.
cudaError_t rmsnorm_f32(const float* x, const float* w, float* y, int rows, int cols, float eps,
                        cudaStream_t stream);

}  // namespace meswitch::kernels
