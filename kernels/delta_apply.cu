// One block per weight row; each thread handles columns c = threadIdx.x + k·blockDim.x,
// so the weight reads and writes are coalesced; the row's packed codes (1/8 of a bf16 row
// at 2 bits) and the column map stay in L1.
#include "delta_apply.cuh"
#include "delta_decode.cuh"

namespace meswitch::kernels {

namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void __launch_bounds__(kThreads)
    delta_apply_kernel(PackedDelta d, const T* base, T* out) {
    for (std::int64_t r = blockIdx.x; r < d.rows; r += gridDim.x) {
        const std::uint8_t* row = d.codes + r * d.row_bytes;
        const float s = delta_scale(d, r), z = delta_zero(d, r);
        const T* b = base + r * d.cols;
        T* o = out + r * d.cols;
        for (std::int64_t c = threadIdx.x; c < d.cols; c += kThreads) {
            const float v = delta_value(d, row, r, c, s, z);
            o[c] = from_f32<T>(__fadd_rn(to_f32(b[c]), v));
        }
    }
}

template <class T, class D>
__global__ void dense_apply_kernel(const T* base, T* out, const D* d, std::int64_t n) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        out[i] = from_f32<T>(__fadd_rn(to_f32(base[i]), to_f32(d[i])));
}

template <class T>
cudaError_t dense_for(const T* base, T* out, const void* d, WType delta_type, std::int64_t n,
                      cudaStream_t stream) {
    const unsigned grid = grid_for(n, kThreads);
    switch (delta_type) {
        case WType::f32:
            dense_apply_kernel<<<grid, kThreads, 0, stream>>>(base, out,
                                                              static_cast<const float*>(d), n);
            break;
        case WType::f16:
            dense_apply_kernel<<<grid, kThreads, 0, stream>>>(base, out,
                                                              static_cast<const __half*>(d), n);
            break;
        case WType::bf16:
            dense_apply_kernel<<<grid, kThreads, 0, stream>>>(
                base, out, static_cast<const __nv_bfloat16*>(d), n);
            break;
    }
    return cudaGetLastError();
}

}  // namespace

cudaError_t delta_apply(const PackedDelta& d, const void* base, void* out, WType type,
                        cudaStream_t stream) {
    if (d.rows <= 0 || d.cols <= 0) return cudaSuccess;
    if (d.bits < 1 || d.bits > 4 || !d.codes || !d.scales || !d.col_src ||
        (d.zero_format != 0 && !d.zeros) || (d.salient > 0 && !d.salient_values))
        return cudaErrorInvalidValue;
    const unsigned grid = static_cast<unsigned>(d.rows < 65535 * 8 ? d.rows : 65535 * 8);
    switch (type) {
        case WType::f32:
            delta_apply_kernel<<<grid, kThreads, 0, stream>>>(d, static_cast<const float*>(base),
                                                              static_cast<float*>(out));
            break;
        case WType::f16:
            delta_apply_kernel<<<grid, kThreads, 0, stream>>>(d, static_cast<const __half*>(base),
                                                              static_cast<__half*>(out));
            break;
        case WType::bf16:
            delta_apply_kernel<<<grid, kThreads, 0, stream>>>(
                d, static_cast<const __nv_bfloat16*>(base), static_cast<__nv_bfloat16*>(out));
            break;
    }
    return cudaGetLastError();
}

cudaError_t dense_delta_apply(const void* base, void* out, WType type, const void* d,
                              WType delta_type, std::int64_t n, cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    switch (type) {
        case WType::f32:
            return dense_for(static_cast<const float*>(base), static_cast<float*>(out), d,
                             delta_type, n, stream);
        case WType::f16:
            return dense_for(static_cast<const __half*>(base), static_cast<__half*>(out), d,
                             delta_type, n, stream);
        case WType::bf16:
            return dense_for(static_cast<const __nv_bfloat16*>(base),
                             static_cast<__nv_bfloat16*>(out), d, delta_type, n, stream);
    }
    return cudaErrorInvalidValue;
}

}  // namespace meswitch::kernels
