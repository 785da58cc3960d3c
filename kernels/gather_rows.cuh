// Row gather: out[i, :] = src[rows[i], :], used to batch the tokens routed to one MoE expert.
// CPU reference: engine/src/backend/cpu/gather_rows.cpp (cpu::gather_rows).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace meswitch::kernels {

// out (n × cols) = the rows of src (… × cols) named by rows[0, n) (device int32 indices,
// each a valid row of src). out must not overlap src.
cudaError_t gather_rows_f32(const float* src, std::int64_t cols, const std::int32_t* rows,
                            std::int64_t n, float* out, cudaStream_t stream);

}  // namespace meswitch::kernels
