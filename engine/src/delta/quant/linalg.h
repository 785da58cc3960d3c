// Small dense linear-algebra helpers on symmetric positive (semi)definite matrices, over
// the LAPACK routines that OpenBLAS ships (row-major, double).
#pragma once

#include <cstdint>
#include <vector>

namespace meswitch::delta::detail {

// Sets OpenBLAS's thread count for a scope and restores it afterwards; threads <= 0 leaves it
// as it is. The setting is process-wide. OpenBLAS's own threads spin for a while after each
// call: BLAS calls made inside our own thread pool must not start threads of their own, and on
// small matrices the extra threads cost more than they give (on a busy machine the spinning
// stalls the threads that have the work: a demo-pack compression took 12-36 s instead of 2).
class BlasThreads {
public:
    explicit BlasThreads(int threads);
    ~BlasThreads();
    BlasThreads(const BlasThreads&) = delete;
    BlasThreads& operator=(const BlasThreads&) = delete;

    // One thread for a problem whose largest dimension is below 512, else unchanged.
    static int for_size(std::int64_t largest_dimension) { return largest_dimension < 512 ? 1 : 0; }

private:
    int previous_;
    bool changed_ = false;
};

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
