#include "chat/string_ops.h"

#include "chat/limits.h"
#include "chat/utf8.h"

namespace meswitch::chat::strings {
namespace {

bool in_set(std::string_view set, std::string_view cp) {
    for (std::string_view c : utf8::code_points(set))
        if (c == cp) return true;
    return false;
}

}  // namespace

std::string strip(std::string_view s, Side side, const std::optional<std::string>& chars) {
    if (!chars) {
        switch (side) {
            case Side::both:
                return std::string(utf8::trim(s));
            case Side::start:
                return std::string(utf8::trim_start(s));
            case Side::end:
                return std::string(utf8::trim_end(s));
        }
    }
    const auto cps = utf8::code_points(s);
    std::size_t first = 0;
    std::size_t last = cps.size();
    if (side != Side::end)
        while (first < last && in_set(*chars, cps[first])) ++first;
    if (side != Side::start)
        while (last > first && in_set(*chars, cps[last - 1])) --last;
    std::string out;
    for (std::size_t i = first; i < last; ++i) out.append(cps[i]);
    return out;
}

std::string capitalize(std::string_view s) {
    std::string out;
    bool first = true;
    for (std::size_t pos = 0; pos < s.size();) {
        std::size_t len = 0;
        const char32_t cp = utf8::decode(s, pos, len);
        const char32_t mapped = first ? utf8::to_upper(cp) : utf8::to_lower(cp);
        if (mapped == cp) {
            out.append(s.substr(pos, len));
        } else {
            utf8::append(out, mapped);
        }
        first = false;
        pos += len;
    }
    return out;
}

std::string title(std::string_view s) {
    std::string out;
    bool in_word = false;
    for (std::size_t pos = 0; pos < s.size();) {
        std::size_t len = 0;
        const char32_t cp = utf8::decode(s, pos, len);
        const bool cased = utf8::is_alpha(cp);
        const char32_t mapped = !cased ? cp : (in_word ? utf8::to_lower(cp) : utf8::to_upper(cp));
        if (mapped == cp) {
            out.append(s.substr(pos, len));
        } else {
            utf8::append(out, mapped);
        }
        in_word = cased;
        pos += len;
    }
    return out;
}

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep,
                               std::int64_t maxsplit) {
    std::vector<std::string> parts;
    if (sep) {
        std::size_t start = 0;
        while (maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) {
            const std::size_t at = s.find(*sep, start);
            if (at == std::string_view::npos) break;
            parts.emplace_back(s.substr(start, at - start));
            check_list_size(parts.size() + 1, 0);
            start = at + sep->size();
        }
        parts.emplace_back(s.substr(start));
        return parts;
    }
    std::string_view rest = utf8::trim_start(s);
    while (!rest.empty()) {
        if (maxsplit >= 0 && static_cast<std::int64_t>(parts.size()) >= maxsplit) {
            parts.emplace_back(rest);
            break;
        }
        std::size_t end = 0;
        while (end < rest.size()) {
            std::size_t len = 0;
            if (utf8::is_space(utf8::decode(rest, end, len))) break;
            end += len;
        }
        parts.emplace_back(rest.substr(0, end));
        check_list_size(parts.size() + 1, 0);
        rest = utf8::trim_start(rest.substr(end));
    }
    return parts;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to,
                    std::int64_t count) {
    std::string out;
    std::int64_t done = 0;
    const auto more = [&] { return count < 0 || done < count; };
    if (from.empty()) {
        const auto cps = utf8::code_points(s);
        for (std::size_t i = 0; i <= cps.size(); ++i) {
            if (more()) {
                out.append(to);
                ++done;
            }
            if (i < cps.size()) out.append(cps[i]);
            check_string_size(out.size(), 0);
        }
        return out;
    }
    std::size_t start = 0;
    while (more()) {
        const std::size_t at = s.find(from, start);
        if (at == std::string_view::npos) break;
        out.append(s.substr(start, at - start));
        out.append(to);
        check_string_size(out.size(), 0);
        start = at + from.size();
        ++done;
    }
    out.append(s.substr(start));
    return out;
}

}  // namespace meswitch::chat::strings
