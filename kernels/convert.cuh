// Float32 activations rounded to f16 / bf16 (round to nearest even) so that cuBLAS can
// multiply them with f16 / bf16 weights. CPU reference: f32_to_f16 / f32_to_bf16
// (meswitch/tensor.h).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "wtype.cuh"

namespace meswitch::kernels {

// out: n elements of `type` (f16 or bf16; f32 copies).
cudaError_t convert_from_f32(const float* x, void* out, WType type, std::int64_t n,
                             cudaStream_t stream);

}  // namespace meswitch::kernels

namespace meswitch::kernels {

// out[i] = float(x[i]) for n elements of `type` (widening; f32 copies).
cudaError_t convert_to_f32(const void* x, WType type, float* out, std::int64_t n,
                           cudaStream_t stream);

}  // namespace meswitch::kernels
