// UTF-8 helpers for the tokenizer: validation, replacement of invalid bytes, code points.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace meswitch::tok {

inline constexpr std::string_view replacement_char = "\xEF\xBF\xBD";  // U+FFFD

// Length (1-4) of the well-formed UTF-8 sequence starting at s[i], or 0 when the bytes there do
// not start one (bad lead byte, bad or missing continuation, overlong, surrogate, > U+10FFFF).
std::size_t valid_sequence_length(std::string_view s, std::size_t i);

bool is_valid_utf8(std::string_view s);

// Replaces each maximal ill-formed subpart with one U+FFFD (the WHATWG / Unicode "best
// practice" that JavaScript's TextDecoder and Rust's String::from_utf8_lossy follow).
std::string to_valid_utf8(std::string_view s);

// Replaces every byte that is not part of a well-formed sequence with its own U+FFFD.
std::string replace_invalid_bytes(std::string_view s);

// Code point at s[i] (s must be valid UTF-8 there); advances i past it.
char32_t next_code_point(std::string_view s, std::size_t& i);

// Byte length of the character starting at s[i] in valid UTF-8 (1 for a stray byte).
std::size_t char_length(std::string_view s, std::size_t i);

void append_code_point(std::string& out, char32_t cp);

// Unicode White_Space (what Rust's char::is_whitespace tests).
bool is_unicode_whitespace(char32_t cp);

}  // namespace meswitch::tok
