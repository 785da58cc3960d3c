// Weighted row scatter-add: y[rows[i], :] += weights[i] · src[i, :], used to add one MoE
// expert's outputs back to the tokens routed to it. The product is rounded before the add
// (no fused multiply-add), like the CPU. CPU reference: engine/src/backend/cpu/scatter_add.cpp
// (cpu::scatter_add_weighted).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace meswitch::kernels {

// src is n × cols; rows[0, n) (device int32) are distinct valid rows of y (… × cols), so
// that no two threads add into the same element; weights[0, n) device floats.
cudaError_t scatter_add_weighted_f32(float* y, std::int64_t cols, const std::int32_t* rows,
                                     const float* weights, const float* src, std::int64_t n,
                                     cudaStream_t stream);

}  // namespace meswitch::kernels
