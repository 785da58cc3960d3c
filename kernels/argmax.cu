#include "argmax.cuh"
#include "device_util.cuh"

namespace meswitch::kernels {

namespace {

constexpr int kThreads = 1024;

__device__ __forceinline__ void better(float& v, std::int64_t& i, float v2, std::int64_t i2) {
    // NaN never wins; ties go to the lower index.
    if (v2 > v || (v2 == v && i2 < i) || (v != v && v2 == v2)) {
        v = v2;
        i = i2;
    }
}

__global__ void argmax_kernel(const float* __restrict__ x, std::int64_t n,
                              std::int32_t* __restrict__ out) {
    float v = -INFINITY;
    std::int64_t idx = n;  // "none yet"
    for (std::int64_t i = threadIdx.x; i < n; i += kThreads) better(v, idx, x[i], i);
    for (int off = 16; off > 0; off >>= 1) {
        const float v2 = __shfl_xor_sync(0xffffffffu, v, off);
        const std::int64_t i2 = __shfl_xor_sync(0xffffffffu, idx, off);
        better(v, idx, v2, i2);
    }
    __shared__ float sv[kThreads / 32];
    __shared__ std::int64_t si[kThreads / 32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) {
        sv[warp] = v;
        si[warp] = idx;
    }
    __syncthreads();
    if (warp == 0) {
        v = sv[lane];
        idx = si[lane];
        for (int off = 16; off > 0; off >>= 1) {
            const float v2 = __shfl_xor_sync(0xffffffffu, v, off);
            const std::int64_t i2 = __shfl_xor_sync(0xffffffffu, idx, off);
            better(v, idx, v2, i2);
        }
        if (lane == 0) *out = static_cast<std::int32_t>(idx < n ? idx : 0);
    }
}

}  // namespace

cudaError_t argmax_f32(const float* x, std::int64_t n, std::int32_t* out_index,
                       cudaStream_t stream) {
    if (n <= 0 || n > 0x7fffffff) return cudaErrorInvalidValue;
    argmax_kernel<<<1, kThreads, 0, stream>>>(x, n, out_index);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
