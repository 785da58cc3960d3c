// Streaming read of a device buffer (16-byte loads, summed so the reads stay), used to
// measure the memory bandwidth that bounds decode speed. CPU counterpart:
// engine/src/backend/cpu/read_sum.cpp.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace meswitch::kernels {

// Reads n floats (n a multiple of 4, x 16-byte aligned); adds their sum into *sink.
cudaError_t read_sum_f32(const float* x, std::int64_t n, float* sink, cudaStream_t stream);

}  // namespace meswitch::kernels
