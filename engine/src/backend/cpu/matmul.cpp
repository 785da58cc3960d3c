// Matrix multiplication y = x · Wᵀ for batched prefill: OpenBLAS sgemm directly on f32
// weights; f16/bf16 weights are widened tile by tile (in parallel) so no f32 copy of the
// whole matrix ever exists. A single row goes to the streaming GEMV.
#include <algorithm>
#include <vector>

#include <cblas.h>

#include "backend/cpu/ops.h"
#include "core/thread_pool.h"

namespace meswitch::cpu {

namespace {

// Rows below this use GEMV per row: reading the weights a few times costs less than
// widening them.
constexpr std::int64_t gemm_min_rows = 4;
constexpr std::size_t tile_bytes = 8u << 20;  // f32 tile size for widened weights

}  // namespace

void matmul(const float* x, std::int64_t rows, const Matrix& w, float* y, ThreadPool& pool) {
    if (rows <= 0 || w.rows == 0) return;
    if (rows < gemm_min_rows) {
        for (std::int64_t t = 0; t < rows; ++t) gemv(w, x + t * w.cols, y + t * w.rows, pool);
        return;
    }
    const int m = static_cast<int>(rows), k = static_cast<int>(w.cols),
              n = static_cast<int>(w.rows);
    if (w.dtype == DType::f32) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k,
                    reinterpret_cast<const float*>(w.data), k, 0.0f, y, n);
        return;
    }
    const std::int64_t tile_rows = std::max<std::int64_t>(
        16, static_cast<std::int64_t>(tile_bytes / (sizeof(float) * static_cast<std::size_t>(k))));
    thread_local std::vector<float> tile;
    tile.resize(static_cast<std::size_t>(std::min(tile_rows, w.rows) * k));
    for (std::int64_t o0 = 0; o0 < w.rows; o0 += tile_rows) {
        const std::int64_t count = std::min(tile_rows, w.rows - o0);
        float* dst = tile.data();
        pool.parallel_for(static_cast<std::size_t>(count), [&](std::size_t b, std::size_t e) {
            widen_to_f32(w.dtype, w.row(o0 + static_cast<std::int64_t>(b)),
                         dst + b * static_cast<std::size_t>(k),
                         (e - b) * static_cast<std::size_t>(k));
        });
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, static_cast<int>(count), k, 1.0f, x,
                    k, dst, k, 0.0f, y + o0, n);
    }
}

}  // namespace meswitch::cpu
