// Matrix × matrix for batched prefill, y[t, o] = x[t, :] · W[o, :], weights f32 / f16 / bf16.
// BLIS-style: the activations of up to `chunk` rows are packed once per call k-major
// (xp[k][t], rows padded to whole vectors, shared by all threads); each thread takes a range
// of output features and, for every K-block of `kc` columns, widens MR weight rows into a
// small f32 tile (in L1), then a broadcast micro-kernel accumulates MR outputs × NV vectors
// of rows: per k it loads NV vectors of packed x and broadcasts MR weights (MR × NV FMA
// accumulators, 24 of the 32 zmm registers on AVX-512). Partial sums live in a per-thread
// block [MR][rows] across K-blocks and are transposed into y at the end. Every weight is
// read from memory and widened once per row chunk (the micro-kernel prefetches the weights
// of the tile after next), the packed x block stays in L2. Results do not depend on the
// thread count (threads split outputs, never sums). On synthetic:1b (2 cores, AVX-512) the
// kernel runs at ~125 GFLOP/s a core, ~55% of the measured FMA peak.
// (Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and falls back to SSE3 kernels,
// so a portable Highway kernel is both faster and predictable here.)
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/gemv_amx.h"
#include "backend/cpu/ops.h"
#include "core/thread_pool.h"
#include "meswitch/error.h"

#ifndef MESWITCH_GEMM_ONCE
#define MESWITCH_GEMM_ONCE
namespace meswitch::cpu {
// How a target blocks one call: activation rows per packed chunk (a multiple of its vector
// length) and output features per micro-tile for that many rows.
struct GemmPlan {
    std::int64_t chunk_rows;
    std::int64_t mr;
};

// Columns per K-block: the packed x block (kc × chunk_rows floats, 96 KiB for 64 rows)
// stays in L2 while one thread's tiles pass over it (measured: 384 beats 128-256 by ~10%,
// the tile set-up and partial-sum traffic being amortised over more k).
constexpr std::int64_t gemm_kc = 384;
// Micro-tiles per thread block: their partial sums (tiles × MR × rows floats) stay in L1/L2
// across the K-blocks, and the packed x of the whole K is reread once per block.
constexpr std::int64_t gemm_block_tiles = 16;
// How many tiles ahead the micro-kernel prefetches weights.
constexpr std::int64_t gemm_prefetch_tiles = 2;
}  // namespace meswitch::cpu

// Full unrolling of the register-block loops (GCC at -O2 would keep the accumulators in
// memory otherwise).
#define MESWITCH_UNROLL _Pragma("GCC unroll 32")
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/gemm.cpp"
#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// 32 vector registers (AVX-512): up to 4 vectors of rows × 6 outputs; else (16 registers)
// up to 2 vectors × 6.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr int kMaxNv = 4;
constexpr int MrFor(int nv) {
    return nv == 4 ? 6 : nv == 3 ? 8 : nv == 2 ? 12 : 16;
}
#else
constexpr int kMaxNv = 2;
constexpr int MrFor(int nv) {
    return nv == 2 ? 6 : 12;
}
#endif

std::int64_t Lanes() {
    return static_cast<std::int64_t>(hn::Lanes(hn::ScalableTag<float>()));
}

GemmPlan Plan(std::int64_t rows) {
    const std::int64_t n = Lanes();
    const std::int64_t chunk = kMaxNv * n;
    const std::int64_t first = std::min(rows, chunk);
    const int nv = static_cast<int>((first + n - 1) / n);
    return {chunk, MrFor(nv)};
}

template <int MR, int NV, class D, class V>
HWY_INLINE void Step(D df, const float* HWY_RESTRICT w, const float* HWY_RESTRICT xk,
                     V (&acc)[MR][NV]) {
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    V xv[NV];
    MESWITCH_UNROLL
    for (int v = 0; v < NV; ++v) xv[v] = hn::LoadU(df, xk + v * n);
    MESWITCH_UNROLL
    for (int m = 0; m < MR; ++m) {
        const V b = hn::Set(df, w[m * gemm_kc]);
        MESWITCH_UNROLL
        for (int v = 0; v < NV; ++v) acc[m][v] = hn::MulAdd(b, xv[v], acc[m][v]);
    }
}

// c[m][t] (+)= Σ_k w[m][k] · xp[k][t] for m < MR, t < NV·lanes; w rows are gemm_kc apart,
// xp rows tp apart, c rows tp apart. Prefetches the npf cache lines pf[] (the next tile's
// weights) one every other k, so that their misses overlap the FMAs.
template <int MR, int NV>
HWY_NOINLINE void Micro(const float* HWY_RESTRICT w, const float* HWY_RESTRICT xp, std::int64_t tp,
                        std::int64_t kc, float* HWY_RESTRICT c, bool accumulate,
                        const std::byte* const* pf, std::int64_t npf) {
    const hn::ScalableTag<float> df;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    using V = decltype(hn::Zero(df));
    V acc[MR][NV];
    MESWITCH_UNROLL
    for (int m = 0; m < MR; ++m) {
        MESWITCH_UNROLL
        for (int v = 0; v < NV; ++v)
            acc[m][v] = accumulate ? hn::LoadU(df, c + m * tp + v * n) : hn::Zero(df);
    }
    std::int64_t k = 0;
    for (std::int64_t p = 0; p < npf && k + 2 <= kc; ++p, k += 2) {
        hwy::Prefetch(pf[p]);
        Step<MR, NV>(df, w + k, xp + k * tp, acc);
        Step<MR, NV>(df, w + k + 1, xp + (k + 1) * tp, acc);
    }
    for (; k < kc; ++k) Step<MR, NV>(df, w + k, xp + k * tp, acc);
    MESWITCH_UNROLL
    for (int m = 0; m < MR; ++m) {
        MESWITCH_UNROLL
        for (int v = 0; v < NV; ++v) hn::StoreU(acc[m][v], df, c + m * tp + v * n);
    }
}

// dst[i] = float(src[i]) for i < count.
void WidenRow(DType dtype, const void* src, float* HWY_RESTRICT dst, std::int64_t count) {
    const hn::ScalableTag<float> df;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    std::int64_t i = 0;
    if (dtype == DType::bf16) {
        const hn::RebindToUnsigned<decltype(df)> du32;
        const hn::Rebind<std::uint16_t, decltype(df)> du16;
        const auto* s = static_cast<const std::uint16_t*>(src);
        for (; i + n <= count; i += n) {
            const auto wide = hn::PromoteTo(du32, hn::LoadU(du16, s + i));
            hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(wide)), df, dst + i);
        }
        for (; i < count; ++i) dst[i] = bf16_to_f32(s[i]);
    } else if (dtype == DType::f16) {
        const hn::Rebind<hwy::float16_t, decltype(df)> dh;
        const auto* s = static_cast<const std::uint16_t*>(src);
        const auto* h = reinterpret_cast<const hwy::float16_t*>(s);
        for (; i + n <= count; i += n)
            hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, h + i)), df, dst + i);
        for (; i < count; ++i) dst[i] = f16_to_f32(s[i]);
    } else {
        std::memcpy(dst, src, static_cast<std::size_t>(count) * sizeof(float));
    }
}

// One thread's outputs [o_begin, o_end) for the packed chunk xp (cols × tp floats, nt valid
// rows), written to y rows 0 … nt-1 (ldy floats apart).
template <int NV>
void BlockRange(const Matrix& w, const float* xp, std::int64_t tp, std::int64_t nt,
                std::int64_t o_begin, std::int64_t o_end, float* y, std::int64_t ldy) {
    constexpr int MR = MrFor(NV);
    const std::int64_t k_total = w.cols;
    const std::size_t esize = dtype_size(w.dtype);
    thread_local std::vector<float> wtile, cblock;
    thread_local std::vector<const std::byte*> pf;
    pf.resize(static_cast<std::size_t>(MR * (gemm_kc * 4 / 64 + 1)));
    wtile.resize(static_cast<std::size_t>(MR * gemm_kc));
    cblock.resize(static_cast<std::size_t>(gemm_block_tiles * MR * tp));
    const std::int64_t block_outputs = gemm_block_tiles * MR;
    for (std::int64_t b0 = o_begin; b0 < o_end; b0 += block_outputs) {
        const std::int64_t b1 = std::min(o_end, b0 + block_outputs);
        for (std::int64_t k0 = 0; k0 < k_total; k0 += gemm_kc) {
            const std::int64_t kc = std::min(gemm_kc, k_total - k0);
            for (std::int64_t o = b0; o < b1; o += MR) {
                const std::int64_t mr = std::min<std::int64_t>(MR, b1 - o);
                for (std::int64_t m = 0; m < mr; ++m)
                    WidenRow(w.dtype, w.data + ((o + m) * k_total + k0) * esize,
                             wtile.data() + m * gemm_kc, kc);
                for (std::int64_t m = mr; m < MR; ++m)
                    std::fill_n(wtile.data() + m * gemm_kc, kc, 0.0f);
                // The next tile's weights (the same columns of the next MR rows, or the next
                // K-block's first rows): the block's rows are too many short streams (one
                // 4 KiB page per row) for the hardware prefetchers.
                std::int64_t npf = 0;
                {
                    std::int64_t po = o + gemm_prefetch_tiles * MR, pk = k0;
                    if (po >= b1) po = b0 + (po - b1), pk = k0 + gemm_kc;
                    if (pk < k_total) {
                        const std::int64_t prow = std::min<std::int64_t>(MR, b1 - po);
                        const std::size_t bytes =
                            static_cast<std::size_t>(std::min(gemm_kc, k_total - pk)) * esize;
                        for (std::int64_t m = 0; m < prow; ++m) {
                            const std::byte* row = w.data + ((po + m) * k_total + pk) * esize;
                            for (std::size_t off = 0; off < bytes; off += 64) pf[npf++] = row + off;
                        }
                    }
                }
                Micro<MR, NV>(wtile.data(), xp + k0 * tp, tp, kc, cblock.data() + (o - b0) * tp,
                              k0 > 0, pf.data(), npf);
            }
        }
        // Transpose into y row by row: contiguous stores, strided reads from the (cached)
        // block.
        for (std::int64_t t = 0; t < nt; ++t) {
            float* yr = y + t * ldy;
            const float* c = cblock.data() + t;
            for (std::int64_t o = b0; o < b1; ++o) yr[o] = c[(o - b0) * tp];
        }
    }
}

void GemmRange(const Matrix& w, const float* xp, std::int64_t tp, std::int64_t nt,
               std::int64_t o_begin, std::int64_t o_end, float* y, std::int64_t ldy) {
    const std::int64_t nv = tp / Lanes();
    if constexpr (kMaxNv == 4) {
        if (nv == 4) return BlockRange<4>(w, xp, tp, nt, o_begin, o_end, y, ldy);
        if (nv == 3) return BlockRange<3>(w, xp, tp, nt, o_begin, o_end, y, ldy);
    }
    if (nv == 2) return BlockRange<2>(w, xp, tp, nt, o_begin, o_end, y, ldy);
    BlockRange<1>(w, xp, tp, nt, o_begin, o_end, y, ldy);
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {

HWY_EXPORT(Plan);
HWY_EXPORT(Lanes);
HWY_EXPORT(GemmRange);

void gemm(const float* x, std::int64_t rows, const Matrix& w, float* y, ThreadPool& pool) {
    if (w.dtype != DType::f32 && w.dtype != DType::bf16 && w.dtype != DType::f16)
        throw Error(ErrorKind::unsupported, std::string("matrix multiply: weight dtype ") +
                                                dtype_name(w.dtype) +
                                                " is not supported (F32, F16, BF16)");
    if (rows <= 0 || w.rows <= 0) return;
    if (amx::usable(w)) {
        // bf16 on AMX: the decode batch kernel takes any number of rows (groups of ten, every
        // group passing a run of weight rows while it is in cache) at several times the FMA
        // kernel's arithmetic rate, and a row's result is the same as alone (gemv).
        thread_local std::vector<const float*> xs_here;
        thread_local std::vector<float*> ys_here;
        std::vector<const float*>& xs = xs_here;
        std::vector<float*>& ys = ys_here;
        xs.resize(static_cast<std::size_t>(rows));
        ys.resize(static_cast<std::size_t>(rows));
        for (std::int64_t t = 0; t < rows; ++t) {
            xs[static_cast<std::size_t>(t)] = x + t * w.cols;
            ys[static_cast<std::size_t>(t)] = y + t * w.rows;
        }
        gemv_batch(w, xs, ys, pool, {});
        return;
    }
    const std::int64_t lanes = HWY_DYNAMIC_DISPATCH(Lanes)();
    const std::int64_t k = w.cols;
    const std::int64_t chunk = HWY_DYNAMIC_DISPATCH(Plan)(rows).chunk_rows;
    thread_local std::vector<float> xp;
    for (std::int64_t t0 = 0; t0 < rows; t0 += chunk) {
        const GemmPlan plan = HWY_DYNAMIC_DISPATCH(Plan)(rows - t0);
        const std::int64_t nt = std::min(plan.chunk_rows, rows - t0);
        const std::int64_t tp = (nt + lanes - 1) / lanes * lanes;
        // Pack rows t0 … t0+nt-1 k-major, padded with zero rows up to tp; split across the
        // pool by columns (serial, it was 5% of a 2-thread prefill).
        xp.resize(static_cast<std::size_t>(k * tp));
        float* xw = xp.data();
        pool.parallel_for(
            static_cast<std::size_t>(k),
            [&](std::size_t b, std::size_t e) {
                const auto i0 = static_cast<std::int64_t>(b), i1 = static_cast<std::int64_t>(e);
                for (std::int64_t i = i0; i < i1; ++i)
                    std::fill(xw + i * tp + nt, xw + (i + 1) * tp, 0.0f);
                for (std::int64_t t = 0; t < nt; ++t) {
                    const float* xr = x + (t0 + t) * k;
                    for (std::int64_t i = i0; i < i1; ++i) xw[i * tp + t] = xr[i];
                }
            },
            64);
        const float* xpp = xp.data();
        float* yc = y + t0 * w.rows;
        pool.parallel_for(
            static_cast<std::size_t>(w.rows),
            [&](std::size_t b, std::size_t e) {
                HWY_DYNAMIC_DISPATCH(GemmRange)
                (w, xpp, tp, nt, static_cast<std::int64_t>(b), static_cast<std::int64_t>(e), yc,
                 w.rows);
            },
            static_cast<std::size_t>(plan.mr));
    }
}

}  // namespace meswitch::cpu
#endif  // HWY_ONCE
