// Typed access to tokenizer.json / tokenizer_config.json fields with errors that name the file
// and the field ("<file>: pre_tokenizer.pretokenizers[1] (Split): 'behavior' must be a string").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "meswitch/error.h"
#include "tokenizer/utf8.h"

namespace meswitch::tok {

using Json = nlohmann::json;

[[noreturn]] inline void fail(ErrorKind kind, const std::string& where, const std::string& what) {
    throw Error(kind, where + ": " + what);
}

// The member `key`, or nullptr when it is absent or JSON null.
inline const Json* member(const Json& j, std::string_view key) {
    if (!j.is_object()) return nullptr;
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    return &*it;
}

inline const Json& require_object(const Json& j, const std::string& where) {
    if (!j.is_object()) fail(ErrorKind::format, where, "must be a JSON object");
    return j;
}

inline std::string get_string(const Json& j, std::string_view key, const std::string& where,
                              const std::string& fallback) {
    const Json* v = member(j, key);
    if (!v) return fallback;
    if (!v->is_string())
        fail(ErrorKind::format, where, "'" + std::string(key) + "' must be a string");
    return v->get<std::string>();
}

inline std::string require_string(const Json& j, std::string_view key, const std::string& where) {
    const Json* v = member(j, key);
    if (!v || !v->is_string())
        fail(ErrorKind::format, where, "'" + std::string(key) + "' is missing or not a string");
    return v->get<std::string>();
}

inline bool get_bool(const Json& j, std::string_view key, const std::string& where, bool fallback) {
    const Json* v = member(j, key);
    if (!v) return fallback;
    if (!v->is_boolean())
        fail(ErrorKind::format, where, "'" + std::string(key) + "' must be true or false");
    return v->get<bool>();
}

inline std::int64_t get_int(const Json& j, std::string_view key, const std::string& where,
                            std::int64_t fallback) {
    const Json* v = member(j, key);
    if (!v) return fallback;
    if (!v->is_number_integer())
        fail(ErrorKind::format, where, "'" + std::string(key) + "' must be an integer");
    return v->get<std::int64_t>();
}

// The "type" member of a component object.
inline std::string component_type(const Json& j, const std::string& where) {
    require_object(j, where);
    return require_string(j, "type", where);
}

// The character of a one-character string field (Metaspace replacement, Strip content).
inline std::string get_char(const Json& j, std::string_view key, const std::string& where,
                            const std::string& fallback) {
    const std::string s = get_string(j, key, where, fallback);
    if (s.empty() || char_length(s, 0) != s.size())
        fail(ErrorKind::format, where, "'" + std::string(key) + "' must be exactly one character");
    return s;
}

}  // namespace meswitch::tok
