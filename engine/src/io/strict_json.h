// Parsing untrusted JSON (safetensors headers, shard indexes) without nlohmann's silent
// "last duplicate key wins" and without unbounded nesting.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace meswitch::io {

struct StrictJsonOptions {
    std::string label;   // names the file in messages, e.g. "/models/x/model.safetensors"
    std::string what;    // names the JSON text, e.g. "header" or "index"
    int max_depth = 16;  // deeper nesting is refused (legitimate files need 3)
    // Builds the message for a repeated key; depth 1 is the top-level object. When unset,
    // the message is "<label>: <what> has the key 'k' twice".
    std::function<std::string(const std::string& key, int depth)> duplicate_message;
};

// Parses `text` into an insertion-ordered JSON value. Invalid JSON, a key repeated within
// one object, or nesting deeper than max_depth throw Error(format) naming label and what.
nlohmann::ordered_json parse_strict_json(std::string_view text, const StrictJsonOptions& options);

}  // namespace meswitch::io
