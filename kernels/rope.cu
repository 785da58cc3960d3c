#include "device_util.cuh"
#include "rope.cuh"

namespace meswitch::kernels {

namespace {

__global__ void rope_kernel(float* __restrict__ x, int heads, int half, std::int64_t row_stride,
                            std::int64_t pos0, const float* __restrict__ inv_freq,
                            std::int64_t total) {
    const std::int64_t id = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (id >= total) return;
    const int i = static_cast<int>(id % half);
    const std::int64_t rest = id / half;
    const int h = static_cast<int>(rest % heads);
    const std::int64_t t = rest / heads;
    // float32 product as torch does; double cos/sin rounded to float like the CPU.
    const float angle = __fmul_rn(static_cast<float>(pos0 + t), inv_freq[i]);
    double s, c;
    sincos(static_cast<double>(angle), &s, &c);
    const float cf = static_cast<float>(c), sf = static_cast<float>(s);
    float* v = x + t * row_stride + static_cast<std::int64_t>(h) * 2 * half;
    const float a = v[i], b = v[i + half];
    v[i] = __fsub_rn(__fmul_rn(a, cf), __fmul_rn(b, sf));
    v[i + half] = __fadd_rn(__fmul_rn(b, cf), __fmul_rn(a, sf));
}

}  // namespace

cudaError_t rope_f32(float* x, int rows, int heads, int head_dim, std::int64_t row_stride,
                     std::int64_t pos0, const float* inv_freq, cudaStream_t stream) {
    if (rows <= 0 || heads <= 0 || head_dim < 2) return cudaSuccess;
    if (head_dim % 2 != 0) return cudaErrorInvalidValue;
    const int half = head_dim / 2;
    const std::int64_t total = static_cast<std::int64_t>(rows) * heads * half;
    constexpr int threads = 256;
    rope_kernel<<<grid_for(total, threads, 0x7fffffffu), threads, 0, stream>>>(
        x, heads, half, row_stride, pos0, inv_freq, total);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
