#include "chat/json.h"

#include "chat/errors.h"
#include "chat/limits.h"
#include "chat/utf8.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace meswitch::chat {
namespace {

void append_u_escape(std::string& out, unsigned unit) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\u%04x", unit);
    out += buf;
}

class JsonWriter {
public:
    JsonWriter(const JsonOptions& options, std::uint32_t line) : o_(options), line_(line) {
        if (o_.separators) {
            item_sep_ = o_.separators->first;
            key_sep_ = o_.separators->second;
        } else {
            item_sep_ = o_.indent > 0 ? "," : ", ";
            key_sep_ = ": ";
        }
    }

    // Recursive, as deep as the value: limits::value_depth bounds it. The text is bounded
    // as it grows, since a list holding the same list twice, a thousand times over, is small
    // in memory but not in JSON.
    void write(const Value& v, int depth, std::string& out) const {
        if (depth > limits::value_depth)
            fail_limit(line_, "tojson: value nested too deeply (over " +
                                  std::to_string(limits::value_depth) + " levels)");
        charge_steps(1);
        check_string_size(out.size(), line_);
        switch (v.kind()) {
            case Value::Kind::undefined:
                out += o_.undefined_as_null ? "null" : "undefined";
                return;
            case Value::Kind::none:
                out += "null";
                return;
            case Value::Kind::boolean:
                out += v.as_bool() ? "true" : "false";
                return;
            case Value::Kind::integer:
                out += std::to_string(v.as_int());
                return;
            case Value::Kind::floating:
                out += std::isfinite(v.as_float()) ? format_js_number(v.as_float()) : "null";
                return;
            case Value::Kind::string:
                charge_scan(v.as_string().size());
                out += json_quote(v.as_string(), o_.ensure_ascii);
                return;
            case Value::Kind::list: {
                const List& items = v.as_list();
                if (items.empty()) {
                    out += "[]";
                    return;
                }
                out += '[';
                for (std::size_t i = 0; i < items.size(); ++i) {
                    if (i > 0) out += item_sep_;
                    newline(depth + 1, out);
                    write(items[i], depth + 1, out);
                }
                newline(depth, out);
                out += ']';
                check_string_size(out.size(), line_);
                return;
            }
            case Value::Kind::dict:
            case Value::Kind::ns: {
                std::vector<const std::pair<std::string, Value>*> entries;
                const Dict& d = v.is(Value::Kind::dict) ? v.as_dict() : v.as_ns().attributes;
                for (const auto& item : d.items) entries.push_back(&item);
                if (o_.sort_keys)
                    std::stable_sort(entries.begin(), entries.end(),
                                     [](auto* a, auto* b) { return a->first < b->first; });
                if (entries.empty()) {
                    out += "{}";
                    return;
                }
                out += '{';
                for (std::size_t i = 0; i < entries.size(); ++i) {
                    if (i > 0) out += item_sep_;
                    newline(depth + 1, out);
                    out += json_quote(entries[i]->first, o_.ensure_ascii);
                    out += key_sep_;
                    write(entries[i]->second, depth + 1, out);
                }
                newline(depth, out);
                out += '}';
                check_string_size(out.size(), line_);
                return;
            }
            case Value::Kind::function:
                fail(ErrorKind::format, line_,
                     "tojson: cannot convert " + v.as_function().name + " to JSON");
        }
    }

private:
    void newline(int depth, std::string& out) const {
        if (o_.indent <= 0) return;
        out += '\n';
        out.append(static_cast<std::size_t>(o_.indent) * static_cast<std::size_t>(depth), ' ');
    }

    const JsonOptions& o_;
    std::uint32_t line_;
    std::string item_sep_, key_sep_;
};

}  // namespace

std::string json_quote(std::string_view s, bool ensure_ascii) {
    std::string out = "\"";
    for (std::size_t pos = 0; pos < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[pos]);
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\b':
                    out += "\\b";
                    break;
                case '\f':
                    out += "\\f";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                default:
                    if (c < 0x20 || (ensure_ascii && c == 0x7F)) {
                        append_u_escape(out, c);
                    } else {
                        out.push_back(static_cast<char>(c));
                    }
            }
            ++pos;
            continue;
        }
        std::size_t len = 0;
        const char32_t cp = utf8::decode(s, pos, len);
        if (!ensure_ascii) {
            out.append(s.substr(pos, len));
        } else if (cp >= 0x10000) {
            const char32_t v = cp - 0x10000;
            append_u_escape(out, 0xD800 + (v >> 10));
            append_u_escape(out, 0xDC00 + (v & 0x3FF));
        } else {
            append_u_escape(out, cp);
        }
        pos += len;
    }
    out += '"';
    return out;
}

std::string to_json(const Value& v, const JsonOptions& options, std::uint32_t line) {
    std::string out;
    JsonWriter(options, line).write(v, 0, out);
    return out;
}

}  // namespace meswitch::chat
