// Delta apply (ME-Switch "merge"): out = round(W_base + Δ̂) in W's dtype, decoded straight
// from the packed codes, step sizes, zero points and 16-bit salient columns. out may be the
// base itself (in place). The result is bit-identical to the CPU reference
// cpu::apply_delta (engine/src/backend/cpu/delta_apply.cpp): float(W) + Δ̂ in float32,
// rounded to nearest even.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "packed_delta.cuh"
#include "wtype.cuh"

namespace meswitch::kernels {

// base, out: rows × cols of `type`, row-major.
cudaError_t delta_apply(const PackedDelta& delta, const void* base, void* out, WType type,
                        cudaStream_t stream);

// Dense delta (embeddings, head, norms kept uncompressed): out[i] = round(base[i] + d[i])
// for n elements; base/out of `type`, d of `delta_type`. Same rounding as delta_apply.
cudaError_t dense_delta_apply(const void* base, void* out, WType type, const void* d,
                              WType delta_type, std::int64_t n, cudaStream_t stream);

}  // namespace meswitch::kernels
