// Calibration statistics of one linear layer's input activations X (samples × cols):
// the per-input-channel second moment diag(XᵀX) and, when it fits, the full Gram matrix
// G = XᵀX (cols × cols, double, row-major, symmetric). For a weight-delta error row e the
// output error over the calibration samples is ‖X eᵀ‖² = e G eᵀ, so G is the metric in
// which ME-Switch chooses salient channels, scales and clipping.
#pragma once

#include <cstdint>
#include <vector>

namespace meswitch {
class ThreadPool;
}

namespace meswitch::delta {

struct CalibrationStats {
    // Largest column count for which the full Gram matrix is kept by default (16384² doubles
    // = 2 GiB would be too much; at 14336 it is 1.6 GiB for one layer at a time).
    static constexpr std::int64_t max_gram_cols = 16384;

    std::int64_t cols = 0;
    std::int64_t samples = 0;  // rows of X added so far
    std::vector<double> gram;  // cols*cols sums of x_i x_j, row-major, symmetric; empty → diag only
    std::vector<double> diag;  // cols sums of x_i²; always present
    // The activations themselves (samples × cols f32), kept when keep_samples is set: with
    // fewer samples than half the columns, a layer's output error ‖X eᵀ‖² from X costs less
    // than from G (measure_error), and X takes less than a quarter of G's memory.
    bool keep_samples = false;
    std::vector<float> x;
    // G deferred to the kept activations (defer_gram_to_samples): not summed as blocks arrive
    // (for a 7B down_proj, the ssyrk over 14336² and the 1.6 GB double matrix were most of the
    // statistics' time and memory) but computed from x where it is read: the rows of the
    // salient channels (gram_rows), and the whole matrix only if a consumer needs it
    // (full_gram). has_gram() stays true: G is known, only not stored.
    bool gram_deferred = false;

    CalibrationStats() = default;
    // full_gram: keep G (only when cols <= max_gram_cols); otherwise diag only.
    // Throws Error(invalid_argument) when cols <= 0.
    explicit CalibrationStats(std::int64_t cols, bool full_gram = true);

    // G is known: stored in `gram`, or deferred to the kept activations.
    bool has_gram() const { return !gram.empty() || gram_deferred; }
    // Drops the stored G and keeps the activations instead (see gram_deferred). Only before
    // the first add(); throws Error(invalid_argument) afterwards or without a Gram matrix.
    void defer_gram_to_samples();
    // Rows idx of G (idx.size() × cols, row-major): from `gram`, or X_idxᵀ X by sgemm.
    std::vector<double> gram_rows(const std::vector<std::int64_t>& idx) const;
    // All of G: `gram` itself when stored, else computed from x into `storage` (returned).
    const std::vector<double>& full_gram(std::vector<double>& storage) const;

    // Adds `rows` activation vectors, x is rows × cols f32 row-major. Non-finite values
    // throw Error(invalid_argument) (they would poison every statistic).
    void add(const float* x, std::int64_t rows);
    // The same with a caller's scratch buffer for the block's single-precision XᵀX (cols²
    // floats), kept between calls by a caller that adds many blocks.
    void add(const float* x, std::int64_t rows, std::vector<float>& scratch);
    // For a caller that adds many blocks and reads the statistics only at the end: sums only
    // the upper triangle of `gram` (and diag), with the element-wise passes split over
    // `pool`'s threads (nullptr: this thread); finish() then mirrors the upper triangle into
    // the lower one. Until finish(), the lower triangle is stale.
    void add_upper(const float* x, std::int64_t rows, std::vector<float>& scratch,
                   ThreadPool* pool);
    void finish(ThreadPool* pool = nullptr);

    // Adds another accumulator's sums (same cols; gram kept only when both have it).
    void merge(const CalibrationStats& other);

    // Diagonal-only copy (drops the Gram matrix).
    CalibrationStats diagonal_only() const;

private:
    bool mirrored_ = true;  // the lower triangle of gram matches the upper (see add_upper)
};

}  // namespace meswitch::delta
