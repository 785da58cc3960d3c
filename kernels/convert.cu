#include "convert.cuh"
#include "device_util.cuh"

namespace meswitch::kernels {

namespace {

template <class T>
__global__ void convert_kernel(const float* __restrict__ x, T* __restrict__ out, std::int64_t n) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        out[i] = from_f32<T>(x[i]);
}

template <class T>
__global__ void widen_kernel(const T* __restrict__ x, float* __restrict__ out, std::int64_t n) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        out[i] = to_f32(x[i]);
}

}  // namespace

cudaError_t convert_to_f32(const void* x, WType type, float* out, std::int64_t n,
                           cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int threads = 256;
    const unsigned grid = grid_for(n, threads);
    switch (type) {
        case WType::f32:
            return cudaMemcpyAsync(out, x, static_cast<std::size_t>(n) * 4,
                                   cudaMemcpyDeviceToDevice, stream);
        case WType::f16:
            widen_kernel<<<grid, threads, 0, stream>>>(static_cast<const __half*>(x), out, n);
            break;
        case WType::bf16:
            widen_kernel<<<grid, threads, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), out,
                                                       n);
            break;
    }
    return cudaGetLastError();
}

cudaError_t convert_from_f32(const float* x, void* out, WType type, std::int64_t n,
                             cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int threads = 256;
    const unsigned grid = grid_for(n, threads);
    switch (type) {
        case WType::f32:
            return cudaMemcpyAsync(out, x, static_cast<std::size_t>(n) * 4,
                                   cudaMemcpyDeviceToDevice, stream);
        case WType::f16:
            convert_kernel<<<grid, threads, 0, stream>>>(x, static_cast<__half*>(out), n);
            break;
        case WType::bf16:
            convert_kernel<<<grid, threads, 0, stream>>>(x, static_cast<__nv_bfloat16*>(out), n);
            break;
    }
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
