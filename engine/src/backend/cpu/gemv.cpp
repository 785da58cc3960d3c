// Matrix × vector for decode (batch 1): memory-bound, so the kernels stream each weight row
// once, four rows at a time, widen bf16/f16 to f32 in registers and accumulate with FMA.
// bf16 trick: a 32-bit lane holding the pair (w[2j], w[2j+1]) gives w[2j] as (lane << 16)
// and w[2j+1] as (lane & 0xFFFF0000), so with x split once into even and odd halves the
// inner loop needs no shuffles. Highway dynamic dispatch picks AVX-512 / AVX2 / SSE4 at run
// time (the build uses no -march flags). bf16 matrices with whole 32-column blocks go to the
// AMX tile kernels instead where the CPU has them (gemv_amx.h): gemv, gemv_rows and gemv_batch
// all take the same path for a matrix, so the batch still equals one vector at a time.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/gemv_amx.h"
#include "backend/cpu/ops.h"
#include "core/thread_pool.h"
#include "meswitch/error.h"

// The vector loops of the multi-vector kernels must unroll, or their accumulator arrays live
// on the stack.
#ifndef MESWITCH_GEMV_UNROLL
#if defined(__clang__)
#define MESWITCH_GEMV_UNROLL _Pragma("unroll")
#else
#define MESWITCH_GEMV_UNROLL _Pragma("GCC unroll 8")
#endif
#endif

#ifndef MESWITCH_GEMV_ONCE
#define MESWITCH_GEMV_ONCE
namespace meswitch::cpu {
// Up to eight vectors of one call: x/y (and for bf16 the even/odd halves) of each.
struct MultiArgs {
    int count = 0;
    const float* x[8];
    const float* even[8];
    const float* odd[8];
    float* y[8];
};
}  // namespace meswitch::cpu
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/gemv.cpp"
#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// y[r] = W[r, :] · x for r in [r0, r1); w rows are `cols` floats apart.
void GemvF32(const float* w, std::int64_t cols, const float* x, float* y, std::int64_t r0,
             std::int64_t r1) {
    const hn::ScalableTag<float> df;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const std::int64_t vec_end = cols - cols % n;
    std::int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const float* w0 = w + r * cols;
        const float* w1 = w0 + cols;
        const float* w2 = w1 + cols;
        const float* w3 = w2 + cols;
        auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
        for (std::int64_t i = 0; i < vec_end; i += n) {
            const auto xv = hn::LoadU(df, x + i);
            a0 = hn::MulAdd(hn::LoadU(df, w0 + i), xv, a0);
            a1 = hn::MulAdd(hn::LoadU(df, w1 + i), xv, a1);
            a2 = hn::MulAdd(hn::LoadU(df, w2 + i), xv, a2);
            a3 = hn::MulAdd(hn::LoadU(df, w3 + i), xv, a3);
        }
        float s0 = hn::GetLane(hn::SumOfLanes(df, a0)), s1 = hn::GetLane(hn::SumOfLanes(df, a1));
        float s2 = hn::GetLane(hn::SumOfLanes(df, a2)), s3 = hn::GetLane(hn::SumOfLanes(df, a3));
        for (std::int64_t i = vec_end; i < cols; ++i) {
            s0 += w0[i] * x[i];
            s1 += w1[i] * x[i];
            s2 += w2[i] * x[i];
            s3 += w3[i] * x[i];
        }
        y[r] = s0;
        y[r + 1] = s1;
        y[r + 2] = s2;
        y[r + 3] = s3;
    }
    for (; r < r1; ++r) {
        const float* wr = w + r * cols;
        auto a = hn::Zero(df);
        for (std::int64_t i = 0; i < vec_end; i += n)
            a = hn::MulAdd(hn::LoadU(df, wr + i), hn::LoadU(df, x + i), a);
        float s = hn::GetLane(hn::SumOfLanes(df, a));
        for (std::int64_t i = vec_end; i < cols; ++i) s += wr[i] * x[i];
        y[r] = s;
    }
}

static inline float bf16_scalar(std::uint16_t bits) {
    std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// x_even[j] = x[2j], x_odd[j] = x[2j + 1] for j < cols / 2; x is the original vector.
void GemvBf16(const std::uint16_t* w, std::int64_t cols, const float* x, const float* x_even,
              const float* x_odd, float* y, std::int64_t r0, std::int64_t r1) {
    const hn::ScalableTag<float> df;
    const hn::RebindToUnsigned<decltype(df)> du;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const std::int64_t pairs = cols / 2;
    const std::int64_t vec_pairs = pairs - pairs % n;
    const auto high_mask = hn::Set(du, 0xFFFF0000u);
    const std::int64_t line_pairs = 64 / 4;  // bf16 pairs per 64-byte cache line

    auto tail = [&](const std::uint16_t* wr) {
        float s = 0.0f;
        for (std::int64_t i = 2 * vec_pairs; i < cols; ++i) s += bf16_scalar(wr[i]) * x[i];
        return s;
    };
    std::int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const std::uint16_t* wr[4] = {w + r * cols, w + (r + 1) * cols, w + (r + 2) * cols,
                                      w + (r + 3) * cols};
        const std::uint32_t* p0 = reinterpret_cast<const std::uint32_t*>(wr[0]);
        const std::uint32_t* p1 = reinterpret_cast<const std::uint32_t*>(wr[1]);
        const std::uint32_t* p2 = reinterpret_cast<const std::uint32_t*>(wr[2]);
        const std::uint32_t* p3 = reinterpret_cast<const std::uint32_t*>(wr[3]);
        auto e0 = hn::Zero(df), e1 = hn::Zero(df), e2 = hn::Zero(df), e3 = hn::Zero(df);
        auto o0 = hn::Zero(df), o1 = hn::Zero(df), o2 = hn::Zero(df), o3 = hn::Zero(df);
        // The next four rows start in new pages, where the hardware prefetcher would have to
        // find the stream again: request them line by line while this block streams.
        const std::uint16_t* next = r + 8 <= r1 ? w + (r + 4) * cols : nullptr;
        for (std::int64_t j = 0; j < vec_pairs; j += n) {
            if (next && (j % line_pairs) == 0) {
                hwy::Prefetch(next + 2 * j);
                hwy::Prefetch(next + cols + 2 * j);
                hwy::Prefetch(next + 2 * cols + 2 * j);
                hwy::Prefetch(next + 3 * cols + 2 * j);
            }
            const auto xe = hn::LoadU(df, x_even + j);
            const auto xo = hn::LoadU(df, x_odd + j);
            const auto v0 = hn::LoadU(du, p0 + j);
            const auto v1 = hn::LoadU(du, p1 + j);
            const auto v2 = hn::LoadU(du, p2 + j);
            const auto v3 = hn::LoadU(du, p3 + j);
            e0 = hn::MulAdd(hn::BitCast(df, hn::ShiftLeft<16>(v0)), xe, e0);
            o0 = hn::MulAdd(hn::BitCast(df, hn::And(v0, high_mask)), xo, o0);
            e1 = hn::MulAdd(hn::BitCast(df, hn::ShiftLeft<16>(v1)), xe, e1);
            o1 = hn::MulAdd(hn::BitCast(df, hn::And(v1, high_mask)), xo, o1);
            e2 = hn::MulAdd(hn::BitCast(df, hn::ShiftLeft<16>(v2)), xe, e2);
            o2 = hn::MulAdd(hn::BitCast(df, hn::And(v2, high_mask)), xo, o2);
            e3 = hn::MulAdd(hn::BitCast(df, hn::ShiftLeft<16>(v3)), xe, e3);
            o3 = hn::MulAdd(hn::BitCast(df, hn::And(v3, high_mask)), xo, o3);
        }
        y[r] = hn::GetLane(hn::SumOfLanes(df, hn::Add(e0, o0))) + tail(wr[0]);
        y[r + 1] = hn::GetLane(hn::SumOfLanes(df, hn::Add(e1, o1))) + tail(wr[1]);
        y[r + 2] = hn::GetLane(hn::SumOfLanes(df, hn::Add(e2, o2))) + tail(wr[2]);
        y[r + 3] = hn::GetLane(hn::SumOfLanes(df, hn::Add(e3, o3))) + tail(wr[3]);
    }
    for (; r < r1; ++r) {
        const std::uint16_t* wr = w + r * cols;
        const std::uint32_t* p = reinterpret_cast<const std::uint32_t*>(wr);
        auto e = hn::Zero(df), o = hn::Zero(df);
        for (std::int64_t j = 0; j < vec_pairs; j += n) {
            const auto v = hn::LoadU(du, p + j);
            e = hn::MulAdd(hn::BitCast(df, hn::ShiftLeft<16>(v)), hn::LoadU(df, x_even + j), e);
            o = hn::MulAdd(hn::BitCast(df, hn::And(v, high_mask)), hn::LoadU(df, x_odd + j), o);
        }
        y[r] = hn::GetLane(hn::SumOfLanes(df, hn::Add(e, o))) + tail(wr);
    }
}

void GemvF16(const std::uint16_t* bits, std::int64_t cols, const float* x, float* y,
             std::int64_t r0, std::int64_t r1) {
    const hn::ScalableTag<float> df;
    const hn::Rebind<hwy::float16_t, decltype(df)> dh;
    const hwy::float16_t* w = reinterpret_cast<const hwy::float16_t*>(bits);
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const std::int64_t vec_end = cols - cols % n;
    const std::int64_t line_halves = 64 / 2;  // f16 values per 64-byte cache line
    auto tail = [&](std::int64_t row) {
        float s = 0.0f;
        for (std::int64_t i = vec_end; i < cols; ++i) s += f16_to_f32(bits[row * cols + i]) * x[i];
        return s;
    };
    std::int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const hwy::float16_t* w0 = w + r * cols;
        const hwy::float16_t* w1 = w0 + cols;
        const hwy::float16_t* w2 = w1 + cols;
        const hwy::float16_t* w3 = w2 + cols;
        auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
        // As in GemvBf16: the next four rows start in new pages; request them line by line.
        const hwy::float16_t* next = r + 8 <= r1 ? w + (r + 4) * cols : nullptr;
        for (std::int64_t i = 0; i < vec_end; i += n) {
            if (next && (i % line_halves) == 0) {
                hwy::Prefetch(next + i);
                hwy::Prefetch(next + cols + i);
                hwy::Prefetch(next + 2 * cols + i);
                hwy::Prefetch(next + 3 * cols + i);
            }
            const auto xv = hn::LoadU(df, x + i);
            a0 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, w0 + i)), xv, a0);
            a1 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, w1 + i)), xv, a1);
            a2 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, w2 + i)), xv, a2);
            a3 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, w3 + i)), xv, a3);
        }
        y[r] = hn::GetLane(hn::SumOfLanes(df, a0)) + tail(r);
        y[r + 1] = hn::GetLane(hn::SumOfLanes(df, a1)) + tail(r + 1);
        y[r + 2] = hn::GetLane(hn::SumOfLanes(df, a2)) + tail(r + 2);
        y[r + 3] = hn::GetLane(hn::SumOfLanes(df, a3)) + tail(r + 3);
    }
    for (; r < r1; ++r) {
        const hwy::float16_t* wr = w + r * cols;
        auto a = hn::Zero(df);
        for (std::int64_t i = 0; i < vec_end; i += n)
            a = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, wr + i)), hn::LoadU(df, x + i), a);
        y[r] = hn::GetLane(hn::SumOfLanes(df, a)) + tail(r);
    }
}

// ---- several vectors at once (a decode batch). Each weight vector is loaded once and
// multiplied into B activation vectors; every (row, vector) pair keeps its own accumulators
// in exactly the order of the one-vector kernels above, so y_b[r] is bit-identical to
// GemvF32/GemvBf16/GemvF16 on x_b. Two weight rows per pass: 2·B·(1 or 2) accumulators.

template <int B>
void MultiF32(const float* w, std::int64_t cols, const float* const* x, float* const* y,
              std::int64_t r0, std::int64_t r1) {
    const hn::ScalableTag<float> df;
    using V = decltype(hn::Zero(df));
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const std::int64_t vec_end = cols - cols % n;
    for (std::int64_t r = r0; r < r1; ++r) {
        const float* wr = w + r * cols;
        V a[B];
        MESWITCH_GEMV_UNROLL
        for (int b = 0; b < B; ++b) a[b] = hn::Zero(df);
        for (std::int64_t i = 0; i < vec_end; i += n) {
            const auto wv = hn::LoadU(df, wr + i);
            MESWITCH_GEMV_UNROLL
            for (int b = 0; b < B; ++b) a[b] = hn::MulAdd(wv, hn::LoadU(df, x[b] + i), a[b]);
        }
        MESWITCH_GEMV_UNROLL
        for (int b = 0; b < B; ++b) {
            float s = hn::GetLane(hn::SumOfLanes(df, a[b]));
            for (std::int64_t i = vec_end; i < cols; ++i) s += wr[i] * x[b][i];
            y[b][r] = s;
        }
    }
}

// One weight row into G vectors (G accumulator pairs, the vectors' activations read as
// memory operands): the register budget of AVX2 (16 vectors) holds G <= 4 pairs with the
// widened weights, where eight pairs would spill.
template <int G>
HWY_INLINE void RowIntoGroup(const std::uint32_t* p, std::int64_t vec_pairs,
                             const float* const* x_even, const float* const* x_odd, float* sums) {
    const hn::ScalableTag<float> df;
    const hn::RebindToUnsigned<decltype(df)> du;
    using V = decltype(hn::Zero(df));
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const auto high_mask = hn::Set(du, 0xFFFF0000u);
    V e[G], o[G];
    MESWITCH_GEMV_UNROLL
    for (int b = 0; b < G; ++b) e[b] = o[b] = hn::Zero(df);
    for (std::int64_t j = 0; j < vec_pairs; j += n) {
        const auto v = hn::LoadU(du, p + j);
        const auto we = hn::BitCast(df, hn::ShiftLeft<16>(v));
        const auto wo = hn::BitCast(df, hn::And(v, high_mask));
        MESWITCH_GEMV_UNROLL
        for (int b = 0; b < G; ++b) {
            e[b] = hn::MulAdd(we, hn::LoadU(df, x_even[b] + j), e[b]);
            o[b] = hn::MulAdd(wo, hn::LoadU(df, x_odd[b] + j), o[b]);
        }
    }
    MESWITCH_GEMV_UNROLL
    for (int b = 0; b < G; ++b) sums[b] = hn::GetLane(hn::SumOfLanes(df, hn::Add(e[b], o[b])));
}

// Two weight rows into G vectors: 4·G accumulators and four widened weight vectors, so each
// activation load feeds two rows (the activations of a batch outgrow L1 on wide layers:
// eight vectors of 3584 floats are 112 KiB).
template <int G>
HWY_INLINE void RowPairIntoGroup(const std::uint32_t* p0, const std::uint32_t* p1,
                                 std::int64_t vec_pairs, const float* const* x_even,
                                 const float* const* x_odd, float* sums0, float* sums1) {
    const hn::ScalableTag<float> df;
    const hn::RebindToUnsigned<decltype(df)> du;
    using V = decltype(hn::Zero(df));
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const auto high_mask = hn::Set(du, 0xFFFF0000u);
    V e0[G], o0[G], e1[G], o1[G];
    MESWITCH_GEMV_UNROLL
    for (int b = 0; b < G; ++b) e0[b] = o0[b] = e1[b] = o1[b] = hn::Zero(df);
    for (std::int64_t j = 0; j < vec_pairs; j += n) {
        const auto v0 = hn::LoadU(du, p0 + j);
        const auto v1 = hn::LoadU(du, p1 + j);
        const auto we0 = hn::BitCast(df, hn::ShiftLeft<16>(v0));
        const auto wo0 = hn::BitCast(df, hn::And(v0, high_mask));
        const auto we1 = hn::BitCast(df, hn::ShiftLeft<16>(v1));
        const auto wo1 = hn::BitCast(df, hn::And(v1, high_mask));
        MESWITCH_GEMV_UNROLL
        for (int b = 0; b < G; ++b) {
            const auto xe = hn::LoadU(df, x_even[b] + j);
            const auto xo = hn::LoadU(df, x_odd[b] + j);
            e0[b] = hn::MulAdd(we0, xe, e0[b]);
            o0[b] = hn::MulAdd(wo0, xo, o0[b]);
            e1[b] = hn::MulAdd(we1, xe, e1[b]);
            o1[b] = hn::MulAdd(wo1, xo, o1[b]);
        }
    }
    MESWITCH_GEMV_UNROLL
    for (int b = 0; b < G; ++b) {
        sums0[b] = hn::GetLane(hn::SumOfLanes(df, hn::Add(e0[b], o0[b])));
        sums1[b] = hn::GetLane(hn::SumOfLanes(df, hn::Add(e1[b], o1[b])));
    }
}

// The vectors a row pair passes at once: four where the target has 32 vector registers
// (AVX-512: 16 accumulators + 4 weights), two on AVX2's 16 (8 + 4).
#if HWY_TARGET <= HWY_AVX3
constexpr int kPairGroup = 4;
#else
constexpr int kPairGroup = 2;
#endif

// B vectors through a row pair, in groups of at most kPairGroup.
template <int B>
HWY_INLINE void RowPairIntoAll(const std::uint32_t* p0, const std::uint32_t* p1,
                               std::int64_t vec_pairs, const float* const* x_even,
                               const float* const* x_odd, float* sums0, float* sums1) {
    if constexpr (B <= kPairGroup) {
        RowPairIntoGroup<B>(p0, p1, vec_pairs, x_even, x_odd, sums0, sums1);
    } else {
        RowPairIntoGroup<kPairGroup>(p0, p1, vec_pairs, x_even, x_odd, sums0, sums1);
        RowPairIntoAll<B - kPairGroup>(p0, p1, vec_pairs, x_even + kPairGroup, x_odd + kPairGroup,
                                       sums0 + kPairGroup, sums1 + kPairGroup);
    }
}

// Each pair of weight rows passes the vectors in groups of at most kPairGroup while it is in
// L1. With more vectors than one group (AVX2: three or more, AVX-512: five or more) the next
// rows are prefetched as in GemvBf16. An odd last row goes through RowIntoGroup.
template <int B>
void MultiBf16(const std::uint16_t* w, std::int64_t cols, const float* const* x,
               const float* const* x_even, const float* const* x_odd, float* const* y,
               std::int64_t r0, std::int64_t r1) {
    const hn::ScalableTag<float> df;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const std::int64_t pairs = cols / 2;
    const std::int64_t vec_pairs = pairs - pairs % n;
    constexpr int G0 = B / 2, G1 = B - B / 2;
    auto tail = [&](const std::uint16_t* wr, const float* xb) {
        float t = 0.0f;
        for (std::int64_t i = 2 * vec_pairs; i < cols; ++i) t += bf16_scalar(wr[i]) * xb[i];
        return t;
    };
    std::int64_t r = r0;
    for (; r + 2 <= r1; r += 2) {
        const std::uint16_t* w0 = w + r * cols;
        const std::uint16_t* w1 = w0 + cols;
        if (B > kPairGroup && r + 4 <= r1) {
            const std::uint16_t* next = w + (r + 2) * cols;
            for (std::int64_t i = 0; i < 2 * cols; i += 32) hwy::Prefetch(next + i);
        }
        float sums0[B], sums1[B];
        RowPairIntoAll<B>(reinterpret_cast<const std::uint32_t*>(w0),
                          reinterpret_cast<const std::uint32_t*>(w1), vec_pairs, x_even, x_odd,
                          sums0, sums1);
        MESWITCH_GEMV_UNROLL
        for (int b = 0; b < B; ++b) {
            y[b][r] = sums0[b] + tail(w0, x[b]);
            y[b][r + 1] = sums1[b] + tail(w1, x[b]);
        }
    }
    for (; r < r1; ++r) {
        const std::uint16_t* wr = w + r * cols;
        const std::uint32_t* p = reinterpret_cast<const std::uint32_t*>(wr);
        float sums[B];
        if constexpr (B <= kPairGroup) {
            RowIntoGroup<B>(p, vec_pairs, x_even, x_odd, sums);
        } else {
            RowIntoGroup<G0>(p, vec_pairs, x_even, x_odd, sums);
            RowIntoGroup<G1>(p, vec_pairs, x_even + G0, x_odd + G0, sums + G0);
        }
        MESWITCH_GEMV_UNROLL
        for (int b = 0; b < B; ++b) y[b][r] = sums[b] + tail(wr, x[b]);
    }
}

template <int B>
void MultiF16(const std::uint16_t* bits, std::int64_t cols, const float* const* x, float* const* y,
              std::int64_t r0, std::int64_t r1) {
    const hn::ScalableTag<float> df;
    const hn::Rebind<hwy::float16_t, decltype(df)> dh;
    using V = decltype(hn::Zero(df));
    const hwy::float16_t* w = reinterpret_cast<const hwy::float16_t*>(bits);
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const std::int64_t vec_end = cols - cols % n;
    auto tail = [&](std::int64_t row, const float* xb) {
        float s = 0.0f;
        for (std::int64_t i = vec_end; i < cols; ++i) s += f16_to_f32(bits[row * cols + i]) * xb[i];
        return s;
    };
    for (std::int64_t r = r0; r < r1; ++r) {
        const hwy::float16_t* wr = w + r * cols;
        V a[B];
        MESWITCH_GEMV_UNROLL
        for (int b = 0; b < B; ++b) a[b] = hn::Zero(df);
        for (std::int64_t i = 0; i < vec_end; i += n) {
            const auto wv = hn::PromoteTo(df, hn::LoadU(dh, wr + i));
            MESWITCH_GEMV_UNROLL
            for (int b = 0; b < B; ++b) a[b] = hn::MulAdd(wv, hn::LoadU(df, x[b] + i), a[b]);
        }
        MESWITCH_GEMV_UNROLL
        for (int b = 0; b < B; ++b) y[b][r] = hn::GetLane(hn::SumOfLanes(df, a[b])) + tail(r, x[b]);
    }
}

template <int B>
void MultiRows(int dtype, const void* w, std::int64_t cols, const MultiArgs& a, std::int64_t r0,
               std::int64_t r1) {
    if (dtype == 0) {
        MultiF32<B>(static_cast<const float*>(w), cols, a.x, a.y, r0, r1);
    } else if (dtype == 1) {
        const auto* bits = static_cast<const std::uint16_t*>(w);
        if constexpr (B == 1)
            GemvBf16(bits, cols, a.x[0], a.even[0], a.odd[0], a.y[0], r0, r1);
        else
            MultiBf16<B>(bits, cols, a.x, a.even, a.odd, a.y, r0, r1);
    } else
        MultiF16<B>(static_cast<const std::uint16_t*>(w), cols, a.x, a.y, r0, r1);
}

// dtype: 0 f32, 1 bf16, 2 f16.
void GemvMulti(int dtype, const void* w, std::int64_t cols, const MultiArgs& a, std::int64_t r0,
               std::int64_t r1) {
    switch (a.count) {
        case 1:
            return MultiRows<1>(dtype, w, cols, a, r0, r1);
        case 2:
            return MultiRows<2>(dtype, w, cols, a, r0, r1);
        case 3:
            return MultiRows<3>(dtype, w, cols, a, r0, r1);
        case 4:
            return MultiRows<4>(dtype, w, cols, a, r0, r1);
        case 5:
            return MultiRows<5>(dtype, w, cols, a, r0, r1);
        case 6:
            return MultiRows<6>(dtype, w, cols, a, r0, r1);
        case 7:
            return MultiRows<7>(dtype, w, cols, a, r0, r1);
        default:
            return MultiRows<8>(dtype, w, cols, a, r0, r1);
    }
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {

HWY_EXPORT(GemvF32);
HWY_EXPORT(GemvBf16);
HWY_EXPORT(GemvF16);
HWY_EXPORT(GemvMulti);

namespace {

void split_even_odd(const float* x, std::int64_t cols, std::vector<float>& even,
                    std::vector<float>& odd) {
    const std::int64_t pairs = cols / 2;
    even.resize(static_cast<std::size_t>(pairs));
    odd.resize(static_cast<std::size_t>(pairs));
    for (std::int64_t j = 0; j < pairs; ++j) {
        even[j] = x[2 * j];
        odd[j] = x[2 * j + 1];
    }
}

void check_dtype(const Matrix& w) {
    if (w.dtype != DType::f32 && w.dtype != DType::bf16 && w.dtype != DType::f16)
        throw Error(ErrorKind::unsupported, std::string("matrix × vector: weight dtype ") +
                                                dtype_name(w.dtype) +
                                                " is not supported (F32, F16, BF16)");
}

void run_rows(const Matrix& w, const float* x, const float* even, const float* odd, float* y,
              std::int64_t r0, std::int64_t r1) {
    switch (w.dtype) {
        case DType::f32:
            HWY_DYNAMIC_DISPATCH(GemvF32)
            (reinterpret_cast<const float*>(w.data), w.cols, x, y, r0, r1);
            break;
        case DType::bf16:
            HWY_DYNAMIC_DISPATCH(GemvBf16)
            (reinterpret_cast<const std::uint16_t*>(w.data), w.cols, x, even, odd, y, r0, r1);
            break;
        case DType::f16:
            HWY_DYNAMIC_DISPATCH(GemvF16)
            (reinterpret_cast<const std::uint16_t*>(w.data), w.cols, x, y, r0, r1);
            break;
        default:
            check_dtype(w);
    }
}

// Rows per call of the AMX kernel: two row tiles at a time, so the pool's ranges are whole
// multiples of them.
constexpr std::size_t amx_grain = 32;

}  // namespace

void gemv_rows(const Matrix& w, const float* x, float* y, std::int64_t r0, std::int64_t r1) {
    check_dtype(w);
    if (amx::usable(w)) {
        thread_local amx::Packed packed;
        amx::pack({&x, 1}, w.cols, packed);
        return amx::rows(w, packed, &y, r0, r1);
    }
    std::vector<float> even, odd;
    if (w.dtype == DType::bf16) split_even_odd(x, w.cols, even, odd);
    run_rows(w, x, even.data(), odd.data(), y, r0, r1);
}

void gemv(const Matrix& w, const float* x, float* y, ThreadPool& pool, const RowsHook* after_rows) {
    check_dtype(w);
    if (amx::usable(w)) {
        // (A thread_local named inside the loop's lambda would be each worker's own.)
        thread_local amx::Packed packed_here;
        amx::Packed& packed = packed_here;
        amx::pack({&x, 1}, w.cols, packed);
        pool.parallel_for(
            static_cast<std::size_t>(w.rows),
            [&](std::size_t begin, std::size_t end) {
                const auto b = static_cast<std::int64_t>(begin);
                const auto stop = static_cast<std::int64_t>(end);
                if (!after_rows) return amx::rows(w, packed, &y, b, stop);
                constexpr std::int64_t run = 64;
                for (std::int64_t r = b; r < stop; r += run) {
                    const std::int64_t r1 = std::min(stop, r + run);
                    amx::rows(w, packed, &y, r, r1);
                    (*after_rows)(r, r1);
                }
            },
            amx_grain);
        return;
    }
    thread_local std::vector<float> even, odd;
    if (w.dtype == DType::bf16) split_even_odd(x, w.cols, even, odd);
    const float* e = even.data();
    const float* o = odd.data();
    pool.parallel_for(
        static_cast<std::size_t>(w.rows),
        [&](std::size_t begin, std::size_t end) {
            const auto b = static_cast<std::int64_t>(begin), stop = static_cast<std::int64_t>(end);
            if (!after_rows) return run_rows(w, x, e, o, y, b, stop);
            constexpr std::int64_t run = 64;
            for (std::int64_t r = b; r < stop; r += run) {
                const std::int64_t r1 = std::min(stop, r + run);
                run_rows(w, x, e, o, y, r, r1);
                (*after_rows)(r, r1);
            }
        },
        4);
}

namespace {

// gemv_batch on AMX: the vectors packed in groups of up to amx::kMaxVectors; every run of 64
// rows passes all groups while its weights are in cache.
void gemv_batch_amx(const Matrix& w, std::span<const float* const> xs, std::span<float* const> ys,
                    ThreadPool& pool, std::span<const RowsHook* const> after_rows) {
    // (A thread_local named inside the loop's lambda would be each worker's own.)
    thread_local std::vector<amx::Packed> groups_here;
    std::vector<amx::Packed>& groups = groups_here;
    const std::size_t count = (xs.size() + amx::kMaxVectors - 1) / amx::kMaxVectors;
    if (groups.size() < count) groups.resize(count);
    for (std::size_t g = 0; g < count; ++g) {
        const std::size_t v0 = g * amx::kMaxVectors;
        amx::pack(xs.subspan(v0, std::min<std::size_t>(amx::kMaxVectors, xs.size() - v0)), w.cols,
                  groups[g]);
    }
    pool.parallel_for(
        static_cast<std::size_t>(w.rows),
        [&](std::size_t begin, std::size_t end) {
            constexpr std::int64_t run = 64;
            const auto stop = static_cast<std::int64_t>(end);
            for (auto r = static_cast<std::int64_t>(begin); r < stop; r += run) {
                const std::int64_t r1 = std::min(stop, r + run);
                for (std::size_t g = 0; g < count; ++g)
                    amx::rows(w, groups[g], ys.data() + g * amx::kMaxVectors, r, r1);
                for (const RowsHook* hook : after_rows)
                    if (hook && *hook) (*hook)(r, r1);
            }
        },
        amx_grain);
}

}  // namespace

void gemv_batch(const Matrix& w, std::span<const float* const> xs, std::span<float* const> ys,
                ThreadPool& pool, std::span<const RowsHook* const> after_rows) {
    check_dtype(w);
    if (xs.size() != ys.size())
        throw Error(ErrorKind::invalid_argument, "gemv_batch: as many outputs as inputs");
    const std::size_t b = xs.size();
    if (b == 0 || w.rows == 0) return;
    if (amx::usable(w)) return gemv_batch_amx(w, xs, ys, pool, after_rows);
    // bf16: every vector split into even and odd halves once.
    thread_local std::vector<float> split;
    const std::int64_t pairs = w.cols / 2;
    if (w.dtype == DType::bf16) {
        split.resize(b * 2 * static_cast<std::size_t>(pairs));
        for (std::size_t v = 0; v < b; ++v) {
            float* e = split.data() + v * 2 * pairs;
            float* o = e + pairs;
            for (std::int64_t j = 0; j < pairs; ++j) {
                e[j] = xs[v][2 * j];
                o[j] = xs[v][2 * j + 1];
            }
        }
    }
    const float* sp = split.data();
    const int dtype_code = w.dtype == DType::f32 ? 0 : w.dtype == DType::bf16 ? 1 : 2;
    // Rows per block: the block's weights (at most ~64 KiB) stay in L2 while every vector
    // passes over them.
    const std::int64_t row_bytes = w.cols * static_cast<std::int64_t>(dtype_size(w.dtype));
    const std::int64_t block =
        std::clamp<std::int64_t>((64 << 10) / std::max<std::int64_t>(row_bytes, 1) / 4 * 4, 4, 64);
    pool.parallel_for(
        static_cast<std::size_t>(w.rows),
        [&](std::size_t begin, std::size_t end) {
            const auto stop = static_cast<std::int64_t>(end);
            for (auto r = static_cast<std::int64_t>(begin); r < stop; r += block) {
                const std::int64_t r1 = std::min(stop, r + block);
                // Up to eight vectors per pass over the block (the block stays in L2).
                for (std::size_t v0 = 0; v0 < b; v0 += 8) {
                    MultiArgs a;
                    a.count = static_cast<int>(std::min<std::size_t>(8, b - v0));
                    for (int k = 0; k < a.count; ++k) {
                        const std::size_t v = v0 + static_cast<std::size_t>(k);
                        const float* e = w.dtype == DType::bf16 ? sp + v * 2 * pairs : nullptr;
                        a.x[k] = xs[v];
                        a.even[k] = e;
                        a.odd[k] = e ? e + pairs : nullptr;
                        a.y[k] = ys[v];
                    }
                    HWY_DYNAMIC_DISPATCH(GemvMulti)(dtype_code, w.data, w.cols, a, r, r1);
                }
                for (const RowsHook* hook : after_rows)
                    if (hook && *hook) (*hook)(r, r1);
            }
        },
        4);
}

}  // namespace meswitch::cpu
#endif  // HWY_ONCE
