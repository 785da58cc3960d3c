// Rotary position embeddings, Hugging Face rotate_half convention (pairs (i, i + d/2)).
// The inverse frequencies (with linear / llama3 scaling) come from the CPU's
// cpu::rope_inv_freq; the rotation matches engine/src/backend/cpu/rope.cpp (cpu::rope):
// angle = float(pos) · inv_freq[i] in float32, cos/sin evaluated in double then rounded.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace meswitch::kernels {

// x: `rows` rows of heads × head_dim floats, row t starting at x + t · row_stride, at
// position pos0 + t; rotated in place. inv_freq: head_dim / 2 device floats.
cudaError_t rope_f32(float* x, int rows, int heads, int head_dim, std::int64_t row_stride,
                     std::int64_t pos0, const float* inv_freq, cudaStream_t stream);

}  // namespace meswitch::kernels
