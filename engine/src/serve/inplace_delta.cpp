// In-place apply and exact restore of a delta (see inplace_delta.h).
//
// The row kernels are Highway SIMD (dynamic dispatch: AVX-512 / AVX2 / SSE4 at run time).
// They compute exactly what the scalar definition does, lane by lane: the f32 add and
// subtract are the same IEEE operations, bf16 rounding is the integer formula of
// f32_to_bf16 (round_back: (bits + 0x8000) >> 16), and f16 uses the F16C conversions (round to
// nearest even, the same results as f32_to_f16 / f16_to_f32; tests/delta_core compares them bit for
// bit, special values included). Targets without F16C take f16 rows through the scalar functions.
// Apply records the patch with a compress-store of the lanes whose round trip fails, so
// the common case (no such lane in a vector) costs one mask test.
#include "serve/inplace_delta.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
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
static_assert(hn::MaxLanes(DF()) <= row_patch_slack, "the patch slack must hold a vector");

// Each dtype's raw bits live in the low bits of u32 lanes.
struct F32Ops {
    using T = std::uint32_t;
    static VU load(const T* p) { return hn::LoadU(DU(), p); }
    static void store(VU bits, T* p) { hn::StoreU(bits, DU(), p); }
    static void stream(VU bits, T* p) { hn::Stream(bits, DU(), p); }  // p aligned
    static VF widen(VU bits) { return hn::BitCast(DF(), bits); }
    static VU round(VF v) { return hn::BitCast(DU(), v); }
    static VU round_back(VF v) { return round(v); }
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
    // The check's and the restore's rounding: half away from zero, (u + 0x8000) >> 16.
    static VU round_back(VF v) {
        return hn::ShiftRight<16>(hn::Add(hn::BitCast(DU(), v), hn::Set(DU(), 0x8000u)));
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
    static VU round_back(VF v) { return round(v); }
};
#endif

// Bytes of the weight to prefetch ahead of the loop: the hardware prefetcher alone leaves
// the loops waiting on memory (measured on a Xeon: the apply loop 2.2× and the restore loop
// 1.9× faster with it).
constexpr std::size_t prefetch_ahead = 2048;

// One vector: row ← round(row + d); lanes whose round_back(row' − d) differs from the
// original bits go to idx/bits (`index` holds the lanes' element indexes; both arrays need
// room for a whole vector). Returns how many lanes were recorded; with Tail, never one at
// or past `valid`.
template <class Ops, bool Tail = false>
HWY_INLINE std::size_t apply_vector(typename Ops::T* p, const float* d, VU index, std::size_t valid,
                                    std::uint32_t* idx, std::uint32_t* bits) {
    const DF df;
    const DU du;
    const VF dv = hn::LoadU(df, d);
    const VU w = Ops::load(p);
    const VU applied = Ops::round(hn::Add(Ops::widen(w), dv));
    const VU back = Ops::round_back(hn::Sub(Ops::widen(applied), dv));
    Ops::store(applied, p);
    auto bad = hn::Ne(back, w);
    if constexpr (Tail) bad = hn::And(bad, hn::FirstN(du, valid));
    hn::StoreU(hn::Compress(w, bad), du, bits);
    hn::StoreU(hn::Compress(index, bad), du, idx);
    return hn::CountTrue(du, bad);
}

template <class Ops>
std::size_t apply_row(std::byte* row_bytes, const float* d, std::size_t cols, std::uint32_t base,
                      std::uint32_t* idx, std::uint32_t* bits) {
    using T = typename Ops::T;
    const DU du;
    auto* row = reinterpret_cast<T*>(row_bytes);
    const std::size_t n = hn::Lanes(DF());
    const VU step = hn::Set(du, static_cast<std::uint32_t>(n));
    VU index = hn::Iota(du, base);
    std::size_t c = 0, count = 0;
    for (; c + n <= cols; c += n, index = hn::Add(index, step)) {
        hwy::Prefetch(reinterpret_cast<const std::byte*>(row + c) + prefetch_ahead);
        count += apply_vector<Ops>(row + c, d + c, index, n, idx + count, bits + count);
    }
    if (c < cols) {  // the tail through a padded vector: the same lane arithmetic
        HWY_ALIGN T w[hn::MaxLanes(DF())] = {};
        HWY_ALIGN float dt[hn::MaxLanes(DF())] = {};
        std::memcpy(w, row + c, (cols - c) * sizeof(T));
        std::memcpy(dt, d + c, (cols - c) * sizeof(float));
        count += apply_vector<Ops, true>(w, dt, index, cols - c, idx + count, bits + count);
        std::memcpy(row + c, w, (cols - c) * sizeof(T));
    }
    return count;
}

template <class Ops>
HWY_INLINE void restore_vector(typename Ops::T* p, const float* d) {
    Ops::store(Ops::round_back(hn::Sub(Ops::widen(Ops::load(p)), hn::LoadU(DF(), d))), p);
}

template <class Ops>
void restore_row(std::byte* row_bytes, const float* d, std::size_t cols) {
    using T = typename Ops::T;
    auto* row = reinterpret_cast<T*>(row_bytes);
    const std::size_t n = hn::Lanes(DF());
    std::size_t c = 0;
    for (; c + n <= cols; c += n) {
        hwy::Prefetch(reinterpret_cast<const std::byte*>(row + c) + prefetch_ahead);
        restore_vector<Ops>(row + c, d + c);
    }
    if (c < cols) {
        HWY_ALIGN T w[hn::MaxLanes(DF())] = {};
        HWY_ALIGN float dt[hn::MaxLanes(DF())] = {};
        std::memcpy(w, row + c, (cols - c) * sizeof(T));
        std::memcpy(dt, d + c, (cols - c) * sizeof(float));
        restore_vector<Ops>(w, dt);
        std::memcpy(row + c, w, (cols - c) * sizeof(T));
    }
}

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

std::size_t ApplyRowF32(std::byte* row, const float* d, std::size_t cols, std::uint32_t base,
                        std::uint32_t* idx, std::uint32_t* bits) {
    return apply_row<F32Ops>(row, d, cols, base, idx, bits);
}
std::size_t ApplyRowBf16(std::byte* row, const float* d, std::size_t cols, std::uint32_t base,
                         std::uint32_t* idx, std::uint32_t* bits) {
    return apply_row<Bf16Ops>(row, d, cols, base, idx, bits);
}
void RestoreRowF32(std::byte* row, const float* d, std::size_t cols) {
    restore_row<F32Ops>(row, d, cols);
}
void RestoreRowBf16(std::byte* row, const float* d, std::size_t cols) {
    restore_row<Bf16Ops>(row, d, cols);
}

#ifdef MESWITCH_INPLACE_F16_SIMD
#undef MESWITCH_INPLACE_F16_SIMD
std::size_t ApplyRowF16(std::byte* row, const float* d, std::size_t cols, std::uint32_t base,
                        std::uint32_t* idx, std::uint32_t* bits) {
    return apply_row<F16Ops>(row, d, cols, base, idx, bits);
}
void RestoreRowF16(std::byte* row, const float* d, std::size_t cols) {
    restore_row<F16Ops>(row, d, cols);
}
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
std::size_t ApplyRowF16(std::byte* row_bytes, const float* d, std::size_t cols, std::uint32_t base,
                        std::uint32_t* idx, std::uint32_t* bits) {
    auto* row = reinterpret_cast<std::uint16_t*>(row_bytes);
    std::size_t count = 0;
    for (std::size_t c = 0; c < cols; ++c) {
        const std::uint16_t applied = f32_to_f16(f16_to_f32(row[c]) + d[c]);
        if (f32_to_f16(f16_to_f32(applied) - d[c]) != row[c]) {
            idx[count] = base + static_cast<std::uint32_t>(c);
            bits[count++] = row[c];
        }
        row[c] = applied;
    }
    return count;
}
void RestoreRowF16(std::byte* row_bytes, const float* d, std::size_t cols) {
    auto* row = reinterpret_cast<std::uint16_t*>(row_bytes);
    for (std::size_t c = 0; c < cols; ++c) row[c] = f32_to_f16(f16_to_f32(row[c]) - d[c]);
}
#endif

}  // namespace meswitch::serve::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

namespace meswitch::serve {

HWY_EXPORT(ApplyRowF32);
HWY_EXPORT(ApplyRowBf16);
HWY_EXPORT(ApplyRowF16);
HWY_EXPORT(RestoreRowF32);
HWY_EXPORT(RestoreRowBf16);
HWY_EXPORT(RestoreRowF16);
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

std::size_t apply_row_in_place(DType dtype, std::byte* row, const float* d, std::size_t cols,
                               std::uint32_t base, std::uint32_t* index, std::uint32_t* bits) {
    switch (dtype) {
        case DType::f32:
            return HWY_DYNAMIC_DISPATCH(ApplyRowF32)(row, d, cols, base, index, bits);
        case DType::bf16:
            return HWY_DYNAMIC_DISPATCH(ApplyRowBf16)(row, d, cols, base, index, bits);
        case DType::f16:
            return HWY_DYNAMIC_DISPATCH(ApplyRowF16)(row, d, cols, base, index, bits);
        default:
            throw Error(ErrorKind::unsupported, std::string("in-place delta: weight dtype ") +
                                                    dtype_name(dtype) +
                                                    " is not supported (F32, F16, BF16)");
    }
}

void restore_row_in_place(DType dtype, std::byte* row, const float* d, std::size_t cols) {
    switch (dtype) {
        case DType::f32:
            return HWY_DYNAMIC_DISPATCH(RestoreRowF32)(row, d, cols);
        case DType::bf16:
            return HWY_DYNAMIC_DISPATCH(RestoreRowBf16)(row, d, cols);
        case DType::f16:
            return HWY_DYNAMIC_DISPATCH(RestoreRowF16)(row, d, cols);
        default:
            throw Error(ErrorKind::unsupported, std::string("restore: weight dtype ") +
                                                    dtype_name(dtype) + " is not supported");
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

// Chunk buffers of earlier applies, kept so that their pages stay mapped: a switch makes
// a patch for every weight, and fresh pages (faulted in and zeroed by the kernel) cost
// more than filling them. At most 32 buffers of 4 MiB.
class SpareBuffers {
public:
    std::vector<std::uint32_t> take() {
        std::lock_guard lock(mutex_);
        if (spare_.empty()) return {};
        std::vector<std::uint32_t> v = std::move(spare_.back());
        spare_.pop_back();
        return v;
    }
    void give(std::vector<std::uint32_t>&& v) noexcept {
        if (v.empty() || v.size() > (1u << 20)) return;
        std::lock_guard lock(mutex_);
        if (spare_.size() < 32) spare_.push_back(std::move(v));  // capacity reserved below
    }
    SpareBuffers() { spare_.reserve(32); }

private:
    std::mutex mutex_;
    std::vector<std::vector<std::uint32_t>> spare_;
};
SpareBuffers spare_buffers;

// Patch entries of one parallel chunk, in a buffer that always has room for one more row.
struct Part {
    std::size_t begin = 0, end = 0;  // rows done
    std::vector<std::uint32_t> index = spare_buffers.take(), bits = spare_buffers.take();
    std::size_t count = 0;

    Part() = default;
    Part(Part&&) = default;
    Part& operator=(Part&&) = default;
    ~Part() {
        spare_buffers.give(std::move(index));
        spare_buffers.give(std::move(bits));
    }

    void reserve_row(std::size_t cols) {
        const std::size_t need = count + cols + row_patch_slack;
        if (need <= index.size() && need <= bits.size()) return;
        const std::size_t size = std::max(need, std::max(index.size(), bits.size()) * 2);
        index.resize(size);
        bits.resize(size);
    }
};

// w ← round(w − Δ̂) on rows [begin, end), then the entries of the sorted patch
// (index, bits)[0, count) that lie inside those rows, row by row while it is in cache.
void restore_range(const MutableWeight& w, const DeltaRowFn& delta_row, std::size_t begin,
                   std::size_t end, const std::uint32_t* index, const std::uint32_t* bits,
                   std::size_t count) {
    const auto cols = static_cast<std::size_t>(w.cols);
    const std::size_t esize = dtype_size(w.dtype);
    const std::uint32_t* p = std::lower_bound(index, index + count, begin * cols);
    const std::uint32_t* const stop = index + count;
    std::vector<float> d(cols);
    for (std::size_t r = begin; r < end; ++r) {
        delta_row(static_cast<std::int64_t>(r), d.data());
        restore_row_in_place(w.dtype, w.data + r * cols * esize, d.data(), cols);
        const std::size_t row_end = (r + 1) * cols;
        for (; p < stop && *p < row_end; ++p) {
            const std::uint32_t v = bits[p - index];
            if (esize == 4)
                std::memcpy(w.data + std::size_t{*p} * 4, &v, 4);
            else {
                const auto h = static_cast<std::uint16_t>(v);
                std::memcpy(w.data + std::size_t{*p} * 2, &h, 2);
            }
        }
    }
}

void for_rows(ThreadPool* pool, std::size_t rows,
              const std::function<void(std::size_t, std::size_t)>& body) {
    if (pool)
        pool->parallel_for(rows, body, row_grain);
    else
        body(0, rows);
}

// Rows in parallel. A chunk reserves room for a row's patch entries before it writes the
// row, so a failure (an allocation, the decoder) at any point can be undone exactly: every
// chunk restores the rows it wrote, and the caller is left with the weight as it was.
RestorePatch apply_rows(const MutableWeight& w, const DeltaRowFn& delta_row, ThreadPool* pool) {
    const auto cols = static_cast<std::size_t>(w.cols);
    const std::size_t esize = dtype_size(w.dtype);
    std::mutex mutex;
    std::vector<Part> parts;
    auto undo = [&](const Part& p) {
        restore_range(w, delta_row, p.begin, p.end, p.index.data(), p.bits.data(), p.count);
    };
    auto body = [&](std::size_t begin, std::size_t end) {
        Part part;
        part.begin = part.end = begin;
        try {
            std::vector<float> d(cols);
            for (std::size_t r = begin; r < end; ++r) {
                part.reserve_row(cols);
                delta_row(static_cast<std::int64_t>(r), d.data());
                part.count += apply_row_in_place(w.dtype, w.data + r * cols * esize, d.data(), cols,
                                                 static_cast<std::uint32_t>(r * cols),
                                                 part.index.data() + part.count,
                                                 part.bits.data() + part.count);
                part.end = r + 1;
            }
            std::lock_guard lock(mutex);
            parts.push_back(std::move(part));
        } catch (...) {
            undo(part);
            throw;
        }
    };
    const auto rows = static_cast<std::size_t>(w.rows);
    try {
        for_rows(pool, rows, body);
    } catch (...) {
        for (const Part& p : parts) undo(p);
        throw;
    }
    std::sort(parts.begin(), parts.end(),
              [](const Part& a, const Part& b) { return a.begin < b.begin; });
    RestorePatch patch;
    std::size_t total = 0;
    for (const Part& p : parts) total += p.count;
    try {
        patch.index.reserve(total);
        patch.bits.reserve(total);
    } catch (...) {
        for (const Part& p : parts) undo(p);
        throw;
    }
    for (const Part& p : parts) {
        patch.index.insert(patch.index.end(), p.index.begin(), p.index.begin() + p.count);
        patch.bits.insert(patch.bits.end(), p.bits.begin(), p.bits.begin() + p.count);
    }
    parts.clear();
    const std::size_t weight_bytes = rows * cols * esize;
    if (patch.bytes() <= weight_bytes) return patch;
    // The patch would cost more than the weight: keep the original bits instead.
    RestorePatch copy;
    try {
        copy.pristine.resize(weight_bytes);
    } catch (...) {
        return patch;  // the larger patch is exact too
    }
    for_rows(pool, rows, [&](std::size_t begin, std::size_t end) {
        restore_range(w, delta_row, begin, end, patch.index.data(), patch.bits.data(),
                      patch.index.size());
    });
    std::memcpy(copy.pristine.data(), w.data, weight_bytes);
    // The patch entries are not needed any more: apply again, discarding them.
    for_rows(pool, rows, [&](std::size_t begin, std::size_t end) {
        std::vector<float> d(cols);
        Part scratch;
        for (std::size_t r = begin; r < end; ++r) {
            scratch.reserve_row(cols);
            delta_row(static_cast<std::int64_t>(r), d.data());
            apply_row_in_place(w.dtype, w.data + r * cols * esize, d.data(), cols,
                               static_cast<std::uint32_t>(r * cols), scratch.index.data(),
                               scratch.bits.data());
        }
    });
    return copy;
}

// Throws unless the patch indexes lie in [0, numel) in increasing order.
void check_patch(const RestorePatch& patch, std::uint64_t numel, ThreadPool* pool) {
    const std::uint32_t* index = patch.index.data();
    const std::size_t n = patch.index.size();
    std::atomic<bool> bad{false};
    auto body = [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i)
            if (index[i] >= numel || (i > 0 && index[i] <= index[i - 1])) {
                bad = true;
                return;
            }
    };
    if (pool && n > (1u << 16))
        pool->parallel_for(n, body, 4096);
    else
        body(0, n);
    if (bad)
        throw Error(ErrorKind::invalid_argument,
                    "restore: patch indexes out of range or not increasing");
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

RestorePatch apply_in_place(const MutableWeight& w, const DeltaRowFn& delta_row, ThreadPool* pool) {
    check_weight(w);
    return apply_rows(w, delta_row, pool);
}

void restore_in_place(const MutableWeight& w, const DeltaRowFn& delta_row,
                      const RestorePatch& patch, ThreadPool* pool) {
    check_weight(w);
    if (patch.index.size() != patch.bits.size())
        throw Error(ErrorKind::invalid_argument, "restore: malformed patch");
    const std::uint64_t numel =
        static_cast<std::uint64_t>(w.rows) * static_cast<std::uint64_t>(w.cols);
    check_patch(patch, numel, pool);
    if (!patch.pristine.empty()) {
        if (patch.pristine.size() != numel * dtype_size(w.dtype))
            throw Error(ErrorKind::invalid_argument, "restore: pristine copy of the wrong size");
        std::memcpy(w.data, patch.pristine.data(), patch.pristine.size());
        return;
    }
    for_rows(pool, static_cast<std::size_t>(w.rows), [&](std::size_t begin, std::size_t end) {
        restore_range(w, delta_row, begin, end, patch.index.data(), patch.bits.data(),
                      patch.index.size());
    });
}

}  // namespace meswitch::serve

#endif  // HWY_ONCE
