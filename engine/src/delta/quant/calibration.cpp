// Calibration statistics accumulator (diag(XᵀX) and XᵀX with BLAS dsyrk).
#include "delta/quant/calibration.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>

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
    if (rows <= 0) return;
    if (cols <= 0 || static_cast<std::int64_t>(diag.size()) != cols)
        throw Error(ErrorKind::invalid_argument,
                    "calibration statistics: not initialised with a column count");
    const std::int64_t n = rows * cols;
    for (std::int64_t i = 0; i < n; ++i)
        if (!std::isfinite(x[i]))
            throw Error(ErrorKind::invalid_argument,
                        "calibration activations: non-finite value at sample " +
                            std::to_string(samples + i / cols) + ", channel " +
                            std::to_string(i % cols));
    for (std::int64_t t = 0; t < rows; ++t) {
        const float* row = x + t * cols;
        for (std::int64_t i = 0; i < cols; ++i)
            diag[static_cast<std::size_t>(i)] += double(row[i]) * row[i];
    }
    if (has_gram()) {
        // Blocks of samples widened to double, upper triangle by dsyrk, mirrored afterwards.
        const std::int64_t block =
            std::max<std::int64_t>(1, std::min<std::int64_t>(rows, (1 << 22) / cols));
        std::vector<double> xd(static_cast<std::size_t>(block * cols));
        const detail::BlasThreads blas(detail::BlasThreads::for_size(cols));
        for (std::int64_t t0 = 0; t0 < rows; t0 += block) {
            const std::int64_t b = std::min(block, rows - t0);
            std::copy(x + t0 * cols, x + (t0 + b) * cols, xd.begin());
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(cols),
                        static_cast<int>(b), 1.0, xd.data(), static_cast<int>(cols), 1.0,
                        gram.data(), static_cast<int>(cols));
        }
        // Mirrored in 32 × 32 tiles: element by element down a column, every write would touch
        // a new cache line (12.8 M of them for 3584 inputs, once per call).
        constexpr std::int64_t tile = 32;
        double* g = gram.data();
        for (std::int64_t i0 = 0; i0 < cols; i0 += tile)
            for (std::int64_t j0 = 0; j0 <= i0; j0 += tile) {
                const std::int64_t i1 = std::min(cols, i0 + tile), j1 = std::min(cols, j0 + tile);
                for (std::int64_t i = i0; i < i1; ++i)
                    for (std::int64_t j = j0; j < std::min(j1, i); ++j)
                        g[i * cols + j] = g[j * cols + i];
            }
    }
    samples += rows;
}

void CalibrationStats::merge(const CalibrationStats& other) {
    if (other.cols != cols)
        throw Error(ErrorKind::invalid_argument, "calibration statistics: cannot merge " +
                                                     std::to_string(other.cols) + " columns into " +
                                                     std::to_string(cols));
    for (std::size_t i = 0; i < diag.size(); ++i) diag[i] += other.diag[i];
    if (has_gram() && other.has_gram())
        for (std::size_t i = 0; i < gram.size(); ++i) gram[i] += other.gram[i];
    else
        gram.clear();
    samples += other.samples;
}

CalibrationStats CalibrationStats::diagonal_only() const {
    CalibrationStats copy;
    copy.cols = cols;
    copy.samples = samples;
    copy.diag = diag;
    return copy;
}

}  // namespace meswitch::delta
