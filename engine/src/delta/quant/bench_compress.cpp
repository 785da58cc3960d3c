// Compression benchmark on synthetic Mistral-7B-shaped layers (see bench_compress.h).
#include "delta/quant/bench_compress.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <string>

#include "delta/quant/meswitch_quant.h"
#include "delta/quant/synthetic_layer.h"
#include "meswitch/error.h"

namespace meswitch::delta {
namespace {

struct ShapeSpec {
    const char* name;
    std::int64_t rows, cols;
    int per_layer;
};

constexpr ShapeSpec mistral_shapes[] = {
    {"q/o 4096x4096", 4096, 4096, 2},
    {"k/v 1024x4096", 1024, 4096, 2},
    {"gate/up 14336x4096", 14336, 4096, 2},
    {"down 4096x14336", 4096, 14336, 1},
};

struct Prepared {
    SyntheticLayer layer;
    CalibrationStats calib, eval;
};

// Divides rows and cols by `scale`, but cols never drop to where a layer would take the
// narrow-layer (exact Gram) path that 4096-input layers do not take: times and errors are
// the 7B path's, and times scale back up by full / measured parameters.
Prepared prepare(const ShapeSpec& s, int scale, std::int64_t samples, std::uint64_t seed) {
    SyntheticLayerOptions o;
    o.rows = std::max<std::int64_t>(1, s.rows / scale);
    o.cols = std::max<std::int64_t>(2, s.cols / scale);
    o.cols = std::max(o.cols, std::min(s.cols, 2 * detail::exact_metric_max_cols));
    o.samples = 2 * samples;
    o.outliers = std::max<std::int64_t>(1, o.cols / 512);  // ~8 per 4096 channels
    o.seed = seed;
    Prepared p{make_synthetic_layer(o), CalibrationStats(o.cols), CalibrationStats(o.cols)};
    p.calib.add(p.layer.x.data(), samples);                    // first half: calibration
    p.eval.add(p.layer.x.data() + samples * o.cols, samples);  // second half: held out
    p.layer.x.clear();
    p.layer.x.shrink_to_fit();
    return p;
}

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

BenchCompressResult bench_compress(const BenchCompressOptions& options, const ProgressFn& progress,
                                   const CancelToken* cancel) {
    if (options.scale_down < 1 || options.table_scale_down < 1 || options.samples < 1)
        throw Error(ErrorKind::invalid_argument,
                    "bench compress: scale-down factors and samples must be >= 1");
    BenchCompressResult out;
    const int nshapes = static_cast<int>(std::size(mistral_shapes));
    for (int si = 0; si < nshapes; ++si) {
        const ShapeSpec& s = mistral_shapes[si];
        if (cancel) cancel->throw_if_cancelled("bench compress");
        if (progress) progress(double(si) / nshapes, std::string("compressing ") + s.name);
        Prepared p = prepare(s, options.scale_down, options.samples, options.seed + si);
        const auto t0 = std::chrono::steady_clock::now();
        CompressedLinear c = compress_linear(p.layer.delta.data(), p.layer.rows, p.layer.cols,
                                             p.calib, options.quant, cancel);
        const double sec =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        QuantOptions rtn_opt = options.quant;
        rtn_opt.method = Method::rtn;
        CompressedLinear rtn =
            compress_linear(p.layer.delta.data(), p.layer.rows, p.layer.cols, p.calib, rtn_opt);
        BenchShape b;
        b.name = s.name;
        b.rows = p.layer.rows;
        b.cols = p.layer.cols;
        b.per_7b_layer = s.per_layer;
        b.seconds = sec;
        b.bits_per_param = c.bits_per_param();
        b.rel_output_error = measure_error(p.layer.delta.data(), c, p.eval, 256).rel_output_error;
        b.rtn_rel_output_error =
            measure_error(p.layer.delta.data(), rtn, p.eval, 256).rel_output_error;
        out.shapes.push_back(b);
        // Time grows with rows × cols on this path: scale back up by the parameter ratio.
        out.seconds_per_7b_layer += s.per_layer * sec * double(s.rows) * double(s.cols) /
                                    (double(p.layer.rows) * double(p.layer.cols));
    }
    out.extrapolated_7b_minutes = 32.0 * out.seconds_per_7b_layer / 60.0;
    if (options.table) {
        std::vector<Prepared> small;
        for (int si = 0; si < nshapes; ++si)
            small.push_back(prepare(mistral_shapes[si], options.table_scale_down, options.samples,
                                    options.seed + 100 + si));
        auto run = [&](Method m, int bits, double frac) {
            BenchTableRow row;
            row.method = m;
            row.bits = m == Method::bitdelta ? 1 : bits;
            row.salient_fraction = frac;
            for (Prepared& p : small) {
                if (cancel) cancel->throw_if_cancelled("bench compress");
                QuantOptions q = options.quant;
                q.method = m;
                q.bits = row.bits;
                q.salient.is_fraction = true;
                q.salient.value = frac;
                CompressedLinear c = compress_linear(p.layer.delta.data(), p.layer.rows,
                                                     p.layer.cols, p.calib, q, cancel);
                row.rel_output_error +=
                    measure_error(p.layer.delta.data(), c, p.eval, 256).rel_output_error /
                    small.size();
                row.bits_per_param += c.bits_per_param() / small.size();
            }
            out.table.push_back(row);
        };
        run(Method::bitdelta, 1, 0.0);
        for (int bits : options.table_bits) {
            if (progress) progress(0.99, "error table, " + std::to_string(bits) + " bits");
            run(Method::rtn, bits, 0.0);
            for (double f : options.table_salient) run(Method::meswitch, bits, f);
        }
    }
    out.peak_rss_mib = peak_rss_mib();
    if (progress) progress(1.0, "done");
    return out;
}

}  // namespace meswitch::delta
