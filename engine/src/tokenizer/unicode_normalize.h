// Unicode canonical normalization forms NFD and NFC (UAX #15) for the NFC/NFD normalizers of
// tokenizer.json (Qwen2 and others use NFC). Compatibility forms (NFKC/NFKD) are not provided.
#pragma once

#include <string>
#include <string_view>

namespace meswitch::tok {

// `text` must be valid UTF-8.
std::string to_nfd(std::string_view text);
std::string to_nfc(std::string_view text);

}  // namespace meswitch::tok
