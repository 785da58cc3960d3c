#include "chat/source.h"

#include "chat/utf8.h"

namespace meswitch::chat {
namespace {

// Appends cur[from, to) with its lines.
void keep(const Source& cur, std::size_t from, std::size_t to, Source& out) {
    out.text.append(cur.text, from, to - from);
    out.lines.insert(out.lines.end(), cur.lines.begin() + static_cast<std::ptrdiff_t>(from),
                     cur.lines.begin() + static_cast<std::ptrdiff_t>(to));
}

void finish(Source& s, std::uint32_t end_line) {
    s.lines.push_back(end_line);
}

std::size_t skip_spaces(const std::string& s, std::size_t pos) {
    while (pos < s.size()) {
        std::size_t len = 0;
        if (!utf8::is_space(utf8::decode(s, pos, len))) break;
        pos += len;
    }
    return pos;
}

bool at_line_start(const std::string& s, std::size_t pos) {
    if (pos == 0) return true;
    const char prev = s[pos - 1];
    if (prev == '\n' || prev == '\r') return true;
    // U+2028 / U+2029 end a line for JavaScript's multiline "^" too.
    return pos >= 3 && s.compare(pos - 3, 2, "\xE2\x80") == 0 &&
           (s[pos - 1] == '\xA8' || s[pos - 1] == '\xA9');
}

// lstrip_blocks: `^[ \t]*({[#%-])` in multiline mode, the blanks removed. A "+" right after
// "{%" or "{#" (Jinja's opt-out) keeps them.
Source lstrip_blocks(const Source& cur) {
    Source out;
    const std::string& s = cur.text;
    std::size_t i = 0;
    while (i < s.size()) {
        if (at_line_start(s, i)) {
            std::size_t j = i;
            while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
            const bool block = j + 1 < s.size() && s[j] == '{' &&
                               (s[j + 1] == '#' || s[j + 1] == '%' || s[j + 1] == '-');
            const bool opt_out = block && j + 2 < s.size() && s[j + 2] == '+';
            if (block && !opt_out && j > i) {
                i = j;  // drop the blanks
                keep(cur, i, i + 2, out);
                i += 2;
                continue;
            }
        }
        keep(cur, i, i + 1, out);
        ++i;
    }
    return out;
}

// trim_blocks: `([#%-]})\n`, the newline removed; "+%}" (Jinja's opt-out) keeps it.
Source trim_blocks(const Source& cur) {
    Source out;
    const std::string& s = cur.text;
    std::size_t i = 0;
    while (i < s.size()) {
        if (i + 2 < s.size() && (s[i] == '#' || s[i] == '%' || s[i] == '-') && s[i + 1] == '}' &&
            s[i + 2] == '\n' && !(i > 0 && s[i - 1] == '+')) {
            keep(cur, i, i + 2, out);
            i += 3;
            continue;
        }
        keep(cur, i, i + 1, out);
        ++i;
    }
    return out;
}

// `(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)` replaced by the surrounding whitespace,
// each side dropped when its "-" is present.
Source remove_generation_tags(const Source& cur) {
    Source out;
    const std::string& s = cur.text;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t j = skip_spaces(s, i);
        bool matched = false;
        if (s.compare(j, 2, "{%") == 0) {
            std::size_t k = j + 2;
            const bool left = k < s.size() && s[k] == '-';
            if (left) ++k;
            k = skip_spaces(s, k);
            if (s.compare(k, 13, "endgeneration") == 0) {
                k += 13;
                matched = true;
            } else if (s.compare(k, 10, "generation") == 0) {
                k += 10;
                matched = true;
            }
            if (matched) {
                k = skip_spaces(s, k);
                const bool right = k < s.size() && s[k] == '-';
                if (right) ++k;
                matched = s.compare(k, 2, "%}") == 0;
                if (matched) {
                    k += 2;
                    const std::size_t e = skip_spaces(s, k);
                    if (!left) keep(cur, i, j, out);
                    if (!right) keep(cur, k, e, out);
                    i = e;
                    continue;
                }
            }
        }
        if (j > i) {
            keep(cur, i, j, out);  // no position inside this run can start a match either
            i = j;
        } else {
            keep(cur, i, i + 1, out);
            ++i;
        }
    }
    return out;
}

}  // namespace

Source preprocess(std::string_view original) {
    Source cur;
    cur.text.assign(original);
    cur.lines.reserve(original.size());
    std::uint32_t line = 1;
    for (char c : original) {
        cur.lines.push_back(line);
        if (c == '\n') ++line;
    }
    const std::uint32_t end_line = line;
    if (!cur.text.empty() && cur.text.back() == '\n') {
        cur.text.pop_back();
        cur.lines.pop_back();
    }
    Source out = remove_generation_tags(trim_blocks(lstrip_blocks(cur)));
    finish(out, end_line);
    return out;
}

}  // namespace meswitch::chat
