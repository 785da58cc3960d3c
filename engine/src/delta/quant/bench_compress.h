// `meswitch bench compress`: times ME-Switch compression on synthetic Mistral-7B-shaped
// layers, extrapolates to a whole 7B expert, and optionally tabulates relative output error
// versus bits and salient fraction for ME-Switch, RTN and BitDelta.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "delta/quant/quantize.h"
#include "meswitch/progress.h"

namespace meswitch::delta {

struct BenchCompressOptions {
    int scale_down = 1;          // divide shapes by this (cols kept >= 2048, the 7B path); 1: full
    std::int64_t samples = 512;  // calibration activation vectors per shape
    bool table = false;          // also compute the error table (shapes / table_scale_down)
    int table_scale_down = 8;
    std::vector<int> table_bits = {1, 2, 3, 4};
    std::vector<double> table_salient = {0.0, 0.005, 0.01, 0.02, 0.05};
    QuantOptions quant;  // ME-Switch options timed (defaults)
    std::uint64_t seed = 1;
};

struct BenchShape {
    std::string name;  // "q/o 4096x4096", ...
    std::int64_t rows = 0, cols = 0;
    int per_7b_layer = 0;  // how many linears of this shape one decoder layer has
    double seconds = 0;    // compress_linear wall time
    double bits_per_param = 0;
    double rel_output_error = 0;      // ME-Switch, on held-out activations
    double rtn_rel_output_error = 0;  // RTN at the same bits, same activations
};

struct BenchTableRow {
    Method method = Method::meswitch;
    int bits = 2;
    double salient_fraction = 0;  // meswitch only
    double rel_output_error = 0;  // mean over the shapes
    double bits_per_param = 0;    // mean over the shapes
};

struct BenchCompressResult {
    std::vector<BenchShape> shapes;
    double seconds_per_7b_layer = 0;     // Σ per_7b_layer · seconds × full/measured params
    double extrapolated_7b_minutes = 0;  // 32 layers
    double peak_rss_mib = 0;             // getrusage ru_maxrss
    std::vector<BenchTableRow> table;
};

BenchCompressResult bench_compress(const BenchCompressOptions& options,
                                   const ProgressFn& progress = {},
                                   const CancelToken* cancel = nullptr);

}  // namespace meswitch::delta
