#include "io/strict_json.h"

#include <string>
#include <unordered_set>
#include <vector>

#include "meswitch/error.h"

namespace meswitch::io {

nlohmann::ordered_json parse_strict_json(std::string_view text, const StrictJsonOptions& options) {
    using json = nlohmann::ordered_json;
    // One key set per open object; arrays do not take part in key uniqueness.
    std::vector<std::unordered_set<std::string>> open_objects;
    auto fail_duplicate = [&](const std::string& key, int depth) {
        std::string message = options.duplicate_message ? options.duplicate_message(key, depth)
                                                        : options.label + ": " + options.what +
                                                              " has the key '" + key + "' twice";
        throw Error(ErrorKind::format, message);
    };
    json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
            case json::parse_event_t::array_start:
                if (depth >= options.max_depth)
                    throw Error(ErrorKind::format,
                                options.label + ": " + options.what + " is nested more than " +
                                    std::to_string(options.max_depth) + " levels deep");
                if (event == json::parse_event_t::object_start) open_objects.emplace_back();
                break;
            case json::parse_event_t::object_end:
                if (!open_objects.empty()) open_objects.pop_back();
                break;
            case json::parse_event_t::key:
                if (!open_objects.empty() && parsed.is_string()) {
                    const auto& key = parsed.get_ref<const std::string&>();
                    if (!open_objects.back().insert(key).second) fail_duplicate(key, depth);
                }
                break;
            default:
                break;
        }
        return true;
    };
    // nlohmann stops at a NUL byte as if the text ended there; JSON text never holds one.
    if (const auto nul = text.find('\0'); nul != std::string_view::npos)
        throw Error(ErrorKind::format, options.label + ": " + options.what +
                                           " is not valid JSON (a NUL byte at offset " +
                                           std::to_string(nul) + ")");
    try {
        return json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true);
    } catch (const json::exception& e) {
        std::string detail = e.what();
        // Drop nlohmann's "[json.exception.parse_error.101] " prefix: it means nothing to users.
        if (auto close = detail.find("] ");
            detail.rfind("[json.exception", 0) == 0 && close != std::string::npos)
            detail.erase(0, close + 2);
        throw Error(ErrorKind::format,
                    options.label + ": " + options.what + " is not valid JSON (" + detail + ")");
    }
}

}  // namespace meswitch::io
