// Token embedding gather: out[t, :] = float(table[ids[t], :]). CPU reference:
// engine/src/backend/cpu/embedding.cpp (meswitch::cpu::embedding).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "wtype.cuh"

namespace meswitch::kernels {

// table: vocab × cols of `type`; ids: `rows` device int32 already checked to be < vocab;
// out: rows × cols float32.
cudaError_t embedding(const void* table, WType type, std::int64_t cols, const std::int32_t* ids,
                      int rows, float* out, cudaStream_t stream);

}  // namespace meswitch::kernels
