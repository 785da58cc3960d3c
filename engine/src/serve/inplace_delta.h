// Merging a delta into a weight, bit-exactly: out = round(base + Δ̂) for every element
// (Δ̂ decoded to f32, the sum in f32, rounded to the weight's dtype to nearest even), in one
// pass from a pristine copy of the weight; going back to the base is reading the base again,
// so there is nothing to undo. The CPU backend's pristine copy is the loaded weight, the CUDA
// backend keeps a device copy of each touched weight for the same reason. The row kernel
// streams each row once (Δ̂ decoded into a row buffer, then one SIMD add-and-round loop with
// non-temporal stores where the output is aligned); rows run in parallel on the pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

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

// Writes row `row` of Δ̂ (cols floats) into `out`; called concurrently for different rows.
using DeltaRowFn = std::function<void(std::int64_t row, float* out)>;

// out ← round(base + Δ̂) for every element. base has out's shape and dtype; they may alias.
// Error(unsupported) for other dtypes or tensors of 2³² elements or more. `pool` may be
// null (one thread).
void apply_from_base(const MutableWeight& out, const std::byte* base, const DeltaRowFn& delta_row,
                     ThreadPool* pool);

// The row kernel (SIMD, dispatched at run time; exposed for tests): out[c] ← round(base[c] +
// d[c]) for c < cols.
void apply_row_from_base(DType dtype, const std::byte* base, std::byte* out, const float* d,
                         std::size_t cols);

}  // namespace meswitch::serve
