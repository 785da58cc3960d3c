// Element types of weights on the device, usable from host C++ code (no device code here).
#pragma once

#include <cstddef>

namespace meswitch::kernels {

// Values match meswitch::DType for f32 (0), f16 (1) and bf16 (2).
enum class WType : int { f32 = 0, f16 = 1, bf16 = 2 };

inline std::size_t wtype_size(WType t) {
    return t == WType::f32 ? 4 : 2;
}

}  // namespace meswitch::kernels
