#include "backend/cuda/device_scan.h"

#include <cuda_runtime_api.h>

#include <string>

namespace meswitch::detail {

static std::string version_string(int v) {
    if (v <= 0) return {};
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

void cuda_scan_devices(DeviceScan& scan) {
    int runtime = 0;
    if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) scan.runtime_version = version_string(runtime);
    int driver = 0;
    if (cudaDriverGetVersion(&driver) == cudaSuccess) scan.driver_version = version_string(driver);

    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaErrorInsufficientDriver && driver == 0) {
        scan.note = "no NVIDIA driver found (libcuda is not installed); using the CPU";
        cudaGetLastError();
        return;
    }
    if (err != cudaSuccess) {
        scan.note = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
        cudaGetLastError();  // clear the sticky error
        return;
    }
    if (count == 0) {
        scan.note = "the CUDA driver reports no devices";
        return;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
        DeviceInfo dev;
        dev.index = i;
        dev.name = prop.name;
        dev.total_memory = prop.totalGlobalMem;
        dev.compute_major = prop.major;
        dev.compute_minor = prop.minor;
        size_t free_b = 0, total_b = 0;
        if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
            dev.free_memory = free_b;
        scan.devices.push_back(dev);
    }
}

}  // namespace meswitch::detail
