// tokenizer.json "added_tokens": tokens matched verbatim in the input before the model runs
// (special tokens such as <s>, <|im_start|>, and user-added words). The input is split at them,
// leftmost match first, longest match at a position; lstrip/rstrip swallow the whitespace
// beside a match, single_word only matches between non-word characters.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.h"

namespace meswitch::tok {

struct AddedToken {
    std::string content;
    std::int32_t id = 0;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
    bool single_word = false;
    bool normalized = false;  // matched in normalized text rather than in the raw input
};

// Parses the "added_tokens" list (absent or null -> none).
std::vector<AddedToken> parse_added_tokens(const Json* list, const std::string& where);

class AddedTokenMatcher {
public:
    // `pattern` is the text to find: the content, or for normalized tokens the normalized content.
    void add(const AddedToken& token, std::string pattern);
    bool empty() const { return count_ == 0; }

    struct Piece {
        std::size_t begin = 0;
        std::size_t end = 0;
        std::optional<std::int32_t> id;  // set for an added-token match
    };
    // `text` cut into plain-text pieces and matches, in order, covering it (minus the whitespace
    // swallowed by lstrip/rstrip). Empty text gives no pieces.
    std::vector<Piece> split(std::string_view text) const;

private:
    struct Entry {
        std::string pattern;
        AddedToken token;
    };
    std::array<std::vector<Entry>, 256> by_first_byte_;  // each sorted longest pattern first
    std::size_t count_ = 0;
};

}  // namespace meswitch::tok
