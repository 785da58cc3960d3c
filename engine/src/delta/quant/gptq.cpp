// GPTQ-style error feedback (Frantar et al., 2022) with per-row scales fixed beforehand.
#include <algorithm>
#include <cmath>

#include <cblas.h>

#include "core/thread_pool.h"
#include "delta/quant/linalg.h"
#include "delta/quant/meswitch_quant.h"
#include "delta/quant/row_quant.h"

namespace meswitch::delta::detail {

bool gptq_codes(const float* w, std::int64_t rows, std::int64_t n, const std::vector<double>& h,
                const std::vector<float>& scales, const std::vector<float>& zeros, int levels,
                int threads, std::uint8_t* codes) {
    std::vector<double> hinv = h;
    if (!spd_inverse(hinv, n)) return false;
    if (!cholesky_lower(hinv, n)) return false;
    // U = Lᵀ (upper, h⁻¹ = Uᵀ U), stored row-major so row i holds U[i, i..n).
    std::vector<double> u(static_cast<std::size_t>(n * n), 0.0);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = i; j < n; ++j)
            u[static_cast<std::size_t>(i * n + j)] = hinv[static_cast<std::size_t>(j * n + i)];
    // Columns in blocks (GPTQ's lazy batch updates): inside a block each row feeds its
    // quantization errors forward column by column; the block's errors reach the columns
    // after it in one matrix product, W[:, after] -= E · U[block, after], which runs at the
    // speed of the BLAS instead of one row and one column at a time.
    constexpr std::int64_t block = 128;
    std::vector<double> wd(w, w + rows * n);
    std::vector<double> e(static_cast<std::size_t>(rows * block));
    ThreadPool pool(threads);
    const float l = static_cast<float>(levels);
    for (std::int64_t i0 = 0; i0 < n; i0 += block) {
        const std::int64_t i1 = std::min(n, i0 + block), width = i1 - i0;
        pool.parallel_for(
            static_cast<std::size_t>(rows),
            [&](std::size_t begin, std::size_t end) {
                for (std::size_t r = begin; r < end; ++r) {
                    double* row = wd.data() + r * n;
                    double* er = e.data() + r * block;
                    const float s = scales[r], z = zeros[r], inv = 1.0f / s;
                    std::uint8_t* q = codes + r * n;
                    for (std::int64_t i = i0; i < i1; ++i) {
                        const std::uint8_t code = quant_code(static_cast<float>(row[i]), inv, z, l);
                        q[i] = code;
                        const double err = (row[i] - double(s) * (double(code) - z)) /
                                           u[static_cast<std::size_t>(i * n + i)];
                        er[i - i0] = err;
                        const double* ui = u.data() + i * n;
                        for (std::int64_t j = i + 1; j < i1; ++j) row[j] -= err * ui[j];
                    }
                }
            },
            8);
        if (i1 < n)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows),
                        static_cast<int>(n - i1), static_cast<int>(width), -1.0, e.data(),
                        static_cast<int>(block), u.data() + i0 * n + i1, static_cast<int>(n), 1.0,
                        wd.data() + i1, static_cast<int>(n));
    }
    return true;
}

}  // namespace meswitch::delta::detail
