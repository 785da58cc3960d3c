// Tokens of a chat template, following the tokenizer of @huggingface/jinja: text between
// tags, the tag delimiters, and inside tags literals, names and operators. "-" on a tag
// strips the whitespace on that side.
#pragma once

#include "chat/source.h"

#include <cstdint>
#include <string>
#include <vector>

namespace meswitch::chat {

enum class Tok {
    text,
    comment,
    open_statement,    // {%
    close_statement,   // %}
    open_expression,   // {{
    close_expression,  // }}
    string,            // value: the unescaped string
    number,            // value: digits, maybe with a sign and a fraction
    identifier,
    equals,  // =
    lparen,
    rparen,
    lbracket,
    rbracket,
    lbrace,
    rbrace,
    comma,
    dot,
    colon,
    pipe,
    additive,        // + - ~
    multiplicative,  // * / // %
    power,           // **
    comparison,      // < > <= >= == !=
    unary,           // a sign not followed by digits
};

struct Token {
    Tok type;
    std::string value;
    std::uint32_t line;
};

const char* describe(Tok type);  // for error messages: "'%}'", "a name", ...

// Throws Error(format) with the line on characters that cannot start a token and on
// unterminated strings and comments.
std::vector<Token> tokenize(const Source& source);

}  // namespace meswitch::chat
