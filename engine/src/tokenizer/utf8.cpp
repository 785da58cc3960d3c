#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

// Expected sequence length for a lead byte and the allowed range of its second byte
// (Unicode Table 3-7); length 0 for bytes that cannot start a sequence.
struct LeadInfo {
    std::size_t length;
    unsigned char lo, hi;
};

LeadInfo lead_info(unsigned char b) {
    if (b < 0x80) return {1, 0, 0};
    if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
    if (b == 0xE0) return {3, 0xA0, 0xBF};
    if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {3, 0x80, 0xBF};
    if (b == 0xED) return {3, 0x80, 0x9F};
    if (b == 0xF0) return {4, 0x90, 0xBF};
    if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
    if (b == 0xF4) return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

// Number of bytes from s[i] that belong to a (possibly incomplete) valid prefix of a
// sequence: the maximal subpart. Sets `complete` when the whole sequence is there.
std::size_t maximal_prefix(std::string_view s, std::size_t i, bool& complete) {
    const auto b = static_cast<unsigned char>(s[i]);
    const LeadInfo info = lead_info(b);
    complete = false;
    if (info.length == 0) return 1;
    if (info.length == 1) {
        complete = true;
        return 1;
    }
    std::size_t n = 1;
    for (; n < info.length; ++n) {
        if (i + n >= s.size()) return n;
        const auto c = static_cast<unsigned char>(s[i + n]);
        const unsigned char lo = n == 1 ? info.lo : 0x80;
        const unsigned char hi = n == 1 ? info.hi : 0xBF;
        if (c < lo || c > hi) return n;
    }
    complete = true;
    return n;
}

}  // namespace

std::size_t valid_sequence_length(std::string_view s, std::size_t i) {
    if (i >= s.size()) return 0;
    bool complete = false;
    const std::size_t n = maximal_prefix(s, i, complete);
    return complete ? n : 0;
}

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = valid_sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string to_valid_utf8(std::string_view s) {
    if (is_valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    for (std::size_t i = 0; i < s.size();) {
        bool complete = false;
        const std::size_t n = maximal_prefix(s, i, complete);
        if (complete)
            out.append(s.substr(i, n));
        else
            out.append(replacement_char);
        i += n;
    }
    return out;
}

std::string replace_invalid_bytes(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = valid_sequence_length(s, i);
        if (n == 0) {
            out.append(replacement_char);
            i += 1;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

char32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const std::size_t n = valid_sequence_length(s, i);
    if (n <= 1) {
        i += 1;
        return n == 1 ? b0 : 0xFFFD;
    }
    char32_t cp = b0 & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    return cp;
}

std::size_t char_length(std::string_view s, std::size_t i) {
    const std::size_t n = valid_sequence_length(s, i);
    return n == 0 ? 1 : n;
}

void append_code_point(std::string& out, char32_t cp) {
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

bool is_unicode_whitespace(char32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

}  // namespace meswitch::tok
