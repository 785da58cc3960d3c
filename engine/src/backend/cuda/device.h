// CUDA device selection and queries (compiled only when MESWITCH_HAVE_CUDA). Nothing here
// aborts without a driver: a missing device is an Error(device) that says why.
#pragma once

#include <cstdint>
#include <string>

namespace meswitch::cuda {

struct MemoryInfo {
    std::uint64_t total = 0;
    std::uint64_t free = 0;
};

// Why no CUDA device can be used ("the CUDA driver reports no devices", ...), or "" when
// at least one is present.
std::string no_device_reason();

// Makes `index` the current device (−1: the one with the most free memory) and returns it.
// Throws Error(device, "no CUDA device: <reason>") or for an index out of range.
int select_device(int index = -1);

MemoryInfo memory_info();                     // of the current device, now
std::string device_name();                    // "NVIDIA H100 80GB HBM3 (cuda:0)"
double peak_bandwidth_gbps();                 // memory clock × bus width × 2 (DDR), 0 if unknown
std::string format_mib(std::uint64_t bytes);  // "1234.5 MiB"

}  // namespace meswitch::cuda
