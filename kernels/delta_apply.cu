// One block per weight row (grid-strided); each thread handles 16 consecutive bytes of
// the row per step when the row allows it (else one column), so the weight reads and writes
// are coalesced and wide; the row's packed codes (1/8 of a bf16 row at 2 bits) and the
// column map stay in L1.
#include "delta_apply.cuh"
#include "delta_decode.cuh"

namespace meswitch::kernels {

namespace {

constexpr int kThreads = 256;

// VEC: each thread handles 16 bytes of the row (8 bf16/f16 or 4 f32 columns) with one
// load and one store; needs cols a multiple of that and 16-byte aligned rows.
template <class T, bool VEC>
__global__ void __launch_bounds__(kThreads)
    delta_apply_kernel(PackedDelta d, const T* base, T* out) {
    constexpr int V = 16 / sizeof(T);
    for (std::int64_t r = blockIdx.x; r < d.rows; r += gridDim.x) {
        const std::uint8_t* row = d.codes + r * d.row_bytes;
        const float s = delta_scale(d, r), z = delta_zero(d, r);
        const T* b = base + r * d.cols;
        T* o = out + r * d.cols;
        if (VEC) {
            for (std::int64_t c0 = static_cast<std::int64_t>(threadIdx.x) * V; c0 < d.cols;
                 c0 += static_cast<std::int64_t>(kThreads) * V) {
                union {
                    uint4 raw;
                    T v[V];
                } in, res;
                in.raw = *reinterpret_cast<const uint4*>(b + c0);
#pragma unroll
                for (int e = 0; e < V; ++e)
                    res.v[e] = from_f32<T>(
                        __fadd_rn(to_f32(in.v[e]), delta_value(d, row, r, c0 + e, s, z)));
                *reinterpret_cast<uint4*>(o + c0) = res.raw;
            }
        } else {
            for (std::int64_t c = threadIdx.x; c < d.cols; c += kThreads) {
                const float v = delta_value(d, row, r, c, s, z);
                o[c] = from_f32<T>(__fadd_rn(to_f32(b[c]), v));
            }
        }
    }
}

template <class T>
void launch_apply(const PackedDelta& d, const void* base, void* out, unsigned grid,
                  cudaStream_t stream) {
    constexpr int V = 16 / sizeof(T);
    const bool vec = d.cols % V == 0 && reinterpret_cast<std::uintptr_t>(base) % 16 == 0 &&
                     reinterpret_cast<std::uintptr_t>(out) % 16 == 0;
    const T* b = static_cast<const T*>(base);
    T* o = static_cast<T*>(out);
    if (vec)
        delta_apply_kernel<T, true><<<grid, kThreads, 0, stream>>>(d, b, o);
    else
        delta_apply_kernel<T, false><<<grid, kThreads, 0, stream>>>(d, b, o);
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
            launch_apply<float>(d, base, out, grid, stream);
            break;
        case WType::f16:
            launch_apply<__half>(d, base, out, grid, stream);
            break;
        case WType::bf16:
            launch_apply<__nv_bfloat16>(d, base, out, grid, stream);
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
