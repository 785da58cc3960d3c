#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

// Rust's char::is_alphanumeric approximated without Unicode tables: ASCII letters and digits,
// and every non-ASCII character that is not whitespace.
bool is_word_char(char32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return !is_unicode_whitespace(c);
}

char32_t last_code_point(std::string_view s) {
    std::size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    return next_code_point(s, start);
}

}  // namespace

std::vector<AddedToken> parse_added_tokens(const Json* list, const std::string& where) {
    std::vector<AddedToken> out;
    if (!list) return out;
    if (!list->is_array()) fail(ErrorKind::format, where, "'added_tokens' must be a list");
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string here = where + ": added_tokens[" + std::to_string(i) + "]";
        const Json& t = require_object((*list)[i], here);
        AddedToken token;
        token.content = require_string(t, "content", here);
        const std::int64_t id = get_int(t, "id", here, -1);
        if (id < 0 || id > INT32_MAX)
            fail(ErrorKind::format, here, "'id' is missing or out of range");
        if (token.content.empty()) fail(ErrorKind::format, here, "'content' is empty");
        token.id = static_cast<std::int32_t>(id);
        token.special = get_bool(t, "special", here, false);
        token.lstrip = get_bool(t, "lstrip", here, false);
        token.rstrip = get_bool(t, "rstrip", here, false);
        token.single_word = get_bool(t, "single_word", here, false);
        token.normalized = get_bool(t, "normalized", here, !token.special);
        out.push_back(std::move(token));
    }
    return out;
}

void AddedTokenMatcher::add(const AddedToken& token, std::string pattern) {
    if (pattern.empty()) return;
    auto& bucket = by_first_byte_[static_cast<unsigned char>(pattern[0])];
    bucket.push_back({std::move(pattern), token});
    std::stable_sort(bucket.begin(), bucket.end(), [](const Entry& a, const Entry& b) {
        return a.pattern.size() > b.pattern.size();
    });
    ++count_;
}

std::vector<AddedTokenMatcher::Piece> AddedTokenMatcher::split(std::string_view text) const {
    std::vector<Piece> out;
    std::size_t plain_start = 0;  // start of the text not yet emitted
    std::size_t i = 0;
    while (i < text.size()) {
        const Entry* hit = nullptr;
        if (count_ != 0) {
            for (const Entry& e : by_first_byte_[static_cast<unsigned char>(text[i])]) {
                if (text.substr(i).starts_with(e.pattern)) {
                    hit = &e;
                    break;
                }
            }
        }
        if (!hit) {
            i += char_length(text, i);
            continue;
        }
        std::size_t start = i, stop = i + hit->pattern.size();
        const AddedToken& tok = hit->token;
        if (tok.single_word) {
            const bool left_ok =
                start == 0 || !is_word_char(last_code_point(text.substr(0, start)));
            std::size_t j = stop;
            const bool right_ok = stop == text.size() || !is_word_char(next_code_point(text, j));
            if (!left_ok || !right_ok) {
                i = stop;  // like the Rust library: the rejected match is skipped as a whole
                continue;
            }
        }
        if (tok.lstrip) {
            while (start > plain_start) {
                std::size_t k = start - 1;
                while (k > plain_start && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
                std::size_t j = k;
                if (!is_unicode_whitespace(next_code_point(text, j))) break;
                start = k;
            }
        }
        if (tok.rstrip) {
            while (stop < text.size()) {
                std::size_t j = stop;
                if (!is_unicode_whitespace(next_code_point(text, j))) break;
                stop = j;
            }
        }
        if (start > plain_start) out.push_back({plain_start, start, std::nullopt});
        out.push_back({start, stop, tok.id});
        plain_start = i = stop;
    }
    if (plain_start < text.size()) out.push_back({plain_start, text.size(), std::nullopt});
    return out;
}

}  // namespace meswitch::tok
