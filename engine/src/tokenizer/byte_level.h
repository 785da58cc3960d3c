// GPT-2's reversible byte <-> unicode mapping used by ByteLevel pre-tokenizers and decoders:
// printable bytes map to themselves, the other 68 bytes to U+0100..U+0143.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meswitch::tok {

// The UTF-8 text of the character that stands for `byte`.
const std::string& byte_to_unicode(std::uint8_t byte);

// The byte a mapped character stands for; nullopt for characters outside the mapping.
std::optional<std::uint8_t> unicode_to_byte(char32_t cp);

// Every byte of `text` replaced by its mapped character.
std::string bytes_to_unicode(std::string_view text);

}  // namespace meswitch::tok
