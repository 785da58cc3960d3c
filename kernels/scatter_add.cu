#include "device_util.cuh"
#include "scatter_add.cuh"

namespace meswitch::kernels {

namespace {

__global__ void scatter_add_kernel(float* __restrict__ y, std::int64_t cols,
                                   const std::int32_t* __restrict__ rows,
                                   const float* __restrict__ weights, const float* __restrict__ src,
                                   std::int64_t total) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         i < total; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = i / cols, j = i - r * cols;
        float* dst = y + static_cast<std::int64_t>(rows[r]) * cols + j;
        *dst = __fadd_rn(*dst, __fmul_rn(weights[r], src[i]));
    }
}

}  // namespace

cudaError_t scatter_add_weighted_f32(float* y, std::int64_t cols, const std::int32_t* rows,
                                     const float* weights, const float* src, std::int64_t n,
                                     cudaStream_t stream) {
    if (n <= 0 || cols <= 0) return cudaSuccess;
    constexpr int threads = 256;
    scatter_add_kernel<<<grid_for(n * cols, threads), threads, 0, stream>>>(y, cols, rows, weights,
                                                                            src, n * cols);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
