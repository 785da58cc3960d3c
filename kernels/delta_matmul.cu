// Two steps: (1) one block per token gathers its coded channels into a compact, zero-padded
// row (xs), its salient channels (xk) and Σ xs; (2) one warp per weight row streams the
// row's packed codes (bytes spread across the lanes, coalesced), multiplies them with xs
// for up to 8 tokens at once, adds the salient part and reduces across the warp.
#include "delta_decode.cuh"
#include "delta_matmul.cuh"

namespace meswitch::kernels {

namespace {

constexpr int kGatherThreads = 256;
constexpr int kRowsPerBlock = 4;  // warps per block in the product kernel
constexpr int kTile = 8;          // tokens per launch for n > 1

__global__ void __launch_bounds__(kGatherThreads)
    gather_kernel(PackedDelta d, const float* __restrict__ x, std::int64_t stride,
                  float* __restrict__ xs, float* __restrict__ xk, float* __restrict__ xsum) {
    const std::int64_t t = blockIdx.x;
    const float* xt = x + t * d.cols;
    float* xst = xs + t * stride;
    float sum = 0.f;
    for (std::int64_t c = threadIdx.x; c < d.cols; c += kGatherThreads) {
        const std::int32_t src = d.col_src[c];
        const float v = xt[c];
        if (src >= 0) {
            xst[src] = v;
            sum += v;
        } else {
            xk[t * d.salient + (-src - 1)] = v;
        }
    }
    for (std::int64_t j = (d.cols - d.salient) + threadIdx.x; j < stride; j += kGatherThreads)
        xst[j] = 0.f;
    sum = block_sum(sum);
    if (threadIdx.x == 0) xsum[t] = sum;
}

// BITS: 2 (the default format, decoded with constant shifts) or 0 (any 1..4 at run time).
template <int BITS, int TILE>
__global__ void __launch_bounds__(kRowsPerBlock * 32)
    product_kernel(PackedDelta d, const float* __restrict__ xs, std::int64_t stride,
                   const float* __restrict__ xk, const float* __restrict__ xsum, int n,
                   float* __restrict__ y) {
    const int lane = threadIdx.x % 32;
    const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
    if (r >= d.rows) return;
    const int bits = BITS ? BITS : d.bits;
    const std::uint8_t* row = d.codes + r * d.row_bytes;
    float acc[TILE], sal[TILE];
#pragma unroll
    for (int t = 0; t < TILE; ++t) acc[t] = sal[t] = 0.f;

    if (BITS == 2) {
        // 4 codes per byte; xs rows are 16-byte aligned (stride % 8 == 0), so 4 codes = one float4.
        for (std::int64_t b = lane; b < d.row_bytes; b += 32) {
            const unsigned byte = row[b];
            const float q0 = static_cast<float>(byte & 3u),
                        q1 = static_cast<float>((byte >> 2) & 3u);
            const float q2 = static_cast<float>((byte >> 4) & 3u),
                        q3 = static_cast<float>(byte >> 6);
#pragma unroll
            for (int t = 0; t < TILE; ++t) {
                if (t < n) {
                    const float4 v = *reinterpret_cast<const float4*>(xs + t * stride + 4 * b);
                    acc[t] += q0 * v.x + q1 * v.y + q2 * v.z + q3 * v.w;
                }
            }
        }
    } else {
        const std::int64_t coded = (d.cols - d.salient);
        for (std::int64_t j = lane; j < coded; j += 32) {
            const float q = static_cast<float>(delta_code(row, d.row_bytes, j, bits));
#pragma unroll
            for (int t = 0; t < TILE; ++t)
                if (t < n) acc[t] += q * xs[t * stride + j];
        }
    }
    for (std::int64_t j = lane; j < d.salient; j += 32) {
        const float v = delta_salient(d, r * d.salient + j);
#pragma unroll
        for (int t = 0; t < TILE; ++t)
            if (t < n) sal[t] += xk[t * d.salient + j] * v;
    }
    const float s = delta_scale(d, r), z = delta_zero(d, r);
#pragma unroll
    for (int t = 0; t < TILE; ++t) {
        const float a = warp_sum(acc[t]);
        const float b = warp_sum(sal[t]);
        if (lane == 0 && t < n) y[t * d.rows + r] += s * (a - z * xsum[t]) + b;
    }
}

template <int BITS>
void launch_product(const PackedDelta& d, const float* xs, std::int64_t stride, const float* xk,
                    const float* xsum, int n, float* y, cudaStream_t stream) {
    const unsigned grid = static_cast<unsigned>((d.rows + kRowsPerBlock - 1) / kRowsPerBlock);
    if (n == 1) {
        product_kernel<BITS, 1>
            <<<grid, kRowsPerBlock * 32, 0, stream>>>(d, xs, stride, xk, xsum, 1, y);
        return;
    }
    for (int t0 = 0; t0 < n; t0 += kTile) {
        const int m = n - t0 < kTile ? n - t0 : kTile;
        product_kernel<BITS, kTile><<<grid, kRowsPerBlock * 32, 0, stream>>>(
            d, xs + t0 * stride, stride, xk + static_cast<std::int64_t>(t0) * d.salient, xsum + t0,
            m, y + static_cast<std::int64_t>(t0) * d.rows);
    }
}

}  // namespace

std::int64_t delta_xs_stride(const PackedDelta& d) {
    return ((d.cols - d.salient) + 7) / 8 * 8 + 8;
}

std::int64_t delta_scratch_floats(const PackedDelta& d, int n) {
    // xk rounded up to keep xsum aligned; every part starts 16-byte aligned.
    const std::int64_t k4 = (d.salient + 3) / 4 * 4;
    return static_cast<std::int64_t>(n) * (delta_xs_stride(d) + k4 + 4);
}

cudaError_t delta_matmul(const PackedDelta& d, const float* x, int n, float* y, float* scratch,
                         cudaStream_t stream) {
    if (n <= 0 || d.rows <= 0) return cudaSuccess;
    if (d.bits < 1 || d.bits > 4 || !d.codes || !d.scales || !d.col_src || !scratch ||
        (d.zero_format != 0 && !d.zeros) || (d.salient > 0 && !d.salient_values) ||
        d.rows / kRowsPerBlock >= 0x7fffffff || n > 0x7fffffff / 2)
        return cudaErrorInvalidValue;
    const std::int64_t stride = delta_xs_stride(d);
    const std::int64_t k4 = (d.salient + 3) / 4 * 4;
    float* xs = scratch;
    float* xk = xs + static_cast<std::int64_t>(n) * stride;
    float* xsum = xk + static_cast<std::int64_t>(n) * k4;
    gather_kernel<<<static_cast<unsigned>(n), kGatherThreads, 0, stream>>>(d, x, stride, xs, xk,
                                                                           xsum);
    if (d.bits == 2)
        launch_product<2>(d, xs, stride, xk, xsum, n, y, stream);
    else
        launch_product<0>(d, xs, stride, xk, xsum, n, y, stream);
    return cudaGetLastError();
}

}  // namespace meswitch::kernels
