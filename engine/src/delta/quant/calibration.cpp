// Calibration statistics accumulator (diag(XᵀX), and XᵀX with BLAS ssyrk per block summed in
// double precision).
#include "delta/quant/calibration.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "core/thread_pool.h"

#include "delta/quant/linalg.h"
#include "meswitch/error.h"

namespace meswitch::delta {

CalibrationStats::CalibrationStats(std::int64_t cols_, bool full_gram) : cols(cols_) {
    if (cols_ <= 0 || cols_ > (1ll << 31))
        throw Error(ErrorKind::invalid_argument,
                    "calibration statistics: bad column count " + std::to_string(cols_));
    diag.assign(static_cast<std::size_t>(cols_), 0.0);
    if (full_gram && cols_ <= max_gram_cols)
        gram.assign(static_cast<std::size_t>(cols_ * cols_), 0.0);
}

void CalibrationStats::add(const float* x, std::int64_t rows) {
    std::vector<float> scratch;
    add(x, rows, scratch);
}

void CalibrationStats::add(const float* x, std::int64_t rows, std::vector<float>& block) {
    add_upper(x, rows, block, nullptr);
    finish(nullptr);
}

namespace {

// fn(begin, end) over [0, n) on the pool, or here in one call without one.
void split(ThreadPool* pool, std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn,
           std::size_t grain) {
    if (pool)
        pool->parallel_for(n, fn, grain);
    else if (n > 0)
        fn(0, n);
}

constexpr std::int64_t kColumnGrain = 64;  // columns per task in the element-wise passes
constexpr std::int64_t kTile = 32;         // square tiles of the mirror pass

}  // namespace

void CalibrationStats::add_upper(const float* xin, std::int64_t rows, std::vector<float>& block,
                                 ThreadPool* pool) {
    const float* x = xin;
    if (rows <= 0) return;
    if (cols <= 0 || static_cast<std::int64_t>(diag.size()) != cols)
        throw Error(ErrorKind::invalid_argument,
                    "calibration statistics: not initialised with a column count");
    // diag(XᵀX) in double and the check for non-finite values, by column ranges (each task
    // owns its columns' sums: no partial sums to merge); the first bad value in row-major
    // order is reported, whichever task saw it.
    const std::int64_t col_tasks = (cols + kColumnGrain - 1) / kColumnGrain;
    std::vector<std::int64_t> first_bad(static_cast<std::size_t>(col_tasks), -1);
    split(
        pool, static_cast<std::size_t>(col_tasks),
        [&](std::size_t t0, std::size_t t1) {
            for (std::size_t task = t0; task < t1; ++task) {
                const std::int64_t c0 = static_cast<std::int64_t>(task) * kColumnGrain;
                const std::int64_t c1 = std::min(cols, c0 + kColumnGrain);
                double* d = diag.data();
                for (std::int64_t t = 0; t < rows; ++t) {
                    const float* row = x + t * cols;
                    bool finite = true;
                    for (std::int64_t i = c0; i < c1; ++i) finite &= std::isfinite(row[i]);
                    if (!finite) {
                        for (std::int64_t i = c0; i < c1; ++i)
                            if (!std::isfinite(row[i])) {
                                first_bad[task] = t * cols + i;
                                break;
                            }
                        break;
                    }
                    for (std::int64_t i = c0; i < c1; ++i) d[i] += double(row[i]) * row[i];
                }
            }
        },
        1);
    std::int64_t bad = -1;
    for (std::int64_t b : first_bad)
        if (b >= 0 && (bad < 0 || b < bad)) bad = b;
    if (bad >= 0)
        throw Error(ErrorKind::invalid_argument,
                    "calibration activations: non-finite value at sample " +
                        std::to_string(samples + bad / cols) + ", channel " +
                        std::to_string(bad % cols));
    if (!gram.empty()) {
        // The block's XᵀX in single precision (ssyrk straight from the activations, upper
        // triangle, half the time of dsyrk on a widened copy), added row by row to the upper
        // triangle of the double-precision sum (contiguous, vectorised; rows split over the
        // pool, short rows last so the tasks even out).
        block.resize(static_cast<std::size_t>(cols * cols));
        {
            const detail::BlasThreads blas(detail::BlasThreads::for_size(cols));
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(cols),
                        static_cast<int>(rows), 1.0f, x, static_cast<int>(cols), 0.0f, block.data(),
                        static_cast<int>(cols));
        }
        double* g = gram.data();
        const float* s = block.data();
        split(
            pool, static_cast<std::size_t>(cols),
            [&](std::size_t i0, std::size_t i1) {
                for (std::size_t i = i0; i < i1; ++i) {
                    double* gr = g + i * static_cast<std::size_t>(cols);
                    const float* sr = s + i * static_cast<std::size_t>(cols);
                    for (std::int64_t j = static_cast<std::int64_t>(i); j < cols; ++j)
                        gr[j] += double(sr[j]);
                }
            },
            16);
        mirrored_ = false;
    }
    if (keep_samples) this->x.insert(this->x.end(), xin, xin + rows * cols);
    samples += rows;
}

void CalibrationStats::finish(ThreadPool* pool) {
    if (gram.empty() || mirrored_) return;
    // Lower triangle ← upper, in 32 × 32 tiles (element by element down a column, every write
    // would touch a new cache line); tiles of one tile row per task.
    double* g = gram.data();
    const std::int64_t tiles = (cols + kTile - 1) / kTile;
    split(
        pool, static_cast<std::size_t>(tiles),
        [&](std::size_t t0, std::size_t t1) {
            for (std::size_t t = t0; t < t1; ++t) {
                const std::int64_t i0 = static_cast<std::int64_t>(t) * kTile;
                const std::int64_t i1 = std::min(cols, i0 + kTile);
                for (std::int64_t j0 = i0; j0 < cols; j0 += kTile) {
                    const std::int64_t j1 = std::min(cols, j0 + kTile);
                    for (std::int64_t i = i0; i < i1; ++i)
                        for (std::int64_t j = std::max(j0, i + 1); j < j1; ++j)
                            g[j * cols + i] = g[i * cols + j];
                }
            }
        },
        1);
    mirrored_ = true;
}

void CalibrationStats::merge(const CalibrationStats& other) {
    if (other.cols != cols)
        throw Error(ErrorKind::invalid_argument, "calibration statistics: cannot merge " +
                                                     std::to_string(other.cols) + " columns into " +
                                                     std::to_string(cols));
    for (std::size_t i = 0; i < diag.size(); ++i) diag[i] += other.diag[i];
    if (!has_gram() || !other.has_gram()) {
        gram.clear();
        gram_deferred = false;
        mirrored_ = true;
    } else if (gram_deferred && other.gram_deferred) {
        // Both deferred: G stays the Gram matrix of the concatenated samples (below).
    } else {
        // At least one side stored: store the sum (a deferred side computed from its samples).
        if (gram_deferred) {
            std::vector<double> mine;
            full_gram(mine);
            gram = std::move(mine);
            gram_deferred = false;
            mirrored_ = true;
        }
        std::vector<double> storage;
        const std::vector<double>& theirs =
            other.gram_deferred ? other.full_gram(storage) : other.gram;
        for (std::size_t i = 0; i < gram.size(); ++i) gram[i] += theirs[i];
        mirrored_ = mirrored_ && (other.gram_deferred || other.mirrored_);
    }
    if (keep_samples && other.keep_samples) {
        x.insert(x.end(), other.x.begin(), other.x.end());
    } else {
        keep_samples = false;
        x.clear();
    }
    samples += other.samples;
}

void CalibrationStats::defer_gram_to_samples() {
    if (!has_gram() || samples > 0)
        throw Error(ErrorKind::invalid_argument,
                    "calibration statistics: the Gram matrix can only be deferred before the "
                    "first sample, when there is one");
    gram.clear();
    gram.shrink_to_fit();
    gram_deferred = true;
    keep_samples = true;
    mirrored_ = true;
}

std::vector<double> CalibrationStats::gram_rows(const std::vector<std::int64_t>& idx) const {
    const auto k = static_cast<std::int64_t>(idx.size());
    std::vector<double> out(static_cast<std::size_t>(k * cols));
    for (std::int64_t i : idx)
        if (i < 0 || i >= cols)
            throw Error(ErrorKind::invalid_argument, "calibration statistics: Gram row " +
                                                         std::to_string(i) + " outside the " +
                                                         std::to_string(cols) + " columns");
    if (!gram.empty()) {
        for (std::int64_t a = 0; a < k; ++a)
            std::copy_n(gram.begin() + idx[a] * cols, cols, out.begin() + a * cols);
        return out;
    }
    if (!gram_deferred || k == 0 || samples == 0) return out;
    // X_idxᵀ X: the idx columns of X gathered (samples × k), one sgemm (k·samples·cols
    // multiply-adds; a few hundred salient rows cost a fraction of a second at 7B).
    const std::int64_t t = samples;
    std::vector<float> xs(static_cast<std::size_t>(t * k)), r(static_cast<std::size_t>(k * cols));
    for (std::int64_t s = 0; s < t; ++s)
        for (std::int64_t a = 0; a < k; ++a) xs[s * k + a] = x[s * cols + idx[a]];
    {
        const detail::BlasThreads blas(detail::BlasThreads::for_size(cols));
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(k),
                    static_cast<int>(cols), static_cast<int>(t), 1.0f, xs.data(),
                    static_cast<int>(k), x.data(), static_cast<int>(cols), 0.0f, r.data(),
                    static_cast<int>(cols));
    }
    std::copy(r.begin(), r.end(), out.begin());
    return out;
}

const std::vector<double>& CalibrationStats::full_gram(std::vector<double>& storage) const {
    if (!gram.empty()) {
        if (!mirrored_)
            throw Error(ErrorKind::invalid_argument,
                        "calibration statistics: the Gram matrix is read before finish()");
        return gram;
    }
    storage.assign(static_cast<std::size_t>(cols * cols), 0.0);
    if (!gram_deferred || samples == 0) return storage;
    std::vector<float> block(static_cast<std::size_t>(cols * cols));
    {
        const detail::BlasThreads blas(detail::BlasThreads::for_size(cols));
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(cols),
                    static_cast<int>(samples), 1.0f, x.data(), static_cast<int>(cols), 0.0f,
                    block.data(), static_cast<int>(cols));
    }
    for (std::int64_t i = 0; i < cols; ++i)
        for (std::int64_t j = i; j < cols; ++j)
            storage[static_cast<std::size_t>(i * cols + j)] =
                storage[static_cast<std::size_t>(j * cols + i)] =
                    block[static_cast<std::size_t>(i * cols + j)];
    return storage;
}

CalibrationStats CalibrationStats::diagonal_only() const {
    CalibrationStats copy;
    copy.cols = cols;
    copy.samples = samples;
    copy.diag = diag;
    return copy;
}

}  // namespace meswitch::delta
