// Device helpers that decode the packed delta format (included only from .cu files). The
// arithmetic matches the CPU (CompressedLinear::scale_at / zero_at, delta::reconstruct)
// operation for operation, with explicit round-to-nearest intrinsics so that no fused
// multiply-add changes a bit.
#pragma once

#include "device_util.cuh"
#include "packed_delta.cuh"

namespace meswitch::kernels {

__device__ __forceinline__ float delta_scale(const PackedDelta& d, std::int64_t r) {
    return half_bits_to_f32(d.scales[d.per_row_scale ? r : 0]);
}

__device__ __forceinline__ float delta_zero(const PackedDelta& d, std::int64_t r) {
    const float levels = static_cast<float>((1 << d.bits) - 1);
    switch (d.zero_format) {
        case 1:  // zeros[r] · levels / 255, evaluated left to right as on the CPU
            return __fdiv_rn(__fmul_rn(static_cast<float>(d.zeros[r]), levels), 255.0f);
        case 2:
            return half_bits_to_f32(d.zeros[r]);
        default:
            return __fmul_rn(levels, 0.5f);
    }
}

__device__ __forceinline__ float delta_salient(const PackedDelta& d, std::int64_t at) {
    const std::uint16_t b = d.salient_values[at];
    return d.salient_bf16 ? bf16_bits_to_f32(b) : half_bits_to_f32(b);
}

// Code j of a row (j < coded()); reads at most two bytes, never past the row.
__device__ __forceinline__ unsigned delta_code(const std::uint8_t* row, std::int64_t row_bytes,
                                               std::int64_t j, int bits) {
    const std::int64_t bit = j * bits;
    const std::int64_t byte = bit >> 3;
    unsigned word = row[byte];
    if (byte + 1 < row_bytes) word |= static_cast<unsigned>(row[byte + 1]) << 8;
    return (word >> (bit & 7)) & ((1u << bits) - 1u);
}

// Δ̂[r, c] given the row's decoded scale and zero.
__device__ __forceinline__ float delta_value(const PackedDelta& d, const std::uint8_t* row,
                                             std::int64_t r, std::int64_t c, float s, float z) {
    const std::int32_t src = d.col_src[c];
    if (src >= 0) {
        const float q = static_cast<float>(delta_code(row, d.row_bytes, src, d.bits));
        return __fmul_rn(s, __fsub_rn(q, z));
    }
    return delta_salient(d, r * d.salient + (-src - 1));
}

}  // namespace meswitch::kernels
