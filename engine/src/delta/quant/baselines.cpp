// Baselines in the ME-Switch storage format:
//   RTN: per-row asymmetric min/max round-to-nearest, f16 scale and zero, no clipping
//        search, no salient channels.
//   BitDelta: sign bits × one scale per matrix (mean |Δ|): 1-bit codes, midpoint zero 0.5,
//        stored scale 2·mean|Δ| so that Δ̂ = ±mean|Δ|.
#include <cmath>
#include <vector>

#include "delta/quant/baselines.h"
#include "delta/quant/packing.h"
#include "delta/quant/row_quant.h"

namespace meswitch::delta::detail {

CompressedLinear compress_rtn(const float* delta, std::int64_t rows, std::int64_t cols, int bits) {
    CompressedLinear c;
    c.rows = rows;
    c.cols = cols;
    c.method = Method::rtn;
    c.bits = bits;
    c.zero_format = ZeroFormat::f16;
    c.row_bytes = packed_bytes(cols, bits);
    c.codes.assign(static_cast<std::size_t>(rows * c.row_bytes), 0);
    c.scales.resize(static_cast<std::size_t>(rows));
    c.zeros.resize(static_cast<std::size_t>(rows));
    const int levels = (1 << bits) - 1;
    std::vector<std::uint8_t> q(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* w = delta + r * cols;
        float lo = w[0], hi = w[0];
        for (std::int64_t i = 1; i < cols; ++i) {
            lo = std::min(lo, w[i]);
            hi = std::max(hi, w[i]);
        }
        float range = hi - lo;
        if (!(range > 0)) range = std::max(std::fabs(lo), 1e-30f);
        std::uint16_t sraw = 0, zraw = 0;
        float s = stored_scale(range / static_cast<float>(levels), &sraw);
        float z = -lo / s;
        if (std::fabs(z) > 60000.0f) {  // row far from zero: widen the range to include 0
            lo = std::min(lo, 0.0f);
            hi = std::max(hi, 0.0f);
            s = stored_scale((hi - lo) / static_cast<float>(levels), &sraw);
            z = -lo / s;
        }
        z = stored_zero(z, ZeroFormat::f16, levels, &zraw);
        c.scales[static_cast<std::size_t>(r)] = sraw;
        c.zeros[static_cast<std::size_t>(r)] = zraw;
        const float inv = 1.0f / s;
        for (std::int64_t i = 0; i < cols; ++i)
            q[static_cast<std::size_t>(i)] = quant_code(w[i], inv, z, float(levels));
        pack_codes(q.data(), cols, bits, c.codes.data() + r * c.row_bytes);
    }
    return c;
}

CompressedLinear compress_bitdelta(const float* delta, std::int64_t rows, std::int64_t cols) {
    CompressedLinear c;
    c.rows = rows;
    c.cols = cols;
    c.method = Method::bitdelta;
    c.bits = 1;
    c.zero_format = ZeroFormat::midpoint;
    c.row_bytes = packed_bytes(cols, 1);
    c.codes.assign(static_cast<std::size_t>(rows * c.row_bytes), 0);
    double sum = 0;
    for (std::int64_t i = 0; i < rows * cols; ++i) sum += std::fabs(delta[i]);
    const double mean = sum / static_cast<double>(rows * cols);
    std::uint16_t raw = 0;
    stored_scale(static_cast<float>(2.0 * mean), &raw);
    c.scales = {raw};
    std::vector<std::uint8_t> q(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t i = 0; i < cols; ++i)
            q[static_cast<std::size_t>(i)] = delta[r * cols + i] >= 0.0f ? 1 : 0;
        pack_codes(q.data(), cols, 1, c.codes.data() + r * c.row_bytes);
    }
    return c;
}

}  // namespace meswitch::delta::detail
