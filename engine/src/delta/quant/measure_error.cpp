// Relative output error in the Gram metric and relative weight error of a compressed layer.
#include <cblas.h>

#include <cmath>
#include <string>
#include <vector>

#include "delta/quant/linalg.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

namespace meswitch::delta {

LinearError measure_error(const float* delta, const CompressedLinear& c,
                          const CalibrationStats& stats, std::int64_t sample_rows) {
    c.validate("compressed layer");
    if (stats.cols != c.cols || static_cast<std::int64_t>(stats.diag.size()) != c.cols)
        throw Error(ErrorKind::invalid_argument,
                    "measure_error: statistics have " + std::to_string(stats.cols) +
                        " columns, the layer " + std::to_string(c.cols));
    // Rows to evaluate: all, or `sample_rows` evenly spaced ones.
    std::vector<std::int64_t> rows;
    if (sample_rows > 0 && sample_rows < c.rows) {
        for (std::int64_t i = 0; i < sample_rows; ++i) rows.push_back(i * c.rows / sample_rows);
    } else {
        for (std::int64_t r = 0; r < c.rows; ++r) rows.push_back(r);
    }
    // Full reconstruction row by row is simplest: reconstruct once (rows × cols floats).
    std::vector<float> hat(static_cast<std::size_t>(c.rows * c.cols));
    reconstruct(c, hat.data());
    const std::int64_t m = static_cast<std::int64_t>(rows.size()), n = c.cols;
    // The sampled rows' errors (first m rows) and deltas (next m rows), in float: the quadratic
    // forms below take one single-precision product for both (half the time of two in double;
    // the sums are kept in double, the figures agree to about 6 digits).
    std::vector<float> ed(static_cast<std::size_t>(2 * m * n));
    for (std::int64_t a = 0; a < m; ++a)
        for (std::int64_t i = 0; i < n; ++i) {
            const float dv = delta[rows[a] * n + i];
            ed[static_cast<std::size_t>(a * n + i)] =
                dv - hat[static_cast<std::size_t>(rows[a] * n + i)];
            ed[static_cast<std::size_t>((m + a) * n + i)] = dv;
        }
    double we = 0, wd = 0;
    for (std::int64_t r = 0; r < c.rows; ++r)
        for (std::int64_t i = 0; i < n; ++i) {
            const double dv = delta[r * n + i], ev = dv - hat[static_cast<std::size_t>(r * n + i)];
            we += ev * ev;
            wd += dv * dv;
        }
    double oe = 0, od = 0;
    if (stats.has_gram()) {
        std::vector<float> gram(stats.gram.size());
        for (std::size_t i = 0; i < gram.size(); ++i) gram[i] = static_cast<float>(stats.gram[i]);
        std::vector<float> p(ed.size());
        const detail::BlasThreads blas(detail::BlasThreads::for_size(std::max(2 * m, n)));
        cblas_ssymm(CblasRowMajor, CblasRight, CblasUpper, static_cast<int>(2 * m),
                    static_cast<int>(n), 1.0f, gram.data(), static_cast<int>(n), ed.data(),
                    static_cast<int>(n), 0.0f, p.data(), static_cast<int>(n));
        const std::size_t half = static_cast<std::size_t>(m * n);
        for (std::size_t i = 0; i < half; ++i) oe += double(p[i]) * ed[i];
        for (std::size_t i = half; i < p.size(); ++i) od += double(p[i]) * ed[i];
    } else {
        for (std::int64_t a = 0; a < m; ++a)
            for (std::int64_t i = 0; i < n; ++i) {
                const double g = stats.diag[static_cast<std::size_t>(i)];
                const double ev = ed[static_cast<std::size_t>(a * n + i)];
                const double dv = ed[static_cast<std::size_t>((m + a) * n + i)];
                oe += g * ev * ev;
                od += g * dv * dv;
            }
    }
    LinearError out;
    out.rel_output_error = od > 0 ? std::sqrt(std::max(0.0, oe) / od) : (oe > 0 ? INFINITY : 0.0);
    out.rel_weight_error = wd > 0 ? std::sqrt(we / wd) : (we > 0 ? INFINITY : 0.0);
    return out;
}

}  // namespace meswitch::delta
