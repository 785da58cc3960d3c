// Matrix multiplication y = x · Wᵀ for batched prefill. A few rows (decode) go to the
// streaming GEMV; more go to the packed gemm for every weight dtype. (The gemm used to leave
// f32 weights to OpenBLAS sgemm; Debian's OpenBLAS 0.3.21 picks SSE3 kernels on CPUs it does
// not know, and its own thread count ignores the engine's pool: on synthetic:1b f32, prefill
// of 64 tokens with 2 threads went from ~89 to ~109 tokens/s with the gemm.)
#include "backend/cpu/ops.h"
#include "core/thread_pool.h"

namespace meswitch::cpu {

namespace {

// Rows below this use GEMV per row: streaming the weights a few times costs less than
// packing the rows into a whole vector of rows (the gemm pads them to 16 on AVX-512).
constexpr std::int64_t gemm_min_rows = 4;

}  // namespace

void matmul(const float* x, std::int64_t rows, const Matrix& w, float* y, ThreadPool& pool) {
    if (rows <= 0 || w.rows == 0) return;
    if (rows < gemm_min_rows) {
        for (std::int64_t t = 0; t < rows; ++t) gemv(w, x + t * w.cols, y + t * w.rows, pool);
        return;
    }
    gemm(x, rows, w, y, pool);
}

}  // namespace meswitch::cpu
