// Delay-loading cuBLAS: the cuBLAS entry points the GPU path calls, defined here as forwarders
// that open libcublas at the first call (dlopen) instead of the dynamic linker loading it at
// start-up. A binary built with the GPU path therefore starts on machines without the CUDA
// Toolkit: cublasCreate() then returns CUBLAS_STATUS_NOT_INITIALIZED and the engine uses the
// CPU (meswitch_cublas_missing_reason() says why).
//
// Built by cmake/MeswitchCuda.cmake as the target meswitch_cublas (link it instead of
// CUDA::cublas). Calling a cuBLAS function not listed below is a link error
// ("undefined reference to cublasXyz"): add one MESWITCH_CUBLAS_FN line with the prototype
// from cublas_api.h (the compiler checks it against the header's declaration).
#include <cublas_v2.h>
#include <dlfcn.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <type_traits>

#include "cublas_dlopen.h"

namespace {

std::once_flag g_once;
void* g_lib = nullptr;
std::string g_error;

void open_library() {
    // The soname of the toolkit we compiled against (another major version has another ABI),
    // then the toolkit's own folders (its installer does not always register them with ld.so).
    const char* candidates[] = {
        "libcublas.so." MESWITCH_CUBLAS_SOVERSION,
        MESWITCH_CUBLAS_LIBDIR "/libcublas.so." MESWITCH_CUBLAS_SOVERSION,
        "/usr/local/cuda/lib64/libcublas.so." MESWITCH_CUBLAS_SOVERSION,
    };
    std::string errors;
    for (const char* name : candidates) {
        g_lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (g_lib) return;
        const char* e = dlerror();
        if (errors.empty() && e) errors = e;
    }
    g_error = "cuBLAS (libcublas.so." MESWITCH_CUBLAS_SOVERSION
              ") is not installed or cannot be loaded: " +
              errors +
              "; install the NVIDIA CUDA Toolkit " MESWITCH_CUBLAS_SOVERSION
              " (or its cuBLAS runtime) for the GPU path";
}

void* resolve(const char* symbol) {
    std::call_once(g_once, open_library);
    return g_lib ? dlsym(g_lib, symbol) : nullptr;
}

template <typename R>
R unavailable() {
    if constexpr (std::is_same_v<R, cublasStatus_t>)
        return CUBLAS_STATUS_NOT_INITIALIZED;
    else
        return "cuBLAS is not available";
}

}  // namespace

extern "C" const char* meswitch_cublas_missing_reason(void) {
    std::call_once(g_once, open_library);
    return g_lib ? nullptr : g_error.c_str();
}

#define MESWITCH_CUBLAS_FN(R, name, params, args)                  \
    extern "C" R CUBLASWINAPI name params {                        \
        using Fn = R(CUBLASWINAPI*) params;                        \
        static const Fn fn = reinterpret_cast<Fn>(resolve(#name)); \
        return fn ? fn args : unavailable<R>();                    \
    }

MESWITCH_CUBLAS_FN(cublasStatus_t, cublasCreate_v2, (cublasHandle_t * handle), (handle))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasDestroy_v2, (cublasHandle_t handle), (handle))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasGetVersion_v2, (cublasHandle_t handle, int* version),
                   (handle, version))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasSetStream_v2, (cublasHandle_t handle, cudaStream_t s),
                   (handle, s))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasSetMathMode, (cublasHandle_t handle, cublasMath_t mode),
                   (handle, mode))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasSetPointerMode_v2,
                   (cublasHandle_t handle, cublasPointerMode_t mode), (handle, mode))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasSetWorkspace_v2,
                   (cublasHandle_t handle, void* workspace, size_t bytes),
                   (handle, workspace, bytes))
MESWITCH_CUBLAS_FN(const char*, cublasGetStatusString, (cublasStatus_t status), (status))
MESWITCH_CUBLAS_FN(const char*, cublasGetStatusName, (cublasStatus_t status), (status))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasSgemv_v2,
                   (cublasHandle_t handle, cublasOperation_t trans, int m, int n,
                    const float* alpha, const float* A, int lda, const float* x, int incx,
                    const float* beta, float* y, int incy),
                   (handle, trans, m, n, alpha, A, lda, x, incx, beta, y, incy))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasSgemm_v2,
                   (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                    int m, int n, int k, const float* alpha, const float* A, int lda,
                    const float* B, int ldb, const float* beta, float* C, int ldc),
                   (handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasGemmEx,
                   (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                    int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                    int lda, const void* B, cudaDataType Btype, int ldb, const void* beta, void* C,
                    cudaDataType Ctype, int ldc, cublasComputeType_t computeType,
                    cublasGemmAlgo_t algo),
                   (handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C,
                    Ctype, ldc, computeType, algo))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasGemmStridedBatchedEx,
                   (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                    int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                    int lda, long long int strideA, const void* B, cudaDataType Btype, int ldb,
                    long long int strideB, const void* beta, void* C, cudaDataType Ctype, int ldc,
                    long long int strideC, int batchCount, cublasComputeType_t computeType,
                    cublasGemmAlgo_t algo),
                   (handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb,
                    strideB, beta, C, Ctype, ldc, strideC, batchCount, computeType, algo))
MESWITCH_CUBLAS_FN(cublasStatus_t, cublasGemmBatchedEx,
                   (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                    int m, int n, int k, const void* alpha, const void* const Aarray[],
                    cudaDataType Atype, int lda, const void* const Barray[], cudaDataType Btype,
                    int ldb, const void* beta, void* const Carray[], cudaDataType Ctype, int ldc,
                    int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo),
                   (handle, transa, transb, m, n, k, alpha, Aarray, Atype, lda, Barray, Btype, ldb,
                    beta, Carray, Ctype, ldc, batchCount, computeType, algo))
