#include "rmsnorm.cuh"

namespace meswitch::kernels {

namespace {

constexpr int kThreads = 256;

__global__ void rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ w,
                               float* __restrict__ y, int cols, float eps) {
    const float* row = x + static_cast<size_t>(blockIdx.x) * cols;
    float* out = y + static_cast<size_t>(blockIdx.x) * cols;
    float sum = 0.f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) sum += row[i] * row[i];
    // Warp reduction, then across warps through shared memory.
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    __shared__ float warp_sums[kThreads / 32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) warp_sums[warp] = sum;
    __syncthreads();
    if (warp == 0) {
        sum = lane < (blockDim.x / 32) ? warp_sums[lane] : 0.f;
        for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
        if (lane == 0) warp_sums[0] = sum;
    }
    __syncthreads();
    const float scale = rsqrtf(warp_sums[0] / cols + eps);
    for (int i = threadIdx.x; i < cols; i += blockDim.x) out[i] = row[i] * scale * w[i];
}

}  // namespace

cudaError_t rmsnorm_f32(const float* x, const float* w, float* y, int rows, int cols, float eps,
                        cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return cudaSuccess;
    rmsnorm_kernel<<<rows, kThreads, 0, stream>>>(x, w, y, cols, eps);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
