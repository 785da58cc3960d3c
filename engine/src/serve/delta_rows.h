// Row-by-row decoding of a delta into f32 (Δ̂ for a compressed linear, the widened values
// for a dense one), for the in-place apply/restore passes.
#pragma once

#include "delta/msd/msd_file.h"
#include "serve/inplace_delta.h"

namespace meswitch::serve {

// Rows of Δ̂ exactly as delta::reconstruct computes them (same arithmetic, same bits).
// `linear` must be validated and outlive the returned function.
DeltaRowFn compressed_rows(const delta::CompressedLinear& linear);

// Rows of a dense delta seen as rows × cols (a 1-D delta is one row). `d` must outlive the
// returned function.
DeltaRowFn dense_rows(const delta::DenseDelta& d, std::int64_t cols);

}  // namespace meswitch::serve
