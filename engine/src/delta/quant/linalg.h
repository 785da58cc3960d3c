// Small dense linear-algebra helpers on symmetric positive (semi)definite matrices, over
// the LAPACK routines that OpenBLAS ships (row-major, double).
#pragma once

#include <cstdint>
#include <vector>

namespace meswitch::delta::detail {

// a (n×n, symmetric) ← lower Cholesky factor L (a = L Lᵀ), upper part zeroed. Adds growing
// diagonal jitter when a is not positive definite. Returns false only if that fails too.
bool cholesky_lower(std::vector<double>& a, std::int64_t n);

// a (n×n, symmetric positive definite) ← a⁻¹ (full symmetric). Returns false on failure.
bool spd_inverse(std::vector<double>& a, std::int64_t n);

// Eigen-decomposition of a symmetric n×n matrix: values ascending, vectors as columns of
// `vectors` (row-major n×n). Returns false on failure.
bool symmetric_eigen(const std::vector<double>& a, std::int64_t n, std::vector<double>& values,
                     std::vector<double>& vectors);

}  // namespace meswitch::delta::detail
