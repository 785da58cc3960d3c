// JSON text of a template value, as the tojson filter and list/dict output write it. Follows
// Python's json.dumps with ensure_ascii=False (what transformers' tojson does) and, for
// numbers, JavaScript's JSON.stringify (what the reference renderer does).
#pragma once

#include "chat/value.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace meswitch::chat {

struct JsonOptions {
    int indent = 0;             // 0: one line
    bool ensure_ascii = false;  // escape everything outside ' '..'~' as \uXXXX
    bool sort_keys = false;
    std::optional<std::pair<std::string, std::string>> separators;  // item, key
    bool undefined_as_null = true;  // else "undefined" (how lists print in {{ }})
};

// Throws Error(format) naming the line for values JSON cannot hold (functions).
std::string to_json(const Value& v, const JsonOptions& options, std::uint32_t line);

// A JSON string literal (quotes included) for s.
std::string json_quote(std::string_view s, bool ensure_ascii);

}  // namespace meswitch::chat
