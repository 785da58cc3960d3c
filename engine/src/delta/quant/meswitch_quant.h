// ME-Switch salient-aware mixed-precision quantization of one layer (meswitch_quant.cpp)
// and its building blocks.
#pragma once

#include <cstdint>
#include <vector>

#include "delta/quant/metric.h"
#include "delta/quant/quantize.h"

namespace meswitch::delta::detail {

// Layers with at most this many coded channels use the exact Gram metric.
inline constexpr std::int64_t exact_metric_max_cols = 1024;

// Top-k input channels by err_i = diag_i · ‖Δ[:, i] − Q0(Δ)[:, i]‖², Q0 a per-row
// Gaussian-optimal uniform quantizer at `bits`; returned sorted ascending. Rows are scored
// on `threads` threads (<= 0: all cores).
std::vector<std::int64_t> select_salient(const float* delta, std::int64_t rows, std::int64_t cols,
                                         const std::vector<double>& diag, int bits, std::int64_t k,
                                         int threads = 1);

// GPTQ error feedback: codes (rows × n) for w (rows × n) with fixed per-row scale/zero,
// quantizing column by column and pushing each column's error onto the later ones through
// the upper Cholesky factor of h⁻¹. Returns false when h cannot be inverted.
bool gptq_codes(const float* w, std::int64_t rows, std::int64_t n, const std::vector<double>& h,
                const std::vector<float>& scales, const std::vector<float>& zeros, int levels,
                int threads, std::uint8_t* codes);

CompressedLinear compress_meswitch(const float* delta, std::int64_t rows, std::int64_t cols,
                                   const CalibrationStats& stats, const QuantOptions& options,
                                   const CancelToken* cancel);

}  // namespace meswitch::delta::detail
