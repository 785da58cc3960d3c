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
    std::vector<double> e(static_cast<std::size_t>(m * n)), d(static_cast<std::size_t>(m * n));
    double we = 0, wd = 0;
    for (std::int64_t a = 0; a < m; ++a)
        for (std::int64_t i = 0; i < n; ++i) {
            const double dv = delta[rows[a] * n + i];
            const double ev = dv - hat[static_cast<std::size_t>(rows[a] * n + i)];
            e[static_cast<std::size_t>(a * n + i)] = ev;
            d[static_cast<std::size_t>(a * n + i)] = dv;
        }
    for (std::int64_t r = 0; r < c.rows; ++r)
        for (std::int64_t i = 0; i < n; ++i) {
            const double dv = delta[r * n + i], ev = dv - hat[static_cast<std::size_t>(r * n + i)];
            we += ev * ev;
            wd += dv * dv;
        }
    double oe = 0, od = 0;
    if (stats.has_gram()) {
        std::vector<double> p(static_cast<std::size_t>(m * n));
        const detail::BlasThreads blas(detail::BlasThreads::for_size(std::max(m, n)));
        auto quad = [&](const std::vector<double>& a) {
            cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, static_cast<int>(m),
                        static_cast<int>(n), 1.0, stats.gram.data(), static_cast<int>(n), a.data(),
                        static_cast<int>(n), 0.0, p.data(), static_cast<int>(n));
            double s = 0;
            for (std::size_t i = 0; i < p.size(); ++i) s += p[i] * a[i];
            return s;
        };
        oe = quad(e);
        od = quad(d);
    } else {
        for (std::int64_t a = 0; a < m; ++a)
            for (std::int64_t i = 0; i < n; ++i) {
                const double g = stats.diag[static_cast<std::size_t>(i)];
                oe += g * e[static_cast<std::size_t>(a * n + i)] *
                      e[static_cast<std::size_t>(a * n + i)];
                od += g * d[static_cast<std::size_t>(a * n + i)] *
                      d[static_cast<std::size_t>(a * n + i)];
            }
    }
    LinearError out;
    out.rel_output_error = od > 0 ? std::sqrt(std::max(0.0, oe) / od) : (oe > 0 ? INFINITY : 0.0);
    out.rel_weight_error = wd > 0 ? std::sqrt(we / wd) : (we > 0 ? INFINITY : 0.0);
    return out;
}

}  // namespace meswitch::delta
