// ME-Switch delta compression of one linear layer, and the two baselines that share its
// storage format (RTN, BitDelta).
//
// Δ = W_expert − W_base is rows × cols (rows = output features, cols = input features).
// A CompressedLinear stores:
//   - k salient input channels (columns) kept intact in 16 bits: salient_idx (sorted,
//     unique, in [0, cols)) and salient_values (rows × k, raw f16 or bf16 bits, row-major);
//   - every other column quantized to `bits` (1..4) unsigned codes q ∈ [0, 2^bits − 1],
//     dequantized as  Δ̂[r, i] = scale_r · (q − zero_r).
//     Codes cover only the non-salient columns, in increasing column order; each row is
//     packed densely, little-endian bit order (code j of a row occupies bits
//     [j·bits, (j+1)·bits) of the row, bit 0 = least significant bit of byte 0), and every
//     row is padded to whole bytes: row_bytes = ceil((cols − k) · bits / 8).
//   - scales: f16 bits, one per row, or exactly one for the whole matrix (BitDelta).
//   - zeros, by zero_format: midpoint (symmetric; zero = (2^bits − 1) / 2, nothing stored),
//     u8 (zero = zeros[r] · (2^bits − 1) / 255, one byte per row), f16 (zero = f16 bits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delta/quant/calibration.h"
#include "meswitch/progress.h"
#include "meswitch/tensor.h"

namespace meswitch::delta {

// Stored in .msd files: values are stable, never renumber.
enum class Method : std::uint8_t { meswitch = 0, rtn = 1, bitdelta = 2 };
const char* method_name(Method method);                     // "meswitch", "rtn", "bitdelta"
std::optional<Method> parse_method(std::string_view name);  // inverse of method_name

// Stored in .msd files: values are stable, never renumber.
enum class ZeroFormat : std::uint8_t { midpoint = 0, u8 = 1, f16 = 2 };
const char* zero_format_name(ZeroFormat format);  // "midpoint", "u8", "f16"

// How many salient input channels to keep: a count ("16") or a fraction of the columns
// ("2%" or "0.02" with is_fraction). count() rounds to nearest and clamps to [0, cols].
struct SalientSpec {
    bool is_fraction = true;
    double value = 0.005;  // default 0.5 %: keeps 4096-input layers at ≤ 2.1 bits/param

    std::int64_t count(std::int64_t cols) const;
    std::string to_string() const;  // "16" or "1%"
    // Accepts "16", "0", "2%", "0.5%". Throws Error(invalid_argument) naming the text.
    static SalientSpec parse(std::string_view text);
};

struct QuantOptions {
    Method method = Method::meswitch;
    int bits = 2;                             // 1..4 (bitdelta: ignored, always 1)
    SalientSpec salient;                      // meswitch only; rtn/bitdelta keep none
    DType salient_dtype = DType::f16;         // f16 or bf16
    ZeroFormat zero_format = ZeroFormat::u8;  // meswitch only (rtn: f16, bitdelta: midpoint)
    int clip_grid = 5;          // clipping ratios 1.0 … 0.3 tried per row (meswitch)
    int refine_iterations = 2;  // LS-scale / re-round alternations (meswitch)
    // GPTQ-style column-wise error feedback with G⁻¹ (meswitch, needs a Gram matrix) for
    // layers with cols <= gptq_max_cols (its cost grows as rows·cols²); 0: never.
    std::int64_t gptq_max_cols = 1024;
    // Layers wider than 1024 coded channels search scales in the metric diag(G) + the top
    // metric_rank eigen-directions of G; 0 (default): diagonal only (measured: rank 32 gave
    // no gain once salient channels are kept, at 3× the time).
    int metric_rank = 0;
    double damp = 0.01;  // Gram dampening, fraction of mean diag
    int threads = 0;     // worker threads; <= 0: hardware concurrency
};

struct CompressedLinear {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    Method method = Method::meswitch;
    int bits = 2;
    ZeroFormat zero_format = ZeroFormat::midpoint;
    DType salient_dtype = DType::f16;
    std::vector<std::int32_t> salient_idx;      // k, sorted unique
    std::vector<std::uint16_t> salient_values;  // rows × k raw 16-bit values
    std::int64_t row_bytes = 0;                 // ceil((cols − k) · bits / 8)
    std::vector<std::uint8_t> codes;            // rows × row_bytes
    std::vector<std::uint16_t> scales;          // rows f16 bits, or 1 (per matrix)
    std::vector<std::uint16_t> zeros;           // rows: u8 values or f16 bits; empty: midpoint

    std::int64_t salient_count() const { return static_cast<std::int64_t>(salient_idx.size()); }
    float scale_at(std::int64_t row) const;
    float zero_at(std::int64_t row) const;

    // All stored bytes: codes + scales + zeros + salient values + salient indices (4 B each).
    std::size_t storage_bytes() const;
    double bits_per_param() const;  // storage_bytes · 8 / (rows · cols)

    // Throws Error(format) naming `what` when the parts disagree (sizes, bits, indices
    // out of range / unsorted / duplicated, bad dtypes, non-finite scales or salient
    // values). Every consumer may rely on a validated CompressedLinear.
    void validate(std::string_view what) const;
};

// Compresses delta (rows × cols f32, row-major). stats.cols must equal cols; stats may be
// diagonal only (then the output-error metric is diagonal). Throws Error(invalid_argument)
// on mismatched sizes, bits outside 1..4, non-finite delta; Error(cancelled) when cancel
// is set (polled between row blocks).
CompressedLinear compress_linear(const float* delta, std::int64_t rows, std::int64_t cols,
                                 const CalibrationStats& stats, const QuantOptions& options,
                                 const CancelToken* cancel = nullptr);

// Δ̂ as rows × cols f32 into out.
void reconstruct(const CompressedLinear& linear, float* out);
// Rows [r0, r1) of Δ̂ into out ((r1 − r0) × cols); safe to call for disjoint ranges at once.
void reconstruct_rows(const CompressedLinear& linear, std::int64_t r0, std::int64_t r1, float* out);

// y (n × rows) += x (n × cols) · Δ̂ᵀ, computed from the packed form without materialising Δ̂
// (CPU reference for the device kernels).
void add_delta_product(const CompressedLinear& linear, const float* x, std::int64_t n, float* y);

struct LinearError {
    double rel_output_error = 0;  // ‖X(Δ−Δ̂)ᵀ‖_F / ‖XΔᵀ‖_F over eval_stats (diag metric if no gram)
    double rel_weight_error = 0;  // ‖Δ−Δ̂‖_F / ‖Δ‖_F
};
// sample_rows > 0 and < rows: the ratio is estimated on that many evenly spaced rows (the
// exact Gram metric costs rows·cols² flops, too slow for 7B layers); 0: all rows, exact.
// threads <= 0: all cores. The figures do not depend on the thread count.
LinearError measure_error(const float* delta, const CompressedLinear& linear,
                          const CalibrationStats& eval_stats, std::int64_t sample_rows = 0,
                          int threads = 0);

}  // namespace meswitch::delta
