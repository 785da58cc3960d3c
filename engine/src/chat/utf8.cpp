#include "chat/utf8.h"

#include "chat/limits.h"

namespace meswitch::chat::utf8 {

char32_t decode(std::string_view s, std::size_t pos, std::size_t& len) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char b0 = byte(pos);
    len = 1;
    if (b0 < 0x80) return b0;
    std::size_t need = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        need = 1, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        need = 2, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        need = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
        return replacement;
    }
    for (std::size_t i = 1; i <= need; ++i) {
        if (pos + i >= s.size()) return replacement;
        const unsigned char b = byte(pos + i);
        if ((b & 0xC0) != 0x80) return replacement;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return replacement;
    len = need + 1;
    return cp;
}

std::size_t previous_start(std::string_view s, std::size_t end) {
    std::size_t start = end - 1;
    // Walk back over at most three continuation bytes, then check the sequence really ends
    // at `end`; otherwise the last byte stands alone.
    std::size_t back = 0;
    while (start > 0 && back < 3 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
        --start;
        ++back;
    }
    std::size_t len = 0;
    decode(s, start, len);
    if (start + len == end) return start;
    return end - 1;
}

void append(std::string& out, char32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = replacement;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::vector<std::string_view> code_points(std::string_view s) {
    charge_scan(s.size() * sizeof(std::string_view));
    std::vector<std::string_view> out;
    out.reserve(s.size());
    for (std::size_t pos = 0; pos < s.size();) {
        std::size_t len = 0;
        decode(s, pos, len);
        out.push_back(s.substr(pos, len));
        pos += len;
    }
    return out;
}

std::size_t length(std::string_view s) {
    charge_scan(s.size());
    std::size_t n = 0;
    for (std::size_t pos = 0; pos < s.size(); ++n) {
        std::size_t len = 0;
        decode(s, pos, len);
        pos += len;
    }
    return n;
}

bool is_space(char32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

std::string_view trim_start(std::string_view s) {
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t len = 0;
        if (!is_space(decode(s, pos, len))) break;
        pos += len;
    }
    return s.substr(pos);
}

std::string_view trim_end(std::string_view s) {
    std::size_t end = s.size();
    while (end > 0) {
        const std::size_t start = previous_start(s, end);
        std::size_t len = 0;
        if (!is_space(decode(s, start, len))) break;
        end = start;
    }
    return s.substr(0, end);
}

std::string_view trim(std::string_view s) {
    return trim_end(trim_start(s));
}

namespace {

// Latin Extended-A runs where upper and lower case alternate; `upper_even` says whether the
// upper-case letter has the even code point.
struct AlternatingRun {
    char32_t first, last;
    bool upper_even;
};
constexpr AlternatingRun kLatinExtendedA[] = {
    {0x0100, 0x012F, true}, {0x0132, 0x0137, true},  {0x0139, 0x0148, false},
    {0x014A, 0x0177, true}, {0x0179, 0x017E, false},
};

}  // namespace

char32_t to_upper(char32_t cp) {
    if (cp >= 'a' && cp <= 'z') return cp - 32;
    if (cp < 0x80) return cp;
    if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
    if (cp == 0xFF) return 0x178;
    if (cp == 0xB5) return 0x39C;
    for (const auto& run : kLatinExtendedA) {
        if (cp >= run.first && cp <= run.last) {
            const bool even = (cp % 2) == 0;
            return even == run.upper_even ? cp : cp - 1;
        }
    }
    if (cp >= 0x3B1 && cp <= 0x3C9) return cp == 0x3C2 ? 0x3A3 : cp - 0x20;
    if (cp == 0x3AC) return 0x386;
    if (cp >= 0x3AD && cp <= 0x3AF) return cp - 0x25;
    if (cp == 0x3CC) return 0x38C;
    if (cp == 0x3CD || cp == 0x3CE) return cp - 0x3F;
    if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;
    if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;
    return cp;
}

char32_t to_lower(char32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp < 0x80) return cp;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
    if (cp == 0x178) return 0xFF;
    for (const auto& run : kLatinExtendedA) {
        if (cp >= run.first && cp <= run.last) {
            const bool even = (cp % 2) == 0;
            return even == run.upper_even ? cp + 1 : cp;
        }
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 0x3F;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
    return cp;
}

namespace {

template <typename Map>
std::string map_case(std::string_view s, Map map) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t pos = 0; pos < s.size();) {
        std::size_t len = 0;
        const char32_t cp = decode(s, pos, len);
        const char32_t mapped = map(cp);
        if (mapped == cp) {
            out.append(s.substr(pos, len));  // keeps invalid bytes as they were
        } else {
            append(out, mapped);
        }
        pos += len;
    }
    return out;
}

}  // namespace

std::string upper(std::string_view s) {
    return map_case(s, to_upper);
}
std::string lower(std::string_view s) {
    return map_case(s, to_lower);
}

bool is_alpha(char32_t cp) {
    return to_upper(cp) != cp || to_lower(cp) != cp;
}

}  // namespace meswitch::chat::utf8
