#include "device_util.cuh"
#include "embedding.cuh"

namespace meswitch::kernels {

namespace {

template <class T>
__global__ void embedding_kernel(const T* __restrict__ table, std::int64_t cols,
                                 const std::int32_t* __restrict__ ids, float* __restrict__ out) {
    const std::int64_t t = blockIdx.y;
    const T* row = table + static_cast<std::int64_t>(ids[t]) * cols;
    float* dst = out + t * cols;
    for (std::int64_t i = blockIdx.x * blockDim.x + threadIdx.x; i < cols;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        dst[i] = to_f32(row[i]);
}

}  // namespace

cudaError_t embedding(const void* table, WType type, std::int64_t cols, const std::int32_t* ids,
                      int rows, float* out, cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return cudaSuccess;
    if (rows > 65535) return cudaErrorInvalidValue;
    constexpr int threads = 256;
    const dim3 grid(grid_for(cols, threads, 64), static_cast<unsigned>(rows));
    switch (type) {
        case WType::f32:
            embedding_kernel<<<grid, threads, 0, stream>>>(static_cast<const float*>(table), cols,
                                                           ids, out);
            break;
        case WType::f16:
            embedding_kernel<<<grid, threads, 0, stream>>>(static_cast<const __half*>(table), cols,
                                                           ids, out);
            break;
        case WType::bf16:
            embedding_kernel<<<grid, threads, 0, stream>>>(static_cast<const __nv_bfloat16*>(table),
                                                           cols, ids, out);
            break;
    }
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
