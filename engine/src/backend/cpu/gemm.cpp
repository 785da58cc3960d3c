// Matrix × matrix for batched prefill, y[t, o] = x[t, :] · W[o, :], weights f32 / f16 / bf16
// widened in registers (no f32 copy of the weights). Register-blocked: 4 weight rows × up to
// 4 activation rows per micro-kernel call, 16 FMA accumulators, the weight block staying in
// L1 while activation rows stream from L2. bf16 uses the even/odd pair trick of gemv.cpp.
// (Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and falls back to SSE3 kernels,
// so a portable Highway kernel is both faster and predictable here.)
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/ops.h"
#include "core/thread_pool.h"
#include "meswitch/error.h"

#ifndef MESWITCH_GEMM_ACTS_ONCE
#define MESWITCH_GEMM_ACTS_ONCE
namespace meswitch::cpu {
// Activations prepared for one dtype: for bf16 every row is also split into even and odd
// halves (`pairs` floats each); other dtypes use the rows as they are.
struct GemmActs {
    const float* x;     // rows × cols
    const float* even;  // rows × pairs (bf16 only)
    const float* odd;   // rows × pairs (bf16 only)
    std::int64_t cols;
    std::int64_t pairs;
};
}  // namespace meswitch::cpu
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/gemm.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <int NT, int NO>
void BlockBf16(const std::uint16_t* w, const GemmActs& a, std::int64_t t0, std::int64_t o0,
               float* y, std::int64_t ldy) {
    const hn::ScalableTag<float> df;
    const hn::RebindToUnsigned<decltype(df)> du;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const std::int64_t vec_pairs = a.pairs - a.pairs % n;
    const auto mask = hn::Set(du, 0xFFFF0000u);
    using V = decltype(hn::Zero(df));
    V acc[NT][NO];
    for (int t = 0; t < NT; ++t)
        for (int o = 0; o < NO; ++o) acc[t][o] = hn::Zero(df);
    const std::uint32_t* wp[NO];
    for (int o = 0; o < NO; ++o)
        wp[o] = reinterpret_cast<const std::uint32_t*>(w + (o0 + o) * a.cols);
    for (std::int64_t j = 0; j < vec_pairs; j += n) {
        V lo[NO], hi[NO];
        for (int o = 0; o < NO; ++o) {
            const auto v = hn::LoadU(du, wp[o] + j);
            lo[o] = hn::BitCast(df, hn::ShiftLeft<16>(v));
            hi[o] = hn::BitCast(df, hn::And(v, mask));
        }
        for (int t = 0; t < NT; ++t) {
            const auto xe = hn::LoadU(df, a.even + (t0 + t) * a.pairs + j);
            const auto xo = hn::LoadU(df, a.odd + (t0 + t) * a.pairs + j);
            for (int o = 0; o < NO; ++o) {
                acc[t][o] = hn::MulAdd(lo[o], xe, acc[t][o]);
                acc[t][o] = hn::MulAdd(hi[o], xo, acc[t][o]);
            }
        }
    }
    for (int t = 0; t < NT; ++t) {
        const float* xr = a.x + (t0 + t) * a.cols;
        for (int o = 0; o < NO; ++o) {
            float s = hn::GetLane(hn::SumOfLanes(df, acc[t][o]));
            const std::uint16_t* wr = w + (o0 + o) * a.cols;
            for (std::int64_t i = 2 * vec_pairs; i < a.cols; ++i) {
                const std::uint32_t u = static_cast<std::uint32_t>(wr[i]) << 16;
                float f;
                std::memcpy(&f, &u, sizeof f);
                s += f * xr[i];
            }
            y[(t0 + t) * ldy + o0 + o] = s;
        }
    }
}

// f32 and f16 weights: widen with LoadU / PromoteTo, x used directly.
template <int NT, int NO, typename W>
void BlockDirect(const W* w, const GemmActs& a, std::int64_t t0, std::int64_t o0, float* y,
                 std::int64_t ldy) {
    const hn::ScalableTag<float> df;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const std::int64_t vec_end = a.cols - a.cols % n;
    using V = decltype(hn::Zero(df));
    V acc[NT][NO];
    for (int t = 0; t < NT; ++t)
        for (int o = 0; o < NO; ++o) acc[t][o] = hn::Zero(df);
    const W* wp[NO];
    for (int o = 0; o < NO; ++o) wp[o] = w + (o0 + o) * a.cols;
    for (std::int64_t i = 0; i < vec_end; i += n) {
        V wv[NO];
        for (int o = 0; o < NO; ++o) {
            if constexpr (sizeof(W) == 4) {
                wv[o] = hn::LoadU(df, reinterpret_cast<const float*>(wp[o]) + i);
            } else {
                const hn::Rebind<hwy::float16_t, decltype(df)> dh;
                wv[o] = hn::PromoteTo(
                    df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(wp[o]) + i));
            }
        }
        for (int t = 0; t < NT; ++t) {
            const auto xv = hn::LoadU(df, a.x + (t0 + t) * a.cols + i);
            for (int o = 0; o < NO; ++o) acc[t][o] = hn::MulAdd(wv[o], xv, acc[t][o]);
        }
    }
    for (int t = 0; t < NT; ++t) {
        const float* xr = a.x + (t0 + t) * a.cols;
        for (int o = 0; o < NO; ++o) {
            float s = hn::GetLane(hn::SumOfLanes(df, acc[t][o]));
            for (std::int64_t i = vec_end; i < a.cols; ++i) {
                float wf;
                if constexpr (sizeof(W) == 4) {
                    std::memcpy(&wf, wp[o] + i, 4);
                } else {
                    wf = f16_to_f32(wp[o][i]);
                }
                s += wf * xr[i];
            }
            y[(t0 + t) * ldy + o0 + o] = s;
        }
    }
}

template <int NO>
void RowsBlock(DType dtype, const void* w, const GemmActs& a, std::int64_t t0, std::int64_t nt,
               std::int64_t o0, float* y, std::int64_t ldy) {
#define MESWITCH_GEMM_CASE(NT)                                                            \
    case NT:                                                                              \
        if (dtype == DType::bf16)                                                         \
            BlockBf16<NT, NO>(static_cast<const std::uint16_t*>(w), a, t0, o0, y, ldy);   \
        else if (dtype == DType::f16)                                                     \
            BlockDirect<NT, NO>(static_cast<const std::uint16_t*>(w), a, t0, o0, y, ldy); \
        else                                                                              \
            BlockDirect<NT, NO>(static_cast<const std::uint32_t*>(w), a, t0, o0, y, ldy); \
        break;
    switch (nt) {
        MESWITCH_GEMM_CASE(1)
        MESWITCH_GEMM_CASE(2)
        MESWITCH_GEMM_CASE(3)
        MESWITCH_GEMM_CASE(4)
        default:
            break;
    }
#undef MESWITCH_GEMM_CASE
}

// Output rows [o_begin, o_end) for activation rows [t_begin, t_end).
void GemmRange(DType dtype, const void* w, const GemmActs& a, std::int64_t t_begin,
               std::int64_t t_end, std::int64_t o_begin, std::int64_t o_end, float* y,
               std::int64_t ldy) {
    std::int64_t o = o_begin;
    for (; o + 4 <= o_end; o += 4)
        for (std::int64_t t = t_begin; t < t_end; t += 4)
            RowsBlock<4>(dtype, w, a, t, std::min<std::int64_t>(4, t_end - t), o, y, ldy);
    for (; o < o_end; ++o)
        for (std::int64_t t = t_begin; t < t_end; t += 4)
            RowsBlock<1>(dtype, w, a, t, std::min<std::int64_t>(4, t_end - t), o, y, ldy);
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {

HWY_EXPORT(GemmRange);

void gemm(const float* x, std::int64_t rows, const Matrix& w, float* y, ThreadPool& pool) {
    if (w.dtype != DType::f32 && w.dtype != DType::bf16 && w.dtype != DType::f16)
        throw Error(ErrorKind::unsupported, std::string("matrix multiply: weight dtype ") +
                                                dtype_name(w.dtype) +
                                                " is not supported (F32, F16, BF16)");
    if (rows <= 0 || w.rows <= 0) return;
    GemmActs a{x, nullptr, nullptr, w.cols, w.cols / 2};
    thread_local std::vector<float> even, odd;
    if (w.dtype == DType::bf16) {
        even.resize(static_cast<std::size_t>(rows * a.pairs));
        odd.resize(even.size());
        for (std::int64_t t = 0; t < rows; ++t)
            for (std::int64_t j = 0; j < a.pairs; ++j) {
                even[t * a.pairs + j] = x[t * w.cols + 2 * j];
                odd[t * a.pairs + j] = x[t * w.cols + 2 * j + 1];
            }
        a.even = even.data();
        a.odd = odd.data();
    }
    // Activation rows in chunks that stay in L2 while every weight row passes once.
    constexpr std::int64_t t_chunk = 64;
    for (std::int64_t t0 = 0; t0 < rows; t0 += t_chunk) {
        const std::int64_t t1 = std::min(rows, t0 + t_chunk);
        pool.parallel_for(
            static_cast<std::size_t>(w.rows),
            [&](std::size_t b, std::size_t e) {
                HWY_DYNAMIC_DISPATCH(GemmRange)
                (w.dtype, w.data, a, t0, t1, static_cast<std::int64_t>(b),
                 static_cast<std::int64_t>(e), y, w.rows);
            },
            4);
    }
}

}  // namespace meswitch::cpu
#endif  // HWY_ONCE
