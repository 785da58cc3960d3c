// What this build can do and which devices this machine has.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace meswitch {

struct DeviceInfo {
    int index = 0;
    std::string name;
    std::uint64_t total_memory = 0;  // bytes
    std::uint64_t free_memory = 0;   // bytes
    int compute_major = 0;
    int compute_minor = 0;
};

struct BuildInfo {
    std::string version;         // "0.1.0"
    std::string build_type;      // CMAKE_BUILD_TYPE
    std::string compiler;        // "GCC 12.2.0"
    bool cuda_compiled = false;  // kernels/ and the CUDA backend are in this build
    std::string cuda_version;    // toolkit version compiled against, or ""
    std::string cuda_architectures;
};

BuildInfo build_info();

struct DeviceScan {
    std::vector<DeviceInfo> devices;
    std::string driver_version;   // "13.0" or "" when there is no driver
    std::string runtime_version;  // CUDA runtime version, or "" when not compiled in
    std::string note;             // why no device is usable, e.g. "CUDA driver not found"
};

// Never throws: with no GPU, no driver or a CPU-only build it returns no devices and a note.
DeviceScan scan_devices();

// Host memory the kernel could give without swapping (MemAvailable of /proc/meminfo, else
// the free pages), in bytes; 0 when unknown.
std::uint64_t host_memory_available();

// Called first thing in main(): re-executes the program once (execv of /proc/self/exe, same
// arguments) with glibc's malloc asked to back its large allocations with transparent huge
// pages (GLIBC_TUNABLES gains glibc.malloc.hugetlb=1; read by glibc only at start-up), where
// the kernel offers them (transparent_hugepage "madvise" or "always"). Compression allocates
// and fills hundreds of megabytes per layer: on 4 KiB pages a 7B run took 53 M page faults
// and 242 s of system time (936 s wall); with huge pages 1.6 M, 181 s (875 s). Does nothing
// when the tunable is already set, MESWITCH_HUGE_PAGES=0, or not on Linux with glibc; when
// the exec fails the program simply goes on.
void use_huge_pages_for_malloc(char** argv);

}  // namespace meswitch
