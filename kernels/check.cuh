// Error checking for CUDA calls: failures report the statement, file and line.
#pragma once

#include <cuda_runtime.h>

#include <string>

namespace meswitch::kernels {

// Formats "cudaMalloc(&p, n) failed at kernels/x.cu:42: out of memory".
std::string describe_cuda_error(cudaError_t err, const char* stmt, const char* file, int line);

}  // namespace meswitch::kernels
