// Relative output error in the Gram metric and relative weight error of a compressed layer.
#include <cblas.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "delta/quant/linalg.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

namespace meswitch::delta {
namespace {

// Σ_i term(i) for i in [0, n): the terms on the pool, added in index order, so the sum is the
// same on any number of threads.
double ordered_sum(ThreadPool& pool, std::size_t n,
                   const std::function<double(std::size_t)>& term) {
    std::vector<double> terms(n);
    pool.parallel_for(
        n,
        [&](std::size_t i0, std::size_t i1) {
            for (std::size_t i = i0; i < i1; ++i) terms[i] = term(i);
        },
        16);
    double sum = 0;
    for (double v : terms) sum += v;
    return sum;
}

}  // namespace

LinearError measure_error(const float* delta, const CompressedLinear& c,
                          const CalibrationStats& stats, std::int64_t sample_rows, int threads) {
    c.validate("compressed layer");
    if (stats.cols != c.cols || static_cast<std::int64_t>(stats.diag.size()) != c.cols)
        throw Error(ErrorKind::invalid_argument,
                    "measure_error: statistics have " + std::to_string(stats.cols) +
                        " columns, the layer " + std::to_string(c.cols));
    // Rows to evaluate: all, or `sample_rows` evenly spaced ones (slot[r]: r's place, or -1).
    const bool sampled = sample_rows > 0 && sample_rows < c.rows;
    const std::int64_t m = sampled ? sample_rows : c.rows, n = c.cols;
    std::vector<std::int64_t> slot(static_cast<std::size_t>(c.rows), sampled ? -1 : 0);
    if (sampled)
        for (std::int64_t i = 0; i < m; ++i) slot[static_cast<std::size_t>(i * c.rows / m)] = i;
    else
        for (std::int64_t r = 0; r < c.rows; ++r) slot[static_cast<std::size_t>(r)] = r;
    // One pass over the rows on the pool: each row reconstructed, its weight-error sums in
    // double (kept per row and added in row order, so the figure is the same on any number
    // of threads), and for a sampled row its error (first m rows of ed) and delta (next m
    // rows), in float: the quadratic forms below are single-precision products with the sums
    // kept in double (the figures agree with an all-double computation to about 6 digits).
    ThreadPool pool(threads);
    std::vector<float> ed(static_cast<std::size_t>(2 * m * n));
    std::vector<double> row_we(static_cast<std::size_t>(c.rows)), row_wd(row_we.size());
    pool.parallel_for(
        static_cast<std::size_t>(c.rows),
        [&](std::size_t r0, std::size_t r1) {
            std::vector<float> block((r1 - r0) * static_cast<std::size_t>(n));
            reconstruct_rows(c, static_cast<std::int64_t>(r0), static_cast<std::int64_t>(r1),
                             block.data());
            for (std::size_t r = r0; r < r1; ++r) {
                const float* hat = block.data() + (r - r0) * static_cast<std::size_t>(n);
                const float* dr = delta + r * static_cast<std::size_t>(n);
                double we = 0, wd = 0;
                for (std::int64_t i = 0; i < n; ++i) {
                    const double dv = dr[i], ev = dv - hat[i];
                    we += ev * ev;
                    wd += dv * dv;
                }
                row_we[r] = we;
                row_wd[r] = wd;
                const std::int64_t a = slot[r];
                if (a < 0) continue;
                float* er = ed.data() + a * n;
                float* dd = ed.data() + (m + a) * n;
                for (std::int64_t i = 0; i < n; ++i) {
                    er[i] = dr[i] - hat[i];
                    dd[i] = dr[i];
                }
            }
        },
        16);
    double we = 0, wd = 0;
    for (std::size_t r = 0; r < row_we.size(); ++r) {
        we += row_we[r];
        wd += row_wd[r];
    }
    double oe = 0, od = 0;
    const std::int64_t t = stats.samples;
    if (stats.keep_samples && t > 0 && static_cast<std::int64_t>(stats.x.size()) == t * n &&
        (2 * t < n || stats.gram.empty())) {
        // Σ_r a_r G a_rᵀ = Σ_r ‖X a_rᵀ‖² = ‖A Xᵀ‖²_F from the kept activations: A Xᵀ by sgemm,
        // m·n·t multiply-adds, fewer than ssyrk's m·n²/2 when t < n/2 (a 7B down_proj: 14336
        // inputs, 3178 calibration tokens); squares summed in double per row, in row order.
        std::vector<float> p(static_cast<std::size_t>(m * t));
        auto quad = [&](const float* a) {
            {
                const detail::BlasThreads blas(detail::BlasThreads::for_size(std::max(m, n)));
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m),
                            static_cast<int>(t), static_cast<int>(n), 1.0f, a, static_cast<int>(n),
                            stats.x.data(), static_cast<int>(n), 0.0f, p.data(),
                            static_cast<int>(t));
            }
            return ordered_sum(pool, static_cast<std::size_t>(m), [&](std::size_t r) {
                const float* pr = p.data() + r * static_cast<std::size_t>(t);
                double acc[4] = {0, 0, 0, 0};
                std::int64_t j = 0;
                for (; j + 4 <= t; j += 4)
                    for (int l = 0; l < 4; ++l) acc[l] += double(pr[j + l]) * pr[j + l];
                for (; j < t; ++j) acc[0] += double(pr[j]) * pr[j];
                return (acc[0] + acc[1]) + (acc[2] + acc[3]);
            });
        };
        oe = quad(ed.data());
        od = quad(ed.data() + m * n);
    } else if (!stats.gram.empty()) {
        // Σ_r a_r G a_rᵀ = ⟨G, AᵀA⟩: AᵀA by ssyrk (upper triangle, m·n² multiply-adds, half
        // of what G·Aᵀ takes), then its inner product with G in double, rows of the triangle
        // on the pool (sums per row, added in order).
        std::vector<float> s(static_cast<std::size_t>(n * n));
        auto quad = [&](const float* a) {
            {
                const detail::BlasThreads blas(detail::BlasThreads::for_size(std::max(m, n)));
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(n),
                            static_cast<int>(m), 1.0f, a, static_cast<int>(n), 0.0f, s.data(),
                            static_cast<int>(n));
            }
            return ordered_sum(pool, static_cast<std::size_t>(n), [&](std::size_t i) {
                const double* g = stats.gram.data() + i * static_cast<std::size_t>(n);
                const float* sr = s.data() + i * static_cast<std::size_t>(n);
                // Four partial sums: the loop vectorises without reassociation.
                double off[4] = {0, 0, 0, 0};
                std::int64_t j = static_cast<std::int64_t>(i) + 1;
                for (; j + 4 <= n; j += 4)
                    for (int l = 0; l < 4; ++l) off[l] += g[j + l] * double(sr[j + l]);
                for (; j < n; ++j) off[0] += g[j] * double(sr[j]);
                return g[i] * double(sr[i]) + 2.0 * ((off[0] + off[1]) + (off[2] + off[3]));
            });
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
