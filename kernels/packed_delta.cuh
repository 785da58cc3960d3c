// A compressed linear delta (ME-Switch .msd layout, engine/src/delta/quant/quantize.h) as
// device pointers, for the delta kernels. Host-safe: no device code here.
//   Δ̂[r, c] = scale_r · (q − zero_r)  for the coded (non-salient) columns, codes packed per
//             row, little-endian bit order, rows padded to row_bytes;
//   Δ̂[r, c] = salient value           for the k salient columns (f16 or bf16 bits).
#pragma once

#include <cstdint>

namespace meswitch::kernels {

struct PackedDelta {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    int bits = 2;                           // 1..4
    std::int64_t row_bytes = 0;             // ceil((cols − k) · bits / 8)
    const std::uint8_t* codes = nullptr;    // rows × row_bytes
    const std::uint16_t* scales = nullptr;  // f16 bits: rows, or 1 when per_row_scale is 0
    int per_row_scale = 1;
    int zero_format = 0;                            // 0 midpoint, 1 u8 (stored in u16), 2 f16 bits
    const std::uint16_t* zeros = nullptr;           // rows (absent for midpoint)
    std::int64_t salient = 0;                       // k
    const std::int32_t* salient_idx = nullptr;      // k columns, sorted
    const std::uint16_t* salient_values = nullptr;  // rows × k raw bits
    int salient_bf16 = 0;                           // 1: bf16, 0: f16
    // cols entries: ≥ 0 → index of the column's code within its row; < 0 → −(s + 1) for
    // salient column position s. Built on the host from salient_idx.
    const std::int32_t* col_src = nullptr;
};

}  // namespace meswitch::kernels
