// The template text as the lexer sees it, after the rewrites transformers (and the reference
// renderer @huggingface/jinja) apply before tokenizing: one trailing "\n" dropped,
// lstrip_blocks (spaces and tabs from the start of a line up to "{%" or "{#" removed),
// trim_blocks (the "\n" right after "%}", "#}" or "-}" removed), and the
// {% generation %} / {% endgeneration %} markers removed. Every byte keeps the line it had
// in the original, for error messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace meswitch::chat {

struct Source {
    std::string text;
    std::vector<std::uint32_t> lines;  // lines[i]: 1-based original line of text[i]; one
                                       // extra entry for the end of the text
    std::uint32_t line_at(std::size_t pos) const {
        return pos < lines.size() ? lines[pos] : (lines.empty() ? 1 : lines.back());
    }
};

Source preprocess(std::string_view original);

}  // namespace meswitch::chat
