// Matrix multiplication y = x · Wᵀ for batched prefill. A single row (decode) goes to the
// streaming GEMV; f16/bf16 weights go to the register-blocked gemm (widened in registers,
// never copied); f32 weights to OpenBLAS sgemm.
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <cblas.h>
#include <spdlog/spdlog.h>

#include "backend/cpu/ops.h"
#include "core/thread_pool.h"

extern "C" char* openblas_get_corename(void);

namespace meswitch::cpu {

namespace {

// Rows below this use GEMV per row: streaming the weights a few times costs less than
// blocking them.
constexpr std::int64_t gemm_min_rows = 4;

// Debian's OpenBLAS 0.3.21 picks SSE3 ("Prescott") kernels on CPUs it does not know (e.g.
// Sapphire Rapids), about 3× slower. The core is chosen when the library loads, so all we
// can do is say how to fix it.
void check_openblas_core() {
    static std::once_flag once;
    std::call_once(once, [] {
        const char* core = openblas_get_corename();
        if (!core || std::getenv("OPENBLAS_CORETYPE")) return;
        const bool generic = std::strcmp(core, "Prescott") == 0 ||
                             std::strcmp(core, "Core2") == 0 || std::strcmp(core, "Nehalem") == 0;
        if (!generic) return;
        const char* better = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                             : __builtin_cpu_supports("avx2")  ? "Haswell"
                                                               : nullptr;
        if (better)
            spdlog::info(
                "OpenBLAS chose its '{}' kernels on this CPU; f32 prompt processing would be "
                "faster with the environment variable OPENBLAS_CORETYPE={} set before start",
                core, better);
    });
}

}  // namespace

void matmul(const float* x, std::int64_t rows, const Matrix& w, float* y, ThreadPool& pool) {
    if (rows <= 0 || w.rows == 0) return;
    if (rows < gemm_min_rows) {
        for (std::int64_t t = 0; t < rows; ++t) gemv(w, x + t * w.cols, y + t * w.rows, pool);
        return;
    }
    if (w.dtype != DType::f32) {
        gemm(x, rows, w, y, pool);
        return;
    }
    check_openblas_core();
    const int m = static_cast<int>(rows), k = static_cast<int>(w.cols),
              n = static_cast<int>(w.rows);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k,
                reinterpret_cast<const float*>(w.data), k, 0.0f, y, n);
}

}  // namespace meswitch::cpu
