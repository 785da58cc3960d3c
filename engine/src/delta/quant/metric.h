// The output-error metric ME-Switch optimises in: for a residual row e over the coded
// (non-salient) channels, err(e) = Σ_i d_i e_i² + ‖e V‖² ≈ e G eᵀ, where
//   exact:    V = Cholesky factor of the Schur complement of G on the coded channels (the
//             salient channels are re-fitted afterwards to cancel what they can), d = 0;
//   low-rank: V = top-r eigen-directions of G on the coded channels, d = the rest of diag G;
//   diagonal: V empty, d = diag G.
// Every variant adds `damp` × mean(diag) to the diagonal.
#pragma once

#include <cstdint>
#include <vector>

#include "delta/quant/calibration.h"

namespace meswitch::delta::detail {

struct Metric {
    std::int64_t n = 0;       // coded channels
    std::int64_t m = 0;       // columns of V
    std::vector<float> d;     // n
    std::vector<float> v;     // n × m row-major
    std::vector<float> vsum;  // m: 1ᵀ V
    double dsum = 0;          // Σ d
    std::vector<double> h;    // exact variant only: the damped n×n matrix V Vᵀ (for GPTQ)
};

Metric diagonal_metric(const CalibrationStats& stats, const std::vector<std::int64_t>& coded,
                       double damp);
Metric exact_metric(const CalibrationStats& stats, const std::vector<std::int64_t>& coded,
                    const std::vector<std::int64_t>& salient, double damp);
Metric low_rank_metric(const CalibrationStats& stats, const std::vector<std::int64_t>& coded,
                       int rank, double damp);

// p (rows × m) = a (rows × n) · V.
void project(const Metric& metric, const float* a, std::int64_t rows, float* p);

// err[r] = Σ d e² + ‖p_r‖² for residual rows e (rows × n) with p = project(e).
void row_errors(const Metric& metric, const float* e, std::int64_t rows,
                std::vector<float>& scratch, double* err);

}  // namespace meswitch::delta::detail
