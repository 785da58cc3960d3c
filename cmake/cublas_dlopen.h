// cuBLAS is opened at the first call (cmake/cublas_dlopen.cpp), so a GPU build starts without
// the CUDA Toolkit installed. Link the target meswitch_cublas instead of CUDA::cublas.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// Null when libcublas is loaded (it is opened on the first call); otherwise why it is not,
// naming the library and how to get it. Check it when cublasCreate() fails.
const char* meswitch_cublas_missing_reason(void);

#ifdef __cplusplus
}
#endif
