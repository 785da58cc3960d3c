// Calibration statistics accumulator (diag(XᵀX), and XᵀX with BLAS ssyrk per block summed in
// double precision).
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
    std::vector<float> scratch;
    add(x, rows, scratch);
}

void CalibrationStats::add(const float* x, std::int64_t rows, std::vector<float>& block) {
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
        // The block's XᵀX in single precision (ssyrk straight from the activations, upper
        // triangle, half the time of dsyrk on a widened copy), added to the double-precision
        // sum and mirrored in one pass over 32 × 32 tiles (element by element down a column,
        // every write would touch a new cache line).
        block.resize(static_cast<std::size_t>(cols * cols));
        {
            const detail::BlasThreads blas(detail::BlasThreads::for_size(cols));
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(cols),
                        static_cast<int>(rows), 1.0f, x, static_cast<int>(cols), 0.0f, block.data(),
                        static_cast<int>(cols));
        }
        constexpr std::int64_t tile = 32;
        double* g = gram.data();
        const float* s = block.data();
        for (std::int64_t i0 = 0; i0 < cols; i0 += tile)
            for (std::int64_t j0 = i0; j0 < cols; j0 += tile) {
                const std::int64_t i1 = std::min(cols, i0 + tile), j1 = std::min(cols, j0 + tile);
                for (std::int64_t i = i0; i < i1; ++i)
                    for (std::int64_t j = std::max(j0, i); j < j1; ++j) {
                        const double v = g[i * cols + j] + double(s[i * cols + j]);
                        g[i * cols + j] = v;
                        g[j * cols + i] = v;
                    }
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
