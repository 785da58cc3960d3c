// Greedy sampling on the device: the index of the largest logit (the first one on ties,
// like std::max_element). CPU reference: std::max_element.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace meswitch::kernels {

// out_index: one device int32. One block; n up to 2^31 − 1.
cudaError_t argmax_f32(const float* x, std::int64_t n, std::int32_t* out_index,
                       cudaStream_t stream);

}  // namespace meswitch::kernels
