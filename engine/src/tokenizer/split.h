// Splitting a string by a pattern the way the Rust `tokenizers` library does: a pattern (regex,
// literal string or character class) marks matched and unmatched segments that cover the text,
// and a behaviour (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous) decides
// what pieces they become. Used by the Split/Digits/Metaspace/ByteLevel pre-tokenizers and by
// the Replace normalizer and decoder.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"

namespace meswitch::tok {

enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

SplitBehavior parse_split_behavior(const std::string& name, const std::string& where);

struct Segment {
    std::size_t begin = 0;
    std::size_t end = 0;
    bool is_match = false;
};

using Span = std::pair<std::size_t, std::size_t>;

class SplitPattern {
public:
    static SplitPattern regex(std::string_view pattern, const std::string& where);
    static SplitPattern literal(std::string literal);
    static SplitPattern predicate(std::function<bool(char32_t)> pred);
    // {"String": "..."} or {"Regex": "..."} as tokenizer.json writes patterns.
    static SplitPattern from_json(const Json& pattern, const std::string& where);

    // Non-empty matches as byte spans, left to right.
    std::vector<Span> matches(std::string_view text) const;
    // Matched and unmatched segments covering all of `text` (none for empty text).
    std::vector<Segment> segments(std::string_view text, bool invert = false) const;

private:
    std::shared_ptr<const Regex> regex_;
    std::string literal_;
    std::function<bool(char32_t)> predicate_;
};

// The pieces (non-empty byte spans) that `behavior` makes of `segments`.
std::vector<Span> split_segments(const std::vector<Segment>& segments, SplitBehavior behavior);

// Every match of `pattern` in `text` replaced by `content`.
std::string replace_all(std::string_view text, const SplitPattern& pattern,
                        std::string_view content);

}  // namespace meswitch::tok
