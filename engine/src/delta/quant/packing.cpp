// b-bit code packing (see packing.h for the bit order).
#include "delta/quant/packing.h"

#include <cstring>

namespace meswitch::delta {

std::int64_t packed_bytes(std::int64_t count, int bits) {
    return count <= 0 ? 0 : (count * bits + 7) / 8;
}

void pack_codes(const std::uint8_t* codes, std::int64_t count, int bits, std::uint8_t* out) {
    const std::int64_t nbytes = packed_bytes(count, bits);
    if (nbytes == 0) return;  // out may be null then (an empty vector's data())
    std::memset(out, 0, static_cast<std::size_t>(nbytes));
    const unsigned mask = (1u << bits) - 1u;
    if (bits == 1 || bits == 2 || bits == 4) {
        const int per = 8 / bits;
        for (std::int64_t j = 0; j < count; ++j)
            out[j / per] |= static_cast<std::uint8_t>((codes[j] & mask) << ((j % per) * bits));
        return;
    }
    std::int64_t bit = 0;
    for (std::int64_t j = 0; j < count; ++j, bit += bits) {
        const unsigned v = (codes[j] & mask) << (bit & 7);
        out[bit >> 3] |= static_cast<std::uint8_t>(v & 0xff);
        if ((bit & 7) + bits > 8) out[(bit >> 3) + 1] |= static_cast<std::uint8_t>(v >> 8);
    }
}

void unpack_codes(const std::uint8_t* packed, std::int64_t count, int bits, std::uint8_t* out) {
    const unsigned mask = (1u << bits) - 1u;
    if (bits == 2) {
        const std::int64_t full = count / 4;
        for (std::int64_t b = 0; b < full; ++b) {
            const unsigned v = packed[b];
            out[4 * b] = v & 3u;
            out[4 * b + 1] = (v >> 2) & 3u;
            out[4 * b + 2] = (v >> 4) & 3u;
            out[4 * b + 3] = v >> 6;
        }
        for (std::int64_t j = full * 4; j < count; ++j)
            out[j] = (packed[j / 4] >> ((j % 4) * 2)) & 3u;
        return;
    }
    if (bits == 1 || bits == 4) {
        const int per = 8 / bits;
        for (std::int64_t j = 0; j < count; ++j)
            out[j] = (packed[j / per] >> ((j % per) * bits)) & mask;
        return;
    }
    std::int64_t bit = 0;
    for (std::int64_t j = 0; j < count; ++j, bit += bits) {
        unsigned v = packed[bit >> 3];
        if ((bit & 7) + bits > 8) v |= static_cast<unsigned>(packed[(bit >> 3) + 1]) << 8;
        out[j] = static_cast<std::uint8_t>((v >> (bit & 7)) & mask);
    }
}

}  // namespace meswitch::delta
