// Dense packing of b-bit unsigned codes (b = 1..4): code j occupies bits [j·b, (j+1)·b)
// of the buffer, little-endian bit order (bit 0 = least significant bit of byte 0); the
// last byte's unused high bits are zero.
#pragma once

#include <cstdint>

namespace meswitch::delta {

// Bytes needed for `count` codes of `bits` bits: ceil(count · bits / 8).
std::int64_t packed_bytes(std::int64_t count, int bits);

// codes[j] must be < 2^bits (higher bits are masked off). out has packed_bytes(count, bits).
void pack_codes(const std::uint8_t* codes, std::int64_t count, int bits, std::uint8_t* out);

// Inverse of pack_codes: out[j] in [0, 2^bits).
void unpack_codes(const std::uint8_t* packed, std::int64_t count, int bits, std::uint8_t* out);

}  // namespace meswitch::delta
