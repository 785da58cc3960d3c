// Merging a delta into a weight, bit-exactly, two ways:
//  - apply_from_base (below): out = round(base + Δ̂) from a pristine copy in one pass; going
//    back is reading the base again. What the CPU backend does (its loaded weights are the
//    pristine copy), as the CUDA backend does with a device copy of each touched weight.
//  - apply_in_place / restore_in_place: in place without a pristine copy, described here.
//    No backend uses it at present; it is what a device without room for a base copy needs.
//
//   apply:   w' = round(w + d) for every element (d = Δ̂ in f32, round = to the weight's
//            dtype, nearest even); then, for the same element, r = round_back(w' − d):
//            where r ≠ w (bitwise) the element's original bits go into a RestorePatch.
//   restore: w = round_back(w' − d) for every element, then the patch writes its bits back.
// round_back is round, except for bf16: half away from zero, (bits + 0x8000) >> 16 (two
// integer operations instead of seven). Exactness needs only that the check and the
// restore round alike; the two roundings differ on exact ties and NaN alone, so the patch
// is the same size (3.313 % of the elements in `meswitch bench switch` either way).
// Exact by construction for f32, f16 and bf16 (also where w + d overflows or w is NaN),
// as long as restore decodes the same d, which it does: the same code decodes the same
// packed delta. d is decoded into a row buffer first, so the compiler cannot fuse the
// decode's multiply into the add differently in the two passes.
//
// Both passes stream each row once: Δ̂ is decoded into a row buffer, then one SIMD loop
// adds, rounds, checks the round trip and stores (see inplace_delta.cpp); rows run in
// parallel on the pool.
//
// Cost: one more subtraction and rounding per element at apply time, and 8 bytes per
// patched element. Rounding comes back unless w' lands in a larger binade than w (then
// half an ulp of w' can be a whole ulp of w, or more when |d| > |w|) or on a tie. The rate
// depends on |Δ|/|W|: measured 15 % of the elements on tiny bf16/f16 test experts whose
// delta is ~40 % of the weights, and ~3 % at a more realistic 5 % (see `meswitch bench
// switch`). When the patch would cost more than the weight itself (rate > 25 % for
// bf16/f16, > 50 % for f32), apply_in_place keeps a pristine copy of that weight instead,
// so the overhead per weight is at most min(8 × rate, 1) × its bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "meswitch/tensor.h"

namespace meswitch {
class ThreadPool;
}

namespace meswitch::serve {

// A writable row-major weight of rows × cols elements (f32, f16 or bf16).
struct MutableWeight {
    DType dtype = DType::f32;
    std::int64_t rows = 0, cols = 0;
    std::byte* data = nullptr;
};

// Elements whose subtraction does not give the original bits back.
struct RestorePatch {
    std::vector<std::uint32_t> index;  // row-major element index, increasing
    std::vector<std::uint32_t> bits;   // original bit pattern (16 or 32 bits)
    std::vector<std::byte> pristine;   // when not empty: the whole original weight instead

    std::uint64_t bytes() const { return pristine.empty() ? index.size() * 8 : pristine.size(); }
    // Elements this patch restores (all of them with a pristine copy).
    std::uint64_t elements(std::uint64_t numel) const {
        return pristine.empty() ? index.size() : numel;
    }
};

// Writes row `row` of Δ̂ (cols floats) into `out`; called concurrently for different rows.
using DeltaRowFn = std::function<void(std::int64_t row, float* out)>;

// w ← round(w + Δ̂); returns the patch that makes restore_in_place exact. Error(unsupported)
// for other dtypes or tensors of 2³² elements or more. `pool` may be null (one thread).
RestorePatch apply_in_place(const MutableWeight& w, const DeltaRowFn& delta_row, ThreadPool* pool);

// w ← round(w − Δ̂), then the patched elements get their original bits back.
void restore_in_place(const MutableWeight& w, const DeltaRowFn& delta_row,
                      const RestorePatch& patch, ThreadPool* pool);

// out ← round(base + Δ̂) for every element: the one-pass switch when the pristine weight is
// still at hand (the CPU backend keeps the loaded weights and writes working copies, as the
// GPU backend keeps a device copy of each touched base weight). Nothing to undo: going back
// to the base is reading `base` again. base has out's shape and dtype; they may alias.
// Error(unsupported) as apply_in_place. `pool` may be null (one thread).
void apply_from_base(const MutableWeight& out, const std::byte* base, const DeltaRowFn& delta_row,
                     ThreadPool* pool);

// The row kernels under both (SIMD, dispatched at run time; exposed for tests).
// apply_row_in_place: row[c] ← round(row[c] + d[c]) for c < cols, and for every c where
// round(row'[c] − d[c]) is not the original bits, appends (base + c, original bits) to
// index/bits, which need room for cols + row_patch_slack entries; returns how many.
inline constexpr std::size_t row_patch_slack = 64;
std::size_t apply_row_in_place(DType dtype, std::byte* row, const float* d, std::size_t cols,
                               std::uint32_t base, std::uint32_t* index, std::uint32_t* bits);
// row[c] ← round(row[c] − d[c]) for c < cols.
void restore_row_in_place(DType dtype, std::byte* row, const float* d, std::size_t cols);
// out[c] ← round(base[c] + d[c]) for c < cols (apply_from_base's row).
void apply_row_from_base(DType dtype, const std::byte* base, std::byte* out, const float* d,
                         std::size_t cols);

}  // namespace meswitch::serve
