// UTF-8 helpers for the chat-template interpreter: decoding, whitespace as JavaScript's \s
// and String.prototype.trim define it (the reference renderer's definition), and simple
// case mapping.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace meswitch::chat::utf8 {

constexpr char32_t replacement = 0xFFFD;

// Decodes the code point at s[pos]; sets len to the bytes it spans (at least 1). Invalid or
// truncated sequences decode as U+FFFD spanning one byte.
char32_t decode(std::string_view s, std::size_t pos, std::size_t& len);

// Start of the code point that ends just before s[end] (end > 0).
std::size_t previous_start(std::string_view s, std::size_t end);

void append(std::string& out, char32_t cp);

// Splits into code points, each kept as its original bytes.
std::vector<std::string_view> code_points(std::string_view s);
std::size_t length(std::string_view s);  // number of code points

bool is_space(char32_t cp);  // JavaScript whitespace and line terminators

std::string_view trim(std::string_view s);
std::string_view trim_start(std::string_view s);
std::string_view trim_end(std::string_view s);

// Unicode-aware for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic; other code points
// are left unchanged.
char32_t to_upper(char32_t cp);
char32_t to_lower(char32_t cp);
std::string upper(std::string_view s);
std::string lower(std::string_view s);
bool is_alpha(char32_t cp);  // letters of the ranges above (and any code point >= 0x100
                             // that case-maps), for title()

}  // namespace meswitch::chat::utf8
