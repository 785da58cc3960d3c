// LAPACK wrappers (OpenBLAS exports the Fortran symbols). Symmetric inputs make row- and
// column-major layouts interchangeable; factors are transposed where it matters.
#include "delta/quant/linalg.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info);
}

namespace meswitch::delta::detail {

BlasThreads::BlasThreads(int threads) : previous_(openblas_get_num_threads()) {
    if (threads > 0 && threads != previous_) {
        openblas_set_num_threads(threads);
        changed_ = true;
    }
}

BlasThreads::~BlasThreads() {
    if (changed_) openblas_set_num_threads(previous_);
}

bool cholesky_lower(std::vector<double>& a, std::int64_t n64) {
    const int n = static_cast<int>(n64);
    const BlasThreads blas(BlasThreads::for_size(n64));
    double mean_diag = 0;
    for (int i = 0; i < n; ++i) mean_diag += a[static_cast<std::size_t>(i) * n + i];
    mean_diag = n > 0 ? mean_diag / n : 0;
    if (!(mean_diag > 0)) mean_diag = 1;
    const std::vector<double> original = a;
    double jitter = 0;
    for (int attempt = 0; attempt < 8; ++attempt) {
        if (attempt > 0) {
            a = original;
            jitter = jitter == 0 ? 1e-6 * mean_diag : jitter * 10;
            for (int i = 0; i < n; ++i) a[static_cast<std::size_t>(i) * n + i] += jitter;
        }
        int info = 0;
        // Column-major 'U' on the row-major buffer: Uᵀ U = a with U upper column-major, which
        // is L = Uᵀ lower in row-major.
        dpotrf_("U", &n, a.data(), &n, &info);
        if (info == 0) {
            for (int i = 0; i < n; ++i)
                for (int j = i + 1; j < n; ++j) a[static_cast<std::size_t>(i) * n + j] = 0;
            return true;
        }
    }
    return false;
}

bool spd_inverse(std::vector<double>& a, std::int64_t n64) {
    const int n = static_cast<int>(n64);
    const BlasThreads blas(BlasThreads::for_size(n64));
    int info = 0;
    dpotrf_("U", &n, a.data(), &n, &info);
    if (info != 0) return false;
    dpotri_("U", &n, a.data(), &n, &info);
    if (info != 0) return false;
    // Column-major upper = row-major lower triangle is valid: mirror it up.
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < i; ++j)
            a[static_cast<std::size_t>(j) * n + i] = a[static_cast<std::size_t>(i) * n + j];
    return true;
}

bool symmetric_eigen(const std::vector<double>& a, std::int64_t n64, std::vector<double>& values,
                     std::vector<double>& vectors) {
    const int n = static_cast<int>(n64);
    const BlasThreads blas(BlasThreads::for_size(n64));
    vectors = a;
    values.assign(static_cast<std::size_t>(n), 0.0);
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0;
    dsyevd_("V", "U", &n, vectors.data(), &n, values.data(), &work_query, &lwork, &iwork_query,
            &liwork, &info);
    if (info != 0) return false;
    lwork = static_cast<int>(work_query) + 1;
    liwork = iwork_query + 1;
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    dsyevd_("V", "U", &n, vectors.data(), &n, values.data(), work.data(), &lwork, iwork.data(),
            &liwork, &info);
    if (info != 0) return false;
    // Column-major eigenvectors (columns) read row-major are rows: transpose in place.
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j)
            std::swap(vectors[static_cast<std::size_t>(i) * n + j],
                      vectors[static_cast<std::size_t>(j) * n + i]);
    return true;
}

}  // namespace meswitch::delta::detail
