// Parsing untrusted JSON (safetensors headers, shard indexes, config.json, tokenizer files)
// without nlohmann's silent "last duplicate key wins", without unbounded nesting, and with
// messages in plain words that name the file and the place ("<file>: invalid JSON at line 3,
// column 7: ...", "<file>: key 'rope_theta': number out of range: 1e400").
#pragma once

#include <cstddef>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace meswitch::io {

struct StrictJsonOptions {
    std::string label;   // names the file in messages, e.g. "/models/x/model.safetensors"
    std::string what;    // names the JSON text, e.g. "header" or "index"; "" for a whole file
    int max_depth = 16;  // deeper nesting is refused (safetensors headers need 3)
    // Builds the message for a repeated key; depth 1 is the top-level object. When unset,
    // the message is "<label>: the key 'k' appears twice" (plus where, below the top level).
    std::function<std::string(const std::string& key, int depth)> duplicate_message;
};

// Parses `text` into a JSON value: nlohmann::ordered_json (insertion order kept, the
// default) or nlohmann::json. Invalid JSON (with line and column), a key repeated within one
// object at any depth, a number too large for a double (naming its key), a NUL byte, or
// nesting deeper than max_depth throw Error(format) naming label and what. The parser is
// iterative (no recursion) and linear in the size of the text.
template <class BasicJson = nlohmann::ordered_json>
BasicJson parse_strict_json(std::string_view text, const StrictJsonOptions& options);

extern template nlohmann::ordered_json parse_strict_json<nlohmann::ordered_json>(
    std::string_view, const StrictJsonOptions&);
extern template nlohmann::json parse_strict_json<nlohmann::json>(std::string_view,
                                                                 const StrictJsonOptions&);

// A user's JSON file (config.json, tokenizer.json, ...): read whole (Error(io) naming it when
// missing, a folder or unreadable; Error(format) when larger than max_bytes) and parsed with
// parse_strict_json (label = the path, what = "").
nlohmann::json read_strict_json_file(const std::filesystem::path& file, int max_depth = 64,
                                     std::size_t max_bytes = std::size_t(512) << 20);

// `text` (a dumped JSON value, for a message) cut to about max_chars at a UTF-8 boundary,
// with "..." when it was longer: a 10 MB value must not become a 10 MB message.
std::string json_excerpt(const std::string& text, std::size_t max_chars = 60);

// nlohmann's own exception text without its "[json.exception.type_error.302] " prefix, for
// the rare message that has to pass one on; other exceptions give what().
std::string plain_json_error(const std::exception& e);

}  // namespace meswitch::io
