// compress_linear: argument checks and dispatch to ME-Switch or a baseline.
#include <cmath>
#include <string>

#include "delta/quant/baselines.h"
#include "delta/quant/meswitch_quant.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

namespace meswitch::delta {

CompressedLinear compress_linear(const float* delta, std::int64_t rows, std::int64_t cols,
                                 const CalibrationStats& stats, const QuantOptions& options,
                                 const CancelToken* cancel) {
    auto bad = [](const std::string& what) {
        throw Error(ErrorKind::invalid_argument, "compress_linear: " + what);
    };
    if (rows <= 0 || cols <= 0 || rows > (1ll << 31) || cols > (1ll << 31))
        bad("bad shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
    if (options.method != Method::bitdelta && (options.bits < 1 || options.bits > 4))
        bad("bits " + std::to_string(options.bits) + " not in 1..4");
    if (options.salient_dtype != DType::f16 && options.salient_dtype != DType::bf16)
        bad("salient values must be f16 or bf16");
    if (stats.cols != cols || static_cast<std::int64_t>(stats.diag.size()) != cols ||
        (!stats.gram.empty() && static_cast<std::int64_t>(stats.gram.size()) != cols * cols) ||
        (stats.gram_deferred && static_cast<std::int64_t>(stats.x.size()) != stats.samples * cols))
        bad("calibration statistics have " + std::to_string(stats.cols) + " columns, the layer " +
            std::to_string(cols));
    for (std::int64_t i = 0; i < rows * cols; ++i)
        if (!std::isfinite(delta[i]))
            bad("non-finite delta at row " + std::to_string(i / cols) + ", column " +
                std::to_string(i % cols));
    if (cancel) cancel->throw_if_cancelled("delta compression");
    CompressedLinear out;
    switch (options.method) {
        case Method::rtn:
            out = detail::compress_rtn(delta, rows, cols, options.bits);
            break;
        case Method::bitdelta:
            out = detail::compress_bitdelta(delta, rows, cols);
            break;
        case Method::meswitch:
            out = detail::compress_meswitch(delta, rows, cols, stats, options, cancel);
            break;
        default:
            bad("unknown method");
    }
    out.validate("compressed layer");
    return out;
}

}  // namespace meswitch::delta
