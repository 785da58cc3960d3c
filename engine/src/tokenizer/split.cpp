#include "tokenizer/split.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace meswitch::tok {

SplitBehavior parse_split_behavior(const std::string& name, const std::string& where) {
    if (name == "Removed") return SplitBehavior::removed;
    if (name == "Isolated") return SplitBehavior::isolated;
    if (name == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
    if (name == "MergedWithNext") return SplitBehavior::merged_with_next;
    if (name == "Contiguous") return SplitBehavior::contiguous;
    fail(ErrorKind::unsupported, where, "unknown split behavior '" + name + "'");
}

SplitPattern SplitPattern::regex(std::string_view pattern, const std::string& where) {
    SplitPattern p;
    p.regex_ = std::make_shared<const Regex>(pattern, where);
    return p;
}

SplitPattern SplitPattern::literal(std::string literal) {
    SplitPattern p;
    p.literal_ = std::move(literal);
    return p;
}

SplitPattern SplitPattern::predicate(std::function<bool(char32_t)> pred) {
    SplitPattern p;
    p.predicate_ = std::move(pred);
    return p;
}

SplitPattern SplitPattern::from_json(const Json& pattern, const std::string& where) {
    if (const Json* s = member(pattern, "String")) {
        if (!s->is_string()) fail(ErrorKind::format, where, "pattern 'String' must be a string");
        return literal(s->get<std::string>());
    }
    if (const Json* r = member(pattern, "Regex")) {
        if (!r->is_string()) fail(ErrorKind::format, where, "pattern 'Regex' must be a string");
        return regex(r->get<std::string>(), where);
    }
    fail(ErrorKind::format, where, "pattern must be {\"String\": ...} or {\"Regex\": ...}");
}

std::vector<Span> SplitPattern::matches(std::string_view text) const {
    std::vector<Span> out;
    if (regex_) return regex_->find_all(text);
    if (predicate_) {
        for (std::size_t i = 0; i < text.size();) {
            const std::size_t begin = i;
            const char32_t cp = next_code_point(text, i);
            if (predicate_(cp)) out.emplace_back(begin, i);
        }
        return out;
    }
    if (literal_.empty()) return out;
    for (std::size_t pos = text.find(literal_); pos != std::string_view::npos;
         pos = text.find(literal_, pos + literal_.size()))
        out.emplace_back(pos, pos + literal_.size());
    return out;
}

std::vector<Segment> SplitPattern::segments(std::string_view text, bool invert) const {
    std::vector<Segment> out;
    std::size_t prev = 0;
    for (const auto& [b, e] : matches(text)) {
        if (b > prev) out.push_back({prev, b, invert});
        out.push_back({b, e, !invert});
        prev = e;
    }
    if (prev < text.size()) out.push_back({prev, text.size(), invert});
    return out;
}

std::vector<Span> split_segments(const std::vector<Segment>& segments, SplitBehavior behavior) {
    std::vector<Span> out;
    bool previous_match = false;
    switch (behavior) {
        case SplitBehavior::removed:
            for (const Segment& s : segments)
                if (!s.is_match) out.emplace_back(s.begin, s.end);
            break;
        case SplitBehavior::isolated:
            for (const Segment& s : segments) out.emplace_back(s.begin, s.end);
            break;
        case SplitBehavior::contiguous:
            for (const Segment& s : segments) {
                if (s.is_match == previous_match && !out.empty())
                    out.back().second = s.end;
                else
                    out.emplace_back(s.begin, s.end);
                previous_match = s.is_match;
            }
            break;
        case SplitBehavior::merged_with_previous:
            for (const Segment& s : segments) {
                if (s.is_match && !previous_match && !out.empty())
                    out.back().second = s.end;
                else
                    out.emplace_back(s.begin, s.end);
                previous_match = s.is_match;
            }
            break;
        case SplitBehavior::merged_with_next:
            for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
                if (it->is_match && !previous_match && !out.empty())
                    out.back().first = it->begin;
                else
                    out.emplace_back(it->begin, it->end);
                previous_match = it->is_match;
            }
            std::reverse(out.begin(), out.end());
            break;
    }
    std::erase_if(out, [](const Span& s) { return s.second <= s.first; });
    return out;
}

std::string replace_all(std::string_view text, const SplitPattern& pattern,
                        std::string_view content) {
    std::string out;
    out.reserve(text.size());
    std::size_t prev = 0;
    for (const auto& [b, e] : pattern.matches(text)) {
        out.append(text.substr(prev, b - prev));
        out.append(content);
        prev = e;
    }
    out.append(text.substr(prev));
    return out;
}

}  // namespace meswitch::tok
