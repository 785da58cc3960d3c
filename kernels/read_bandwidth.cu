#include "device_util.cuh"
#include "read_bandwidth.cuh"

namespace meswitch::kernels {

namespace {

__global__ void read_sum_kernel(const float4* __restrict__ x, std::int64_t n4, float* sink) {
    float s = 0.f;
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n4;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const float4 v = x[i];
        s += (v.x + v.y) + (v.z + v.w);
    }
    s = warp_sum(s);
    if (threadIdx.x % 32 == 0 && s == 12345.678f) atomicAdd(sink, s);  // keeps the loads alive
}

}  // namespace

cudaError_t read_sum_f32(const float* x, std::int64_t n, float* sink, cudaStream_t stream) {
    if (n <= 0 || n % 4 != 0) return cudaErrorInvalidValue;
    int device = 0, sms = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    const unsigned blocks = static_cast<unsigned>((sms > 0 ? sms : 80) * 8);
    read_sum_kernel<<<blocks, 512, 0, stream>>>(reinterpret_cast<const float4*>(x), n / 4, sink);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
