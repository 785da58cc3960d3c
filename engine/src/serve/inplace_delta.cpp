// Merging a delta into a weight: out = round(base + Δ̂) (see inplace_delta.h).
//
// The row kernel is Highway SIMD (dynamic dispatch: AVX-512 / AVX2 / SSE4 at run time). It
// computes exactly what the scalar definition does, lane by lane: the f32 add is the same
// IEEE operation, bf16 rounding is the integer formula of f32_to_bf16, and f16 uses the F16C
// conversions (round to nearest even, the same results as f32_to_f16 / f16_to_f32;
// tests/delta_core compares them bit for bit, special values included). Targets without
// F16C take f16 rows through the scalar functions.
#include "serve/inplace_delta.h"

#include <cstring>
#include <string>

#include "core/thread_pool.h"
#include "meswitch/error.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "serve/inplace_delta.cpp"
#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::serve::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using DU = hn::RebindToUnsigned<DF>;
using DI = hn::RebindToSigned<DF>;
using DU16 = hn::Rebind<std::uint16_t, DF>;
using VF = hn::Vec<DF>;
using VU = hn::Vec<DU>;

// Each dtype's raw bits live in the low bits of u32 lanes.
struct F32Ops {
    using T = std::uint32_t;
    static VU load(const T* p) { return hn::LoadU(DU(), p); }
    static void store(VU bits, T* p) { hn::StoreU(bits, DU(), p); }
    static void stream(VU bits, T* p) { hn::Stream(bits, DU(), p); }  // p aligned
    static VF widen(VU bits) { return hn::BitCast(DF(), bits); }
    static VU round(VF v) { return hn::BitCast(DU(), v); }
};

struct Bf16Ops {
    using T = std::uint16_t;
    static VU load(const T* p) { return hn::PromoteTo(DU(), hn::LoadU(DU16(), p)); }
    static void store(VU bits, T* p) {
        hn::StoreU(hn::DemoteTo(DU16(), hn::BitCast(DI(), bits)), DU16(), p);
    }
    static void stream(VU bits, T* p) {  // p aligned to the half-width vector
        hn::Stream(hn::DemoteTo(DU16(), hn::BitCast(DI(), bits)), DU16(), p);
    }
    static VF widen(VU bits) { return hn::BitCast(DF(), hn::ShiftLeft<16>(bits)); }
    // f32_to_bf16: NaN → (u >> 16) | 0x40, else (u + 0x7FFF + ((u >> 16) & 1)) >> 16.
    static VU round(VF v) {
        const DU du;
        const VU u = hn::BitCast(du, v);
        const VU hi = hn::ShiftRight<16>(u);
        const VU bias = hn::Add(hn::And(hi, hn::Set(du, 1u)), hn::Set(du, 0x7FFFu));
        const VU rounded = hn::ShiftRight<16>(hn::Add(u, bias));
        const auto nan = hn::RebindMask(du, hn::Ne(v, v));
        return hn::IfThenElse(nan, hn::Or(hi, hn::Set(du, 0x40u)), rounded);
    }
};

#if HWY_TARGET < HWY_SSE4  // x86 with AVX2 or better: F16C
#define MESWITCH_INPLACE_F16_SIMD 1
struct F16Ops {
    using T = std::uint16_t;
    using DH = hn::Rebind<hwy::float16_t, DF>;
    static VU load(const T* p) { return hn::PromoteTo(DU(), hn::LoadU(DU16(), p)); }
    static void store(VU bits, T* p) {
        hn::StoreU(hn::DemoteTo(DU16(), hn::BitCast(DI(), bits)), DU16(), p);
    }
    static void stream(VU bits, T* p) {  // p aligned to the half-width vector
        hn::Stream(hn::DemoteTo(DU16(), hn::BitCast(DI(), bits)), DU16(), p);
    }
    static VF widen(VU bits) {
        return hn::PromoteTo(DF(),
                             hn::BitCast(DH(), hn::DemoteTo(DU16(), hn::BitCast(DI(), bits))));
    }
    static VU round(VF v) {
        return hn::PromoteTo(DU(), hn::BitCast(DU16(), hn::DemoteTo(DH(), v)));
    }
};
#endif

// Bytes of the weight to prefetch ahead of the loop: the hardware prefetcher alone leaves
// the loops waiting on memory (measured on a Xeon: the apply loop 2.2× and the restore loop
// 1.9× faster with it).
constexpr std::size_t prefetch_ahead = 2048;

// out ← round(base + d): the one-pass switch from the pristine weight.
template <class Ops>
void apply_from_row(const std::byte* base_bytes, std::byte* out_bytes, const float* d,
                    std::size_t cols) {
    using T = typename Ops::T;
    const auto* base = reinterpret_cast<const T*>(base_bytes);
    auto* out = reinterpret_cast<T*>(out_bytes);
    const DF df;
    const std::size_t n = hn::Lanes(df);
    std::size_t c = 0;
    // The working copy is written, never read here: non-temporal stores where it is aligned
    // (it is, for the CPU backend's buffers) save reading each line before writing it.
    if (reinterpret_cast<std::uintptr_t>(out) % (n * sizeof(T)) == 0) {
        for (; c + n <= cols; c += n) {
            hwy::Prefetch(reinterpret_cast<const std::byte*>(base + c) + prefetch_ahead);
            Ops::stream(Ops::round(hn::Add(Ops::widen(Ops::load(base + c)), hn::LoadU(df, d + c))),
                        out + c);
        }
    }
    for (; c + n <= cols; c += n) {
        hwy::Prefetch(reinterpret_cast<const std::byte*>(base + c) + prefetch_ahead);
        Ops::store(Ops::round(hn::Add(Ops::widen(Ops::load(base + c)), hn::LoadU(df, d + c))),
                   out + c);
    }
    if (c < cols) {
        HWY_ALIGN T w[hn::MaxLanes(DF())] = {};
        HWY_ALIGN float dt[hn::MaxLanes(DF())] = {};
        std::memcpy(w, base + c, (cols - c) * sizeof(T));
        std::memcpy(dt, d + c, (cols - c) * sizeof(float));
        Ops::store(Ops::round(hn::Add(Ops::widen(Ops::load(w)), hn::LoadU(df, dt))), w);
        std::memcpy(out + c, w, (cols - c) * sizeof(T));
    }
}
void ApplyFromF32(const std::byte* base, std::byte* out, const float* d, std::size_t cols) {
    apply_from_row<F32Ops>(base, out, d, cols);
}
void ApplyFromBf16(const std::byte* base, std::byte* out, const float* d, std::size_t cols) {
    apply_from_row<Bf16Ops>(base, out, d, cols);
}

#ifdef MESWITCH_INPLACE_F16_SIMD
#undef MESWITCH_INPLACE_F16_SIMD
void ApplyFromF16(const std::byte* base, std::byte* out, const float* d, std::size_t cols) {
    apply_from_row<F16Ops>(base, out, d, cols);
}
#else
void ApplyFromF16(const std::byte* base_bytes, std::byte* out_bytes, const float* d,
                  std::size_t cols) {
    const auto* base = reinterpret_cast<const std::uint16_t*>(base_bytes);
    auto* out = reinterpret_cast<std::uint16_t*>(out_bytes);
    for (std::size_t c = 0; c < cols; ++c) out[c] = f32_to_f16(f16_to_f32(base[c]) + d[c]);
}
#endif

}  // namespace meswitch::serve::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

namespace meswitch::serve {

HWY_EXPORT(ApplyFromF32);
HWY_EXPORT(ApplyFromBf16);
HWY_EXPORT(ApplyFromF16);

void apply_row_from_base(DType dtype, const std::byte* base, std::byte* out, const float* d,
                         std::size_t cols) {
    switch (dtype) {
        case DType::f32:
            return HWY_DYNAMIC_DISPATCH(ApplyFromF32)(base, out, d, cols);
        case DType::bf16:
            return HWY_DYNAMIC_DISPATCH(ApplyFromBf16)(base, out, d, cols);
        case DType::f16:
            return HWY_DYNAMIC_DISPATCH(ApplyFromF16)(base, out, d, cols);
        default:
            throw Error(ErrorKind::unsupported, std::string("delta apply: weight dtype ") +
                                                    dtype_name(dtype) +
                                                    " is not supported (F32, F16, BF16)");
    }
}

namespace {

// Rows per parallel_for grain: large enough that a chunk amortises its dispatch.
constexpr std::size_t row_grain = 16;

void check_weight(const MutableWeight& w) {
    if (w.rows < 0 || w.cols < 0 || (w.rows * w.cols > 0 && !w.data))
        throw Error(ErrorKind::invalid_argument, "in-place delta: bad weight view");
    if (static_cast<std::uint64_t>(w.rows) * static_cast<std::uint64_t>(w.cols) >= (1ull << 32))
        throw Error(ErrorKind::unsupported,
                    "in-place delta: a weight of " + std::to_string(w.rows) + "×" +
                        std::to_string(w.cols) + " elements (2³² or more) is not supported");
    if (w.dtype != DType::f32 && w.dtype != DType::bf16 && w.dtype != DType::f16)
        throw Error(ErrorKind::unsupported, std::string("in-place delta: weight dtype ") +
                                                dtype_name(w.dtype) +
                                                " is not supported (F32, F16, BF16)");
}

}  // namespace

void apply_from_base(const MutableWeight& out, const std::byte* base, const DeltaRowFn& delta_row,
                     ThreadPool* pool) {
    check_weight(out);
    const auto cols = static_cast<std::size_t>(out.cols);
    const std::size_t row_bytes = cols * dtype_size(out.dtype);
    auto body = [&](std::size_t begin, std::size_t end) {
        thread_local std::vector<float> d;
        d.resize(cols);
        for (std::size_t r = begin; r < end; ++r) {
            delta_row(static_cast<std::int64_t>(r), d.data());
            apply_row_from_base(out.dtype, base + r * row_bytes, out.data + r * row_bytes, d.data(),
                                cols);
        }
        hwy::FlushStream();  // the non-temporal stores are visible before the loop ends
    };
    const auto rows = static_cast<std::size_t>(out.rows);
    if (pool)
        pool->parallel_for(rows, body, row_grain);
    else
        body(0, rows);
}

}  // namespace meswitch::serve

#endif  // HWY_ONCE
