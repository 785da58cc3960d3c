// MESWITCH_CUDA_CHECK(stmt): throws meswitch::Error(device, or out_of_memory) naming the
// statement, file and line when a CUDA runtime call fails.
#pragma once

#include <cuda_runtime_api.h>

#include "check.cuh"
#include "meswitch/error.h"

#define MESWITCH_CUDA_CHECK(stmt)                                                              \
    do {                                                                                       \
        cudaError_t meswitch_err_ = (stmt);                                                    \
        if (meswitch_err_ != cudaSuccess) {                                                    \
            cudaGetLastError();                                                                \
            throw ::meswitch::Error(meswitch_err_ == cudaErrorMemoryAllocation                 \
                                        ? ::meswitch::ErrorKind::out_of_memory                 \
                                        : ::meswitch::ErrorKind::device,                       \
                                    ::meswitch::kernels::describe_cuda_error(                  \
                                        meswitch_err_, #stmt, __FILE__, __LINE__));            \
        }                                                                                      \
    } while (0)
