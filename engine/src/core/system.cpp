#include "meswitch/system.h"

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
    scan.note = "this build has no CUDA support (configured with MESWITCH_CUDA=OFF or without nvcc)";
#endif
    return scan;
}

}  // namespace meswitch
