// Per-row uniform quantizer helpers shared by ME-Switch and the baselines: a row's codes
// are q = clamp(round(w / s + z), 0, L) with L = 2^bits − 1 and Δ̂ = s · (q − z); s and z
// are always rounded to what is stored (f16 scale; u8 / f16 / midpoint zero) before codes
// are chosen, so the stored layer reproduces exactly what was optimised.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "delta/quant/quantize.h"
#include "meswitch/tensor.h"

namespace meswitch::delta::detail {

// f16 round trip of a positive scale; never 0 (smallest subnormal) and never inf.
inline float stored_scale(float s, std::uint16_t* raw = nullptr) {
    if (!(s > 0)) s = 0;
    if (s > 65504.0f) s = 65504.0f;
    std::uint16_t bits = f32_to_f16(s);
    if ((bits & 0x7fff) == 0) bits = 1;
    if (raw) *raw = bits;
    return f16_to_f32(bits);
}

// Rounds a zero point to its stored form; returns the value dequantization uses.
inline float stored_zero(float z, ZeroFormat format, int levels, std::uint16_t* raw = nullptr) {
    const float l = static_cast<float>(levels);
    switch (format) {
        case ZeroFormat::midpoint:
            return l * 0.5f;
        case ZeroFormat::u8: {
            float u = std::nearbyint(std::clamp(z, 0.0f, l) * 255.0f / l);
            const auto v = static_cast<std::uint16_t>(std::clamp(u, 0.0f, 255.0f));
            if (raw) *raw = v;
            return static_cast<float>(v) * l / 255.0f;
        }
        case ZeroFormat::f16: {
            const std::uint16_t bits = f32_to_f16(std::clamp(z, -60000.0f, 60000.0f));
            if (raw) *raw = bits;
            return f16_to_f32(bits);
        }
    }
    return 0.0f;
}

inline std::uint8_t quant_code(float w, float inv_s, float z, float levels) {
    // Clamped first, so truncation of q + 0.5 rounds to nearest (ties up) without a libm call.
    const float q = std::clamp(w * inv_s + z, 0.0f, levels);
    return static_cast<std::uint8_t>(static_cast<int>(q + 0.5f));
}

// Scale and zero for the clipped range [lo, hi] (lo <= 0 <= hi enforced for bounded zeros).
inline void range_params(float lo, float hi, ZeroFormat format, int levels, float& s, float& z) {
    const float l = static_cast<float>(levels);
    if (format == ZeroFormat::midpoint) {
        const float amax = std::max(std::fabs(lo), std::fabs(hi));
        s = stored_scale(2.0f * amax / l);
        z = l * 0.5f;
        return;
    }
    if (format == ZeroFormat::u8) {
        lo = std::min(lo, 0.0f);
        hi = std::max(hi, 0.0f);
    }
    float range = hi - lo;
    if (!(range > 0)) range = std::max(std::fabs(lo), 1e-30f);
    s = stored_scale(range / l);
    z = stored_zero(-lo / s, format, levels);
}

}  // namespace meswitch::delta::detail
