#include "backend/cuda/cublas_handle.h"

namespace meswitch::cuda {

std::string describe_cublas_error(cublasStatus_t status, const char* stmt, const char* file,
                                  int line) {
    return std::string(stmt) + " failed at " + file + ":" + std::to_string(line) + ": " +
           cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")";
}

CublasHandle::CublasHandle(cudaStream_t stream) {
    MESWITCH_CUBLAS_CHECK(cublasCreate(&handle_));
    cublasSetStream(handle_, stream);
    // Plain float32 math for f32 weights (no TF32), so f32 models match the CPU closely.
    cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH);
}

CublasHandle::~CublasHandle() {
    if (handle_) cublasDestroy(handle_);
}

void CublasHandle::linear(const void* x, std::int64_t rows, const void* w, kernels::WType wtype,
                          std::int64_t out, std::int64_t in, float* y, float beta) {
    if (rows <= 0) return;
    if (rows > 0x7fffffff || out > 0x7fffffff || in > 0x7fffffff)
        throw Error(ErrorKind::unsupported, "cuBLAS linear: shape exceeds 32-bit dimensions");
    const cudaDataType_t t = wtype == kernels::WType::f32   ? CUDA_R_32F
                             : wtype == kernels::WType::f16 ? CUDA_R_16F
                                                            : CUDA_R_16BF;
    const float alpha = 1.0f;
    // Column-major view: yᵀ (out × rows) = W (viewed in × out, transposed) · xᵀ (in × rows).
    MESWITCH_CUBLAS_CHECK(cublasGemmEx(
        handle_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), static_cast<int>(rows),
        static_cast<int>(in), &alpha, w, t, static_cast<int>(in), x, t, static_cast<int>(in), &beta,
        y, CUDA_R_32F, static_cast<int>(out), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace meswitch::cuda
