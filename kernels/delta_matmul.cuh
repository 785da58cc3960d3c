// Separate computation (ME-Switch): y (n × rows) += x (n × cols) · Δ̂ᵀ straight from the
// packed form, never materialising Δ̂:
//   Σ_c x_c Δ̂[r, c] = s_r · (Σ_{c∉S} x_c q_rc − z_r · Σ_{c∉S} x_c) + Σ_{c∈S} x_c v_rc.
// A GEMV for decode (n = 1) and a small-batch GEMM for prefill (tokens in tiles of 8).
// CPU reference: delta::add_delta_product (engine/src/delta/quant/reconstruct.cpp).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "packed_delta.cuh"

namespace meswitch::kernels {

// Floats per token of the gathered coded activations (cols − k rounded up, plus padding
// so that whole packed bytes can be read without bounds checks).
std::int64_t delta_xs_stride(const PackedDelta& delta);

// Scratch floats delta_matmul needs for n tokens: n · (stride + k + 1).
std::int64_t delta_scratch_floats(const PackedDelta& delta, int n);

// y += x · Δ̂ᵀ. x: n × cols, y: n × rows (float32, row-major). scratch: device floats, at
// least delta_scratch_floats(delta, n), 16-byte aligned.
cudaError_t delta_matmul(const PackedDelta& delta, const float* x, int n, float* y, float* scratch,
                         cudaStream_t stream);

}  // namespace meswitch::kernels
