// ME-Switch compression of one layer:
//  1. salient input channels by err_i = diag_i · ‖Δ[:, i] − Q0(Δ)[:, i]‖²;
//  2. per-row scale/zero for the other channels by a grid over clipping ratios, judged in
//     the output-error metric (metric.h);
//  3. alternating closed-form least-squares (scale, offset) in that metric and re-rounding,
//     or, for narrow layers with a Gram matrix, GPTQ error feedback then the LS refit;
//  4. salient values re-fitted to cancel the coded channels' output error
//     (Δ̂_S = Δ_S + G_SS⁻¹ G_SN e_N), stored in 16 bits.
#include "delta/quant/meswitch_quant.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/thread_pool.h"
#include "delta/quant/linalg.h"
#include "delta/quant/packing.h"
#include "delta/quant/row_quant.h"
#include "meswitch/error.h"

namespace meswitch::delta::detail {
namespace {

// Step (in units of the row RMS) of the MSE-optimal uniform quantizer for a Gaussian.
float gaussian_step(int bits) {
    switch (bits) {
        case 1:
            return 1.596f;
        case 2:
            return 0.996f;
        case 3:
            return 0.586f;
        default:
            return 0.335f;
    }
}

struct RowParams {
    float s = 1, z = 0;
    double err = INFINITY;
};

// Residuals e = w − s(q − z) for a block of rows.
void residuals(const float* w, const std::uint8_t* q, const RowParams* p, std::int64_t rows,
               std::int64_t n, float* e) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const float s = p[r].s, z = p[r].z;
        for (std::int64_t i = 0; i < n; ++i)
            e[r * n + i] = w[r * n + i] - s * (static_cast<float>(q[r * n + i]) - z);
    }
}

void round_codes(const float* w, const RowParams* p, std::int64_t rows, std::int64_t n, int levels,
                 std::uint8_t* q) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const float inv = 1.0f / p[r].s, z = p[r].z;
        for (std::int64_t i = 0; i < n; ++i)
            q[r * n + i] = quant_code(w[r * n + i], inv, z, float(levels));
    }
}

// Least-squares (s, z) in the metric for fixed codes; rounded to the stored forms.
void refit(const Metric& m, const float* w, const std::uint8_t* q, std::int64_t rows, ZeroFormat zf,
           int levels, std::vector<float>& qf, std::vector<float>& pq, std::vector<float>& pw,
           RowParams* out) {
    const std::int64_t n = m.n, k = m.m;
    qf.resize(static_cast<std::size_t>(rows * n));
    for (std::int64_t i = 0; i < rows * n; ++i) qf[static_cast<std::size_t>(i)] = q[i];
    pq.resize(static_cast<std::size_t>(rows * k));
    pw.resize(static_cast<std::size_t>(rows * k));
    project(m, qf.data(), rows, pq.data());
    project(m, w, rows, pw.data());
    double cc = m.dsum;
    for (float v : m.vsum) cc += double(v) * v;
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* qr = qf.data() + r * n;
        const float* wr = w + r * n;
        double a = 0, b = 0, p = 0, t = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            const double d = m.d[static_cast<std::size_t>(i)];
            a += d * qr[i] * qr[i];
            b += d * qr[i];
            p += d * qr[i] * wr[i];
            t += d * wr[i];
        }
        const float* pqr = pq.data() + r * k;
        const float* pwr = pw.data() + r * k;
        for (std::int64_t j = 0; j < k; ++j) {
            a += double(pqr[j]) * pqr[j];
            b += double(pqr[j]) * m.vsum[static_cast<std::size_t>(j)];
            p += double(pqr[j]) * pwr[j];
            t += double(pwr[j]) * m.vsum[static_cast<std::size_t>(j)];
        }
        // δ̂ = s q + c·1 ; z = −c / s.
        float z = static_cast<float>(levels) * 0.5f;
        if (zf != ZeroFormat::midpoint) {
            const double det = a * cc - b * b;
            if (det > 1e-12 * a * cc && det > 0) {
                const double s = (p * cc - b * t) / det, c = (a * t - b * p) / det;
                if (s > 0) z = stored_zero(static_cast<float>(-c / s), zf, levels);
            }
        }
        const double den = a - 2.0 * z * b + double(z) * z * cc;
        const double num = p - z * t;
        if (den > 0 && num > 0) {
            out[r].s = stored_scale(static_cast<float>(num / den));
            out[r].z = z;
        }
    }
}

// Σ d_i (w_i − s(q_i − z))² with q_i = round(w_i / s + z) clamped to [0, L]. Eight
// independent partial sums (flushed to double every 1024 elements) so the compiler
// vectorises the loop without reassociating a single float accumulator.
double row_error(const float* w, const float* d, std::int64_t n, float s, float z, float l) {
    constexpr int lanes = 8;
    const float inv = 1.0f / s;
    double total = 0;
    std::int64_t i = 0;
    while (i < n) {
        const std::int64_t end = std::min<std::int64_t>(n, i + 1024);
        float acc[lanes] = {};
        for (; i + lanes <= end; i += lanes)
            for (int j = 0; j < lanes; ++j) {
                const float q = std::clamp(w[i + j] * inv + z, 0.0f, l);
                const float e = w[i + j] - s * (static_cast<float>(static_cast<int>(q + 0.5f)) - z);
                acc[j] += d[i + j] * e * e;
            }
        for (; i < end; ++i) {
            const float q = std::clamp(w[i] * inv + z, 0.0f, l);
            const float e = w[i] - s * (static_cast<float>(static_cast<int>(q + 0.5f)) - z);
            acc[0] += d[i] * e * e;
        }
        for (float a : acc) total += a;
    }
    return total;
}

// Diagonal metric, one row, fused: clip grid then LS refit + re-round, codes always the
// rounding of w with the chosen (s, z). No residual buffers: this is the 7B hot path.
void diagonal_row(const float* w, const float* d, double dsum, std::int64_t n, int grid, int iters,
                  ZeroFormat zf, int levels, RowParams& best, std::uint8_t* q) {
    const float l = static_cast<float>(levels);
    const auto [lo, hi] = std::minmax_element(w, w + n);
    best = RowParams{};
    for (int g = 0; g < grid; ++g) {
        const float ratio =
            grid == 1 ? 1.0f : 1.0f - 0.7f * static_cast<float>(g) / static_cast<float>(grid - 1);
        RowParams c;
        range_params(ratio * *lo, ratio * *hi, zf, levels, c.s, c.z);
        c.err = row_error(w, d, n, c.s, c.z, l);
        if (c.err < best.err) best = c;
    }
    for (int it = 0; it < iters; ++it) {
        // Σ d q², Σ d q, Σ d q w, Σ d w in four lanes each (vectorisable).
        constexpr int lanes = 4;
        double la[lanes] = {}, lb[lanes] = {}, lp[lanes] = {}, lt[lanes] = {};
        const float inv = 1.0f / best.s;
        std::int64_t i = 0;
        for (; i + lanes <= n; i += lanes)
            for (int j = 0; j < lanes; ++j) {
                const float qf = std::clamp(w[i + j] * inv + best.z, 0.0f, l);
                const double qi = static_cast<int>(qf + 0.5f), di = d[i + j], wi = w[i + j];
                la[j] += di * qi * qi;
                lb[j] += di * qi;
                lp[j] += di * qi * wi;
                lt[j] += di * wi;
            }
        for (; i < n; ++i) {
            const double qi = quant_code(w[i], inv, best.z, l), di = d[i];
            la[0] += di * qi * qi;
            lb[0] += di * qi;
            lp[0] += di * qi * w[i];
            lt[0] += di * w[i];
        }
        double a = 0, b = 0, p = 0, t = 0;
        for (int j = 0; j < lanes; ++j) {
            a += la[j];
            b += lb[j];
            p += lp[j];
            t += lt[j];
        }
        float z = l * 0.5f;
        if (zf != ZeroFormat::midpoint) {
            const double det = a * dsum - b * b;
            if (!(det > 1e-12 * a * dsum && det > 0)) break;
            const double sc = (p * dsum - b * t) / det, c = (a * t - b * p) / det;
            if (!(sc > 0)) break;
            z = stored_zero(static_cast<float>(-c / sc), zf, levels);
        }
        const double den = a - 2.0 * z * b + double(z) * z * dsum, num = p - z * t;
        if (!(den > 0 && num > 0)) break;
        RowParams c;
        c.s = stored_scale(static_cast<float>(num / den));
        c.z = z;
        c.err = row_error(w, d, n, c.s, c.z, l);
        if (!(c.err < best.err)) break;
        best = c;
    }
    const float inv = 1.0f / best.s;
    for (std::int64_t i = 0; i < n; ++i) q[i] = quant_code(w[i], inv, best.z, l);
}

}  // namespace

std::vector<std::int64_t> select_salient(const float* delta, std::int64_t rows, std::int64_t cols,
                                         const std::vector<double>& diag, int bits, std::int64_t k,
                                         int threads) {
    std::vector<std::int64_t> out;
    if (k <= 0) return out;
    const int levels = (1 << bits) - 1;
    ThreadPool pool(threads);
    // One column-error accumulator per part (rows split in pool.size() parts), summed after.
    const std::size_t parts = static_cast<std::size_t>(pool.size());
    std::vector<std::vector<double>> part_err(parts);
    pool.parallel_for(parts, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t part = p0; part < p1; ++part) {
            std::vector<double>& colerr = part_err[part];
            colerr.assign(static_cast<std::size_t>(cols), 0.0);
            const std::int64_t r0 = rows * static_cast<std::int64_t>(part) / std::int64_t(parts);
            const std::int64_t r1 =
                rows * static_cast<std::int64_t>(part + 1) / std::int64_t(parts);
            for (std::int64_t r = r0; r < r1; ++r) {
                const float* w = delta + r * cols;
                double ss = 0;
                for (std::int64_t i = 0; i < cols; ++i) ss += double(w[i]) * w[i];
                const float rms = static_cast<float>(std::sqrt(ss / static_cast<double>(cols)));
                if (!(rms > 0)) continue;
                const float step = gaussian_step(bits) * rms, inv = 1.0f / step, z = levels * 0.5f;
                for (std::int64_t i = 0; i < cols; ++i) {
                    const float e =
                        w[i] -
                        step * (static_cast<float>(quant_code(w[i], inv, z, float(levels))) - z);
                    colerr[static_cast<std::size_t>(i)] += double(e) * e;
                }
            }
        }
    });
    std::vector<double>& colerr = part_err[0];
    for (std::size_t part = 1; part < parts; ++part)
        for (std::int64_t i = 0; i < cols; ++i)
            colerr[static_cast<std::size_t>(i)] += part_err[part][static_cast<std::size_t>(i)];
    std::vector<std::int64_t> order(static_cast<std::size_t>(cols));
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t i = 0; i < cols; ++i)
        colerr[static_cast<std::size_t>(i)] *= diag[static_cast<std::size_t>(i)];
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](std::int64_t a, std::int64_t b) {
                          return colerr[a] != colerr[b] ? colerr[a] > colerr[b] : a < b;
                      });
    out.assign(order.begin(), order.begin() + k);
    std::sort(out.begin(), out.end());
    return out;
}

CompressedLinear compress_meswitch(const float* delta, std::int64_t rows, std::int64_t cols,
                                   const CalibrationStats& stats, const QuantOptions& opt,
                                   const CancelToken* cancel) {
    const int bits = opt.bits, levels = (1 << bits) - 1;
    const ZeroFormat zf = opt.zero_format;
    const std::int64_t k = opt.salient.count(cols);
    const std::vector<std::int64_t> salient =
        select_salient(delta, rows, cols, stats.diag, bits, k, opt.threads);
    std::vector<std::int64_t> coded;
    {
        std::size_t s = 0;
        for (std::int64_t i = 0; i < cols; ++i) {
            if (s < salient.size() && salient[s] == i) {
                ++s;
                continue;
            }
            coded.push_back(i);
        }
    }
    const std::int64_t n = static_cast<std::int64_t>(coded.size());
    auto check_cancel = [&] {
        if (cancel) cancel->throw_if_cancelled("delta compression");
    };

    // Coded channels of Δ, contiguous (rows × n).
    ThreadPool pool(opt.threads);
    std::vector<float> w(static_cast<std::size_t>(rows * n));
    pool.parallel_for(
        static_cast<std::size_t>(rows),
        [&](std::size_t begin, std::size_t end) {
            for (std::size_t r = begin; r < end; ++r)
                for (std::int64_t a = 0; a < n; ++a)
                    w[r * n + a] = delta[std::int64_t(r) * cols + coded[a]];
        },
        64);

    const bool exact = stats.has_gram() && n <= exact_metric_max_cols;
    Metric metric = n == 0  ? Metric{}
                    : exact ? exact_metric(stats, coded, salient, opt.damp)
                    : (stats.has_gram() && opt.metric_rank > 0)
                        ? low_rank_metric(stats, coded, opt.metric_rank, opt.damp)
                        : diagonal_metric(stats, coded, opt.damp);
    check_cancel();

    std::vector<RowParams> best(static_cast<std::size_t>(rows));
    std::vector<std::uint8_t> q(static_cast<std::size_t>(rows * n), 0);
    const std::int64_t chunk = n == 0 ? rows : std::clamp<std::int64_t>((1 << 20) / n, 1, rows);
    std::vector<float> e, scratch, qf, pq, pw;
    std::vector<std::uint8_t> qt;
    std::vector<double> err;
    std::vector<RowParams> cand;
    const int grid = std::max(1, opt.clip_grid);
    if (n > 0 && metric.m == 0) {
        pool.parallel_for(
            static_cast<std::size_t>(rows),
            [&](std::size_t begin, std::size_t end) {
                for (std::size_t r = begin; r < end; ++r) {
                    if (cancel && cancel->cancelled()) return;
                    diagonal_row(w.data() + r * n, metric.d.data(), metric.dsum, n, grid,
                                 opt.refine_iterations, zf, levels, best[r], q.data() + r * n);
                }
            },
            16);
        check_cancel();
    }
    for (std::int64_t r0 = 0; n > 0 && metric.m > 0 && r0 < rows; r0 += chunk) {
        check_cancel();
        const std::int64_t b = std::min(chunk, rows - r0);
        const float* wb = w.data() + r0 * n;
        std::uint8_t* qb = q.data() + r0 * n;
        e.resize(static_cast<std::size_t>(b * n));
        qt.resize(static_cast<std::size_t>(b * n));
        err.resize(static_cast<std::size_t>(b));
        cand.resize(static_cast<std::size_t>(b));
        auto consider = [&](const std::uint8_t* codes) {  // keep candidates that beat best
            residuals(wb, codes, cand.data(), b, n, e.data());
            row_errors(metric, e.data(), b, scratch, err.data());
            for (std::int64_t r = 0; r < b; ++r)
                if (err[r] < best[r0 + r].err) {
                    best[r0 + r] = {cand[r].s, cand[r].z, err[r]};
                    std::copy_n(codes + r * n, n, qb + r * n);
                }
        };
        // Grid over clipping ratios 1.0 … 0.3.
        for (int g = 0; g < grid; ++g) {
            const float ratio =
                grid == 1 ? 1.0f
                          : 1.0f - 0.7f * static_cast<float>(g) / static_cast<float>(grid - 1);
            for (std::int64_t r = 0; r < b; ++r) {
                const float* wr = wb + r * n;
                const auto [lo, hi] = std::minmax_element(wr, wr + n);
                range_params(ratio * *lo, ratio * *hi, zf, levels, cand[r].s, cand[r].z);
            }
            round_codes(wb, cand.data(), b, n, levels, qt.data());
            consider(qt.data());
        }
        // LS refit of (s, z) in the metric, alternated with re-rounding.
        const int iters = exact && n <= opt.gptq_max_cols ? 0 : opt.refine_iterations;
        for (int it = 0; it < iters; ++it) {
            for (std::int64_t r = 0; r < b; ++r) cand[r] = best[r0 + r];
            refit(metric, wb, qb, b, zf, levels, qf, pq, pw, cand.data());
            std::copy_n(qb, b * n, qt.begin());
            consider(qt.data());
            round_codes(wb, cand.data(), b, n, levels, qt.data());
            consider(qt.data());
        }
    }

    // GPTQ error feedback for narrow layers with a Gram matrix, each pass followed by the refit.
    if (exact && n > 0 && n <= opt.gptq_max_cols) {
        std::vector<float> s(static_cast<std::size_t>(rows)), z(static_cast<std::size_t>(rows));
        std::vector<std::uint8_t> qg(q.size());
        cand.resize(static_cast<std::size_t>(rows));
        err.resize(static_cast<std::size_t>(rows));
        e.resize(static_cast<std::size_t>(rows * n));
        const int passes = std::max(1, opt.refine_iterations);
        for (int pass = 0; pass < passes; ++pass) {
            check_cancel();
            for (std::int64_t r = 0; r < rows; ++r) {
                s[r] = best[r].s;
                z[r] = best[r].z;
                cand[r] = best[r];
            }
            if (!gptq_codes(w.data(), rows, n, metric.h, s, z, levels, opt.threads, qg.data()))
                break;
            refit(metric, w.data(), qg.data(), rows, zf, levels, qf, pq, pw, cand.data());
            residuals(w.data(), qg.data(), cand.data(), rows, n, e.data());
            row_errors(metric, e.data(), rows, scratch, err.data());
            bool improved = false;
            for (std::int64_t r = 0; r < rows; ++r)
                if (err[r] < best[r].err) {
                    best[r] = {cand[r].s, cand[r].z, err[r]};
                    std::copy_n(qg.data() + r * n, n, q.data() + r * n);
                    improved = true;
                }
            if (!improved) break;
        }
    }

    CompressedLinear c;
    c.rows = rows;
    c.cols = cols;
    c.method = Method::meswitch;
    c.bits = bits;
    c.zero_format = zf;
    c.salient_dtype = opt.salient_dtype;
    c.salient_idx.assign(salient.begin(), salient.end());
    c.row_bytes = packed_bytes(n, bits);
    c.codes.assign(static_cast<std::size_t>(rows * c.row_bytes), 0);
    c.scales.resize(static_cast<std::size_t>(rows));
    if (zf != ZeroFormat::midpoint) c.zeros.resize(static_cast<std::size_t>(rows));
    pool.parallel_for(
        static_cast<std::size_t>(rows),
        [&](std::size_t begin, std::size_t end) {
            for (std::size_t r = begin; r < end; ++r) {
                if (n == 0) best[r] = {1.0f, levels * 0.5f, 0.0};
                stored_scale(best[r].s, &c.scales[r]);
                if (zf != ZeroFormat::midpoint) stored_zero(best[r].z, zf, levels, &c.zeros[r]);
                pack_codes(q.data() + r * n, n, bits, c.codes.data() + r * c.row_bytes);
            }
        },
        64);

    // Salient values: Δ_S, plus with a Gram matrix the compensation G_SS⁻¹ G_SN e_N.
    std::vector<float> sal(static_cast<std::size_t>(rows * k));
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t j = 0; j < k; ++j)
            sal[static_cast<std::size_t>(r * k + j)] = delta[r * cols + salient[j]];
    if (k > 0 && n > 0 && stats.has_gram()) {
        check_cancel();
        // Only G's salient rows are read (computed from the activations when G is deferred).
        const std::vector<double> g_s = stats.gram_rows(salient);
        std::vector<double> gss(static_cast<std::size_t>(k * k));
        std::vector<float> gsn(static_cast<std::size_t>(k * n));
        double mean = 0;
        for (std::int64_t a = 0; a < k; ++a) {
            const double* row = g_s.data() + a * cols;
            for (std::int64_t bb = 0; bb < k; ++bb) gss[a * k + bb] = row[salient[bb]];
            for (std::int64_t bb = 0; bb < n; ++bb)
                gsn[a * n + bb] = static_cast<float>(row[coded[bb]]);
            mean += gss[a * k + a];
        }
        mean = mean > 0 ? mean / k : 1.0;
        for (std::int64_t a = 0; a < k; ++a) gss[a * k + a] += opt.damp * mean;
        if (spd_inverse(gss, k)) {
            // Row blocks on the pool, each with a single-threaded BLAS call (OpenBLAS threads
            // would only compete with the pool's).
            const std::int64_t blocks = (rows + chunk - 1) / chunk;
            const BlasThreads one_blas_thread(1);
            pool.parallel_for(
                static_cast<std::size_t>(blocks), [&](std::size_t b0, std::size_t b1) {
                    std::vector<float> eb, t(static_cast<std::size_t>(chunk * k));
                    for (std::size_t blk = b0; blk < b1; ++blk) {
                        if (cancel && cancel->cancelled()) return;
                        const std::int64_t r0 = static_cast<std::int64_t>(blk) * chunk;
                        const std::int64_t b = std::min(chunk, rows - r0);
                        eb.resize(static_cast<std::size_t>(b * n));
                        residuals(w.data() + r0 * n, q.data() + r0 * n, best.data() + r0, b, n,
                                  eb.data());
                        // t (b × k) = e_N · G_NS
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(b), int(k), int(n),
                                    1.0f, eb.data(), int(n), gsn.data(), int(n), 0.0f, t.data(),
                                    int(k));
                        for (std::int64_t r = 0; r < b; ++r)
                            for (std::int64_t a = 0; a < k; ++a) {
                                double v = 0;
                                for (std::int64_t bb = 0; bb < k; ++bb)
                                    v += gss[a * k + bb] * t[r * k + bb];
                                sal[static_cast<std::size_t>((r0 + r) * k + a)] +=
                                    static_cast<float>(v);
                            }
                    }
                });
            check_cancel();
        }
    }
    c.salient_values.resize(sal.size());
    for (std::size_t i = 0; i < sal.size(); ++i)
        c.salient_values[i] = opt.salient_dtype == DType::bf16
                                  ? f32_to_bf16(sal[i])
                                  : f32_to_f16(std::clamp(sal[i], -65504.0f, 65504.0f));
    return c;
}

}  // namespace meswitch::delta::detail
