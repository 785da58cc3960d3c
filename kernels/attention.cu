// One block per (query head, query row); its warps take every kWarps-th key and keep an
// online softmax (running max, sum, weighted values in registers: head_dim / 32 floats per
// lane), merged across warps at the end. Keys and values are read as whole coalesced rows.
#include "attention.cuh"
#include "device_util.cuh"

namespace meswitch::kernels {

namespace {

constexpr int kWarps = 8;
constexpr int kPerLane = attention_max_head_dim / 32;

__global__ void __launch_bounds__(kWarps * 32) attention_kernel(AttentionArgs a) {
    const int h = blockIdx.x, t = blockIdx.y;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int d = a.head_dim;
    const int kvh = h / (a.heads / a.kv_heads);
    const std::int64_t pos = a.pos0 + t;
    const std::int64_t first = a.window > 0 ? max(std::int64_t{0}, pos - a.window + 1) : 0;
    const float scale = 1.0f / sqrtf(static_cast<float>(d));
    const float* qh =
        a.q + static_cast<std::int64_t>(t) * a.heads * d + static_cast<std::int64_t>(h) * d;

    float qr[kPerLane], acc[kPerLane];
#pragma unroll
    for (int e = 0; e < kPerLane; ++e) {
        const int i = lane + 32 * e;
        qr[e] = i < d ? qh[i] : 0.f;
        acc[e] = 0.f;
    }
    float m = -INFINITY, l = 0.f;
    for (std::int64_t j = first + warp; j <= pos; j += kWarps) {
        const float* k = a.keys + j * a.kv_stride + static_cast<std::int64_t>(kvh) * d;
        const float* v = a.values + j * a.kv_stride + static_cast<std::int64_t>(kvh) * d;
        float dot = 0.f;
#pragma unroll
        for (int e = 0; e < kPerLane; ++e) {
            const int i = lane + 32 * e;
            if (i < d) dot += qr[e] * k[i];
        }
        const float s = warp_sum(dot) * scale;
        const float m_new = fmaxf(m, s);
        const float corr = expf(m - m_new);  // 0 for the first key (m = -inf)
        const float p = expf(s - m_new);
        l = l * corr + p;
#pragma unroll
        for (int e = 0; e < kPerLane; ++e) {
            const int i = lane + 32 * e;
            if (i < d) acc[e] = acc[e] * corr + p * v[i];
        }
        m = m_new;
    }

    __shared__ float sm_m[kWarps], sm_l[kWarps];
    __shared__ float sm_acc[kWarps][attention_max_head_dim];
    if (lane == 0) {
        sm_m[warp] = m;
        sm_l[warp] = l;
    }
#pragma unroll
    for (int e = 0; e < kPerLane; ++e) {
        const int i = lane + 32 * e;
        if (i < d) sm_acc[warp][i] = acc[e];
    }
    __syncthreads();
    float big = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) big = fmaxf(big, sm_m[w]);
    float total = 0.f, wgt[kWarps];
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
        wgt[w] = sm_l[w] > 0.f ? expf(sm_m[w] - big) : 0.f;  // warps without keys add nothing
        total += sm_l[w] * wgt[w];
    }
    float* out =
        a.out + static_cast<std::int64_t>(t) * a.heads * d + static_cast<std::int64_t>(h) * d;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) sum += sm_acc[w][i] * wgt[w];
        out[i] = sum / total;
    }
}

}  // namespace

cudaError_t attention_f32(const AttentionArgs& a, cudaStream_t stream) {
    if (a.rows <= 0) return cudaSuccess;
    if (a.heads <= 0 || a.kv_heads <= 0 || a.heads % a.kv_heads != 0 || a.head_dim <= 0 ||
        a.head_dim > attention_max_head_dim || a.rows > 65535 || a.pos0 < 0 || a.window < 0)
        return cudaErrorInvalidValue;
    const dim3 grid(static_cast<unsigned>(a.heads), static_cast<unsigned>(a.rows));
    attention_kernel<<<grid, kWarps * 32, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
