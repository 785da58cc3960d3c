// Row-by-row decoding of a delta into f32 (Δ̂ for a compressed linear, the widened values
// for a dense one), for the in-place apply/restore passes.
#pragma once

#include "delta/msd/msd_file.h"
#include "serve/inplace_delta.h"

namespace meswitch::serve {

// Rows of Δ̂ exactly as delta::reconstruct computes them (same arithmetic, same bits).
// `linear` must be validated and outlive the returned function.
DeltaRowFn compressed_rows(const delta::CompressedLinear& linear);

// out[j] = scale · (q − zero) for codes first … first + count − 1 of one packed row (the
// codes of the non-salient columns, see delta/quant/quantize.h); `end` is the end of the
// codes buffer, which the SIMD loop never reads past. Exposed for tests.
void decode_coded_row(const std::uint8_t* packed, const std::uint8_t* end, std::int64_t first,
                      std::int64_t count, int bits, float scale, float zero, float* out);

// Rows of a dense delta seen as rows × cols (a 1-D delta is one row). `d` must outlive the
// returned function.
DeltaRowFn dense_rows(const delta::DenseDelta& d, std::int64_t cols);

}  // namespace meswitch::serve
