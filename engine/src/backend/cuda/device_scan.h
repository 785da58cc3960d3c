// Host-side CUDA device enumeration (compiled only when MESWITCH_HAVE_CUDA).
#pragma once

#include "meswitch/system.h"

namespace meswitch::detail {

// Fills scan.devices, versions and a note; never throws, never aborts without a driver.
void cuda_scan_devices(DeviceScan& scan);

}  // namespace meswitch::detail
