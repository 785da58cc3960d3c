// Construction of the output-error metric (see metric.h).
#include "delta/quant/metric.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "delta/quant/linalg.h"
#include "meswitch/error.h"

namespace meswitch::delta::detail {
namespace {

double mean_diag_of(const CalibrationStats& stats, const std::vector<std::int64_t>& idx) {
    double s = 0;
    for (std::int64_t i : idx) s += stats.diag[static_cast<std::size_t>(i)];
    s = idx.empty() ? 0 : s / static_cast<double>(idx.size());
    return s > 0 ? s : 1.0;
}

void finish(Metric& m) {
    m.vsum.assign(static_cast<std::size_t>(m.m), 0.0f);
    for (std::int64_t i = 0; i < m.n; ++i)
        for (std::int64_t j = 0; j < m.m; ++j)
            m.vsum[static_cast<std::size_t>(j)] += m.v[static_cast<std::size_t>(i * m.m + j)];
    m.dsum = 0;
    for (float x : m.d) m.dsum += x;
}

// Modified Gram–Schmidt on the columns of q (n × k row-major), twice for stability.
void orthonormalize(std::vector<double>& q, std::int64_t n, std::int64_t k) {
    for (int pass = 0; pass < 2; ++pass)
        for (std::int64_t j = 0; j < k; ++j) {
            for (std::int64_t p = 0; p < j; ++p) {
                double dot = 0;
                for (std::int64_t i = 0; i < n; ++i)
                    dot += q[static_cast<std::size_t>(i * k + j)] *
                           q[static_cast<std::size_t>(i * k + p)];
                for (std::int64_t i = 0; i < n; ++i)
                    q[static_cast<std::size_t>(i * k + j)] -=
                        dot * q[static_cast<std::size_t>(i * k + p)];
            }
            double norm = 0;
            for (std::int64_t i = 0; i < n; ++i)
                norm +=
                    q[static_cast<std::size_t>(i * k + j)] * q[static_cast<std::size_t>(i * k + j)];
            norm = std::sqrt(norm);
            const double inv = norm > 1e-300 ? 1.0 / norm : 0.0;
            for (std::int64_t i = 0; i < n; ++i) q[static_cast<std::size_t>(i * k + j)] *= inv;
        }
}

}  // namespace

Metric diagonal_metric(const CalibrationStats& stats, const std::vector<std::int64_t>& coded,
                       double damp) {
    Metric m;
    m.n = static_cast<std::int64_t>(coded.size());
    const double add = damp * mean_diag_of(stats, coded);
    m.d.resize(coded.size());
    for (std::size_t i = 0; i < coded.size(); ++i)
        m.d[i] = static_cast<float>(stats.diag[static_cast<std::size_t>(coded[i])] + add);
    finish(m);
    return m;
}

Metric exact_metric(const CalibrationStats& stats, const std::vector<std::int64_t>& coded,
                    const std::vector<std::int64_t>& salient, double damp) {
    const std::int64_t n = static_cast<std::int64_t>(coded.size()),
                       k = static_cast<std::int64_t>(salient.size());
    const std::int64_t c = stats.cols;
    std::vector<double> storage;
    const std::vector<double>& gram = stats.full_gram(storage);
    const auto g = [&](std::int64_t i, std::int64_t j) {
        return gram[static_cast<std::size_t>(i * c + j)];
    };
    std::vector<double> h(static_cast<std::size_t>(n * n));
    for (std::int64_t a = 0; a < n; ++a)
        for (std::int64_t b = 0; b < n; ++b)
            h[static_cast<std::size_t>(a * n + b)] = g(coded[a], coded[b]);
    if (k > 0) {
        // H ← G_NN − G_NS G_SS⁻¹ G_SN (what is left after the salient channels compensate).
        std::vector<double> gss(static_cast<std::size_t>(k * k)),
            gsn(static_cast<std::size_t>(k * n));
        for (std::int64_t a = 0; a < k; ++a) {
            for (std::int64_t b = 0; b < k; ++b)
                gss[static_cast<std::size_t>(a * k + b)] = g(salient[a], salient[b]);
            for (std::int64_t b = 0; b < n; ++b)
                gsn[static_cast<std::size_t>(a * n + b)] = g(salient[a], coded[b]);
        }
        const double add = damp * mean_diag_of(stats, salient);
        for (std::int64_t a = 0; a < k; ++a) gss[static_cast<std::size_t>(a * k + a)] += add;
        if (spd_inverse(gss, k)) {
            const BlasThreads blas(BlasThreads::for_size(std::max(k, n)));
            std::vector<double> t(static_cast<std::size_t>(k * n));
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(k), int(n), int(k), 1.0,
                        gss.data(), int(k), gsn.data(), int(n), 0.0, t.data(), int(n));
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(n), int(n), int(k), -1.0,
                        gsn.data(), int(n), t.data(), int(n), 1.0, h.data(), int(n));
        }
    }
    const double add = damp * mean_diag_of(stats, coded);
    for (std::int64_t a = 0; a < n; ++a) h[static_cast<std::size_t>(a * n + a)] += add;
    Metric m;
    m.n = n;
    m.h = h;
    std::vector<double> l = h;
    if (!cholesky_lower(l, n)) return diagonal_metric(stats, coded, damp);
    m.m = n;
    m.d.assign(static_cast<std::size_t>(n), 0.0f);
    m.v.assign(l.begin(), l.end());
    finish(m);
    return m;
}

Metric low_rank_metric(const CalibrationStats& stats, const std::vector<std::int64_t>& coded,
                       int rank, double damp) {
    const std::int64_t n = static_cast<std::int64_t>(coded.size()), c = stats.cols;
    const std::int64_t r = std::min<std::int64_t>(rank, n);
    if (r <= 0) return diagonal_metric(stats, coded, damp);
    const std::int64_t kk = std::min<std::int64_t>(n, r + 8);
    // Randomised subspace iteration on G restricted to the coded channels.
    std::mt19937_64 rng(0x5eed);
    std::normal_distribution<double> normal;
    std::vector<double> full(static_cast<std::size_t>(c * kk), 0.0),
        y(static_cast<std::size_t>(c * kk));
    std::vector<double> q(static_cast<std::size_t>(n * kk));
    for (double& x : q) x = normal(rng);
    std::vector<double> storage;
    const std::vector<double>& gram = stats.full_gram(storage);
    const BlasThreads blas(BlasThreads::for_size(c));
    auto apply = [&] {  // q ← (G q) restricted to coded rows
        std::fill(full.begin(), full.end(), 0.0);
        for (std::int64_t a = 0; a < n; ++a)
            std::copy_n(q.begin() + a * kk, kk, full.begin() + coded[a] * kk);
        cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, int(c), int(kk), 1.0, gram.data(), int(c),
                    full.data(), int(kk), 0.0, y.data(), int(kk));
        std::vector<double> out(static_cast<std::size_t>(n * kk));
        for (std::int64_t a = 0; a < n; ++a)
            std::copy_n(y.begin() + coded[a] * kk, kk, out.begin() + a * kk);
        return out;
    };
    q = apply();
    orthonormalize(q, n, kk);
    q = apply();
    orthonormalize(q, n, kk);
    const std::vector<double> z = apply();
    std::vector<double> b(static_cast<std::size_t>(kk * kk));
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(kk), int(kk), int(n), 1.0, q.data(),
                int(kk), z.data(), int(kk), 0.0, b.data(), int(kk));
    for (std::int64_t i = 0; i < kk; ++i)
        for (std::int64_t j = 0; j < i; ++j) {
            const double avg = 0.5 * (b[i * kk + j] + b[j * kk + i]);
            b[i * kk + j] = b[j * kk + i] = avg;
        }
    std::vector<double> values, vectors;
    if (!symmetric_eigen(b, kk, values, vectors)) return diagonal_metric(stats, coded, damp);
    Metric m;
    m.n = n;
    m.m = r;
    m.v.assign(static_cast<std::size_t>(n * r), 0.0f);
    for (std::int64_t j = 0; j < r; ++j) {
        const std::int64_t col = kk - 1 - j;  // largest first
        const double lam = std::max(0.0, values[static_cast<std::size_t>(col)]);
        const double sq = std::sqrt(lam);
        for (std::int64_t a = 0; a < n; ++a) {
            double s = 0;
            for (std::int64_t p = 0; p < kk; ++p)
                s += q[static_cast<std::size_t>(a * kk + p)] *
                     vectors[static_cast<std::size_t>(p * kk + col)];
            m.v[static_cast<std::size_t>(a * r + j)] = static_cast<float>(s * sq);
        }
    }
    const double add = damp * mean_diag_of(stats, coded);
    m.d.resize(static_cast<std::size_t>(n));
    for (std::int64_t a = 0; a < n; ++a) {
        double rest = stats.diag[static_cast<std::size_t>(coded[a])];
        for (std::int64_t j = 0; j < r; ++j) rest -= double(m.v[a * r + j]) * m.v[a * r + j];
        m.d[static_cast<std::size_t>(a)] = static_cast<float>(std::max(0.0, rest) + add);
    }
    finish(m);
    return m;
}

void project(const Metric& metric, const float* a, std::int64_t rows, float* p) {
    if (metric.m == 0 || rows == 0) return;
    const BlasThreads blas(BlasThreads::for_size(std::max(rows, metric.n)));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(metric.m), int(metric.n),
                1.0f, a, int(metric.n), metric.v.data(), int(metric.m), 0.0f, p, int(metric.m));
}

void row_errors(const Metric& metric, const float* e, std::int64_t rows,
                std::vector<float>& scratch, double* err) {
    const std::int64_t n = metric.n, m = metric.m;
    if (m > 0) {
        scratch.resize(static_cast<std::size_t>(rows * m));
        project(metric, e, rows, scratch.data());
    }
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* er = e + r * n;
        double s = 0;
        for (std::int64_t i = 0; i < n; ++i)
            s += double(metric.d[static_cast<std::size_t>(i)]) * er[i] * er[i];
        for (std::int64_t j = 0; j < m; ++j) {
            const double p = scratch[static_cast<std::size_t>(r * m + j)];
            s += p * p;
        }
        err[r] = s;
    }
}

}  // namespace meswitch::delta::detail
