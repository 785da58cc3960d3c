#include "add.cuh"
#include "device_util.cuh"

namespace meswitch::kernels {

namespace {

__global__ void add_kernel(float* __restrict__ y, const float* __restrict__ x, std::int64_t n) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        y[i] += x[i];
}

__global__ void add_bias_kernel(float* __restrict__ y, const float* __restrict__ bias,
                                std::int64_t total, std::int64_t n) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         i < total; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        y[i] += bias[i % n];
}

}  // namespace

cudaError_t add_f32(float* y, const float* x, std::int64_t n, cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int threads = 256;
    add_kernel<<<grid_for(n, threads), threads, 0, stream>>>(y, x, n);
    return cudaGetLastError();
}

cudaError_t add_bias_f32(float* y, const float* bias, std::int64_t rows, std::int64_t n,
                         cudaStream_t stream) {
    if (rows <= 0 || n <= 0) return cudaSuccess;
    constexpr int threads = 256;
    add_bias_kernel<<<grid_for(rows * n, threads), threads, 0, stream>>>(y, bias, rows * n, n);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
