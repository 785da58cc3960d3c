#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

struct Tables {
    std::array<std::string, 256> to_unicode;
    std::array<std::int16_t, 0x144> to_byte{};  // indexed by code point, -1 when unmapped

    Tables() {
        to_byte.fill(-1);
        auto printable = [](int b) {
            return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        };
        int next = 0;
        for (int b = 0; b < 256; ++b) {
            const char32_t cp =
                printable(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
            append_code_point(to_unicode[b], cp);
            to_byte[cp] = static_cast<std::int16_t>(b);
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

const std::string& byte_to_unicode(std::uint8_t byte) {
    return tables().to_unicode[byte];
}

std::optional<std::uint8_t> unicode_to_byte(char32_t cp) {
    if (cp >= tables().to_byte.size()) return std::nullopt;
    const std::int16_t b = tables().to_byte[cp];
    if (b < 0) return std::nullopt;
    return static_cast<std::uint8_t>(b);
}

std::string bytes_to_unicode(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 2);
    for (char c : text) out += byte_to_unicode(static_cast<std::uint8_t>(c));
    return out;
}

}  // namespace meswitch::tok
