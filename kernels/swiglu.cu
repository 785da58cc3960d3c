#include "device_util.cuh"
#include "swiglu.cuh"

namespace meswitch::kernels {

namespace {

__global__ void swiglu_kernel(const float* gate, const float* up, float* out, std::int64_t n) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

}  // namespace

cudaError_t swiglu_f32(const float* gate, const float* up, float* out, std::int64_t n,
                       cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int threads = 256;
    swiglu_kernel<<<grid_for(n, threads), threads, 0, stream>>>(gate, up, out, n);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
