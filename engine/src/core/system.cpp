#include "meswitch/system.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

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

void use_huge_pages_for_malloc(char** argv) {
#if defined(__linux__) && defined(__GLIBC__)
    if (!argv || !argv[0]) return;
    if (const char* off = std::getenv("MESWITCH_HUGE_PAGES"); off && std::string(off) == "0")
        return;
    const char* current = std::getenv("GLIBC_TUNABLES");
    std::string tunables = current ? current : "";
    if (tunables.find("glibc.malloc.hugetlb") != std::string::npos) return;
    {
        std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
        std::string mode;
        std::getline(thp, mode);
        if (mode.empty() || mode.find("[never]") != std::string::npos) return;
    }
    tunables += std::string(tunables.empty() ? "" : ":") + "glibc.malloc.hugetlb=1";
    if (::setenv("GLIBC_TUNABLES", tunables.c_str(), 1) != 0) return;
    ::execv("/proc/self/exe", argv);  // returns only when it fails: go on as we are
#else
    (void)argv;
#endif
}

}  // namespace meswitch
