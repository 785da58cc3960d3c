// GPTQ-style error feedback (Frantar et al., 2022) with per-row scales fixed beforehand.
#include <algorithm>
#include <cmath>

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
    ThreadPool pool(threads);
    const float l = static_cast<float>(levels);
    pool.parallel_for(
        static_cast<std::size_t>(rows),
        [&](std::size_t begin, std::size_t end) {
            std::vector<double> row(static_cast<std::size_t>(n));
            for (std::size_t r = begin; r < end; ++r) {
                std::copy(w + r * n, w + (r + 1) * n, row.begin());
                const float s = scales[r], z = zeros[r], inv = 1.0f / s;
                std::uint8_t* q = codes + r * n;
                for (std::int64_t i = 0; i < n; ++i) {
                    const std::uint8_t code = quant_code(static_cast<float>(row[i]), inv, z, l);
                    q[i] = code;
                    const double err = (row[i] - double(s) * (double(code) - z)) /
                                       u[static_cast<std::size_t>(i * n + i)];
                    const double* ui = u.data() + i * n;
                    for (std::int64_t j = i + 1; j < n; ++j) row[j] -= err * ui[j];
                }
            }
        },
        8);
    return true;
}

}  // namespace meswitch::delta::detail
