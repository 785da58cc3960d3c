#include "backend/cuda/device.h"

#include <cuda_runtime_api.h>

#include <cstdio>

#include "backend/cuda/cuda_check.h"
#include "meswitch/error.h"

namespace meswitch::cuda {

std::string no_device_reason() {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError();
        int driver = 0;
        if (cudaDriverGetVersion(&driver) == cudaSuccess && driver == 0)
            return "no NVIDIA driver found (libcuda is not installed)";
        return std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    }
    if (count == 0) return "the CUDA driver reports no devices";
    return {};
}

int select_device(int index) {
    const std::string reason = no_device_reason();
    if (!reason.empty()) throw Error(ErrorKind::device, "no CUDA device: " + reason);
    int count = 0;
    MESWITCH_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (index >= count)
        throw Error(ErrorKind::device, "CUDA device " + std::to_string(index) +
                                           " does not exist (" + std::to_string(count) +
                                           " device(s) present)");
    if (index < 0) {
        std::size_t best_free = 0;
        index = 0;
        for (int i = 0; i < count; ++i) {
            std::size_t free_b = 0, total_b = 0;
            if (cudaSetDevice(i) == cudaSuccess &&
                cudaMemGetInfo(&free_b, &total_b) == cudaSuccess && free_b > best_free) {
                best_free = free_b;
                index = i;
            }
            cudaGetLastError();
        }
    }
    MESWITCH_CUDA_CHECK(cudaSetDevice(index));
    return index;
}

MemoryInfo memory_info() {
    std::size_t free_b = 0, total_b = 0;
    MESWITCH_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    return {total_b, free_b};
}

std::string device_name() {
    int dev = 0;
    MESWITCH_CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp prop{};
    MESWITCH_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    return std::string(prop.name) + " (cuda:" + std::to_string(dev) + ")";
}

double peak_bandwidth_gbps() {
    int dev = 0, clock_khz = 0, bus_bits = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev) != cudaSuccess) {
        cudaGetLastError();
        return 0.0;
    }
    return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
}

std::string format_mib(std::uint64_t bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

}  // namespace meswitch::cuda
