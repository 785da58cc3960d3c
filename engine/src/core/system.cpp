#include "meswitch/system.h"

#include <unistd.h>

#include <cstdio>

#include "backend/cuda/device_scan.h"
#include "build_config.h"

namespace meswitch {

BuildInfo build_info() {
    BuildInfo info;
    info.version = MESWITCH_VERSION;
    info.build_type = MESWITCH_BUILD_TYPE;
    info.compiler = MESWITCH_COMPILER;
#ifdef MESWITCH_HAVE_CUDA
    info.cuda_compiled = true;
    info.cuda_version = MESWITCH_CUDA_VERSION;
    info.cuda_architectures = MESWITCH_CUDA_ARCHITECTURES;
#endif
    return info;
}

DeviceScan scan_devices() {
    DeviceScan scan;
#ifdef MESWITCH_HAVE_CUDA
    detail::cuda_scan_devices(scan);
#else
    scan.note =
        "this build has no CUDA support (configured with MESWITCH_CUDA=OFF or without nvcc)";
#endif
    return scan;
}

std::uint64_t host_memory_available() {
    if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
        char line[256];
        unsigned long long kib = 0;
        bool found = false;
        while (!found && std::fgets(line, sizeof line, f))
            found = std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
        std::fclose(f);
        if (found) return static_cast<std::uint64_t>(kib) * 1024;
    }
    const long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0
               ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size)
               : 0;
}

}  // namespace meswitch
