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
    // forms below are single-precision products with the sums kept in double (the figures
    // agree with an all-double computation to about 6 digits).
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
        // Σ_r a_r G a_rᵀ = ⟨G, AᵀA⟩: AᵀA by ssyrk (upper triangle, m·n² multiply-adds, half
        // of what G·Aᵀ takes), then its inner product with G in double.
        std::vector<float> s(static_cast<std::size_t>(n * n));
        const detail::BlasThreads blas(detail::BlasThreads::for_size(std::max(m, n)));
        auto quad = [&](const float* a) {
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(n),
                        static_cast<int>(m), 1.0f, a, static_cast<int>(n), 0.0f, s.data(),
                        static_cast<int>(n));
            double sum = 0;
            for (std::int64_t i = 0; i < n; ++i) {
                const double* g = stats.gram.data() + i * n;
                const float* sr = s.data() + i * n;
                double off = 0;
                for (std::int64_t j = i + 1; j < n; ++j) off += g[j] * double(sr[j]);
                sum += g[i] * double(sr[i]) + 2.0 * off;
            }
            return sum;
        };
        oe = quad(ed.data());
        od = quad(ed.data() + m * n);
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
