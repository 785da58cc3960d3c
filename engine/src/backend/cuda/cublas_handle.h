// A cuBLAS handle bound to one stream, and the linear layer y = x · Wᵀ through
// cublasGemmEx on the weights' own dtype (f32, f16, bf16) with float32 accumulation and
// float32 output. MESWITCH_CUBLAS_CHECK reports the statement, file and line.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "meswitch/error.h"
#include "wtype.cuh"

namespace meswitch::cuda {

std::string describe_cublas_error(cublasStatus_t status, const char* stmt, const char* file,
                                  int line);

#define MESWITCH_CUBLAS_CHECK(stmt)                                                                \
    do {                                                                                           \
        cublasStatus_t meswitch_st_ = (stmt);                                                      \
        if (meswitch_st_ != CUBLAS_STATUS_SUCCESS)                                                 \
            throw ::meswitch::Error(                                                               \
                meswitch_st_ == CUBLAS_STATUS_ALLOC_FAILED ? ::meswitch::ErrorKind::out_of_memory  \
                                                           : ::meswitch::ErrorKind::device,        \
                ::meswitch::cuda::describe_cublas_error(meswitch_st_, #stmt, __FILE__, __LINE__)); \
    } while (0)

class CublasHandle {
public:
    explicit CublasHandle(cudaStream_t stream);
    ~CublasHandle();
    CublasHandle(const CublasHandle&) = delete;
    CublasHandle& operator=(const CublasHandle&) = delete;

    cublasHandle_t get() const { return handle_; }

    // y (rows × out) = x (rows × in) · Wᵀ, W out × in row-major of `wtype`; x must already be
    // in `wtype` (convert_from_f32). y float32. beta 1 accumulates into y.
    void linear(const void* x, std::int64_t rows, const void* w, kernels::WType wtype,
                std::int64_t out, std::int64_t in, float* y, float beta = 0.0f);

private:
    cublasHandle_t handle_ = nullptr;
};

}  // namespace meswitch::cuda
