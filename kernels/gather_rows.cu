#include "device_util.cuh"
#include "gather_rows.cuh"

namespace meswitch::kernels {

namespace {

__global__ void gather_rows_kernel(const float* __restrict__ src, std::int64_t cols,
                                   const std::int32_t* __restrict__ rows, std::int64_t total,
                                   float* __restrict__ out) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         i < total; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = i / cols, j = i - r * cols;
        out[i] = src[static_cast<std::int64_t>(rows[r]) * cols + j];
    }
}

}  // namespace

cudaError_t gather_rows_f32(const float* src, std::int64_t cols, const std::int32_t* rows,
                            std::int64_t n, float* out, cudaStream_t stream) {
    if (n <= 0 || cols <= 0) return cudaSuccess;
    constexpr int threads = 256;
    gather_rows_kernel<<<grid_for(n * cols, threads), threads, 0, stream>>>(src, cols, rows,
                                                                            n * cols, out);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
