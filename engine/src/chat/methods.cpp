#include "chat/methods.h"

#include "chat/errors.h"
#include "chat/limits.h"
#include "chat/string_ops.h"
#include "chat/utf8.h"

#include <optional>

namespace meswitch::chat {
namespace {

std::optional<std::string> optional_string(const CallArgs& args, std::size_t i,
                                           std::string_view name, const char* method) {
    const Value* v = args.arg(i, name);
    if (!v || v->is_none() || v->is_undefined()) return std::nullopt;
    if (!v->is(Value::Kind::string))
        fail(ErrorKind::format, args.line,
             std::string(method) + "(): '" + std::string(name) + "' must be a string, got " +
                 type_name(*v));
    return v->as_string();
}

std::string required_string(const CallArgs& args, std::size_t i, std::string_view name,
                            const char* method) {
    auto s = optional_string(args, i, name, method);
    if (!s)
        fail(ErrorKind::format, args.line,
             std::string(method) + "() needs the string argument '" + std::string(name) + "'");
    return *s;
}

std::int64_t optional_int(const CallArgs& args, std::size_t i, std::string_view name,
                          std::int64_t fallback, const char* method) {
    const Value* v = args.arg(i, name);
    if (!v || v->is_none() || v->is_undefined()) return fallback;
    if (!v->is(Value::Kind::integer))
        fail(ErrorKind::format, args.line,
             std::string(method) + "(): '" + std::string(name) + "' must be an integer");
    return v->as_int();
}

// startswith / endswith accept a string or a list/tuple of strings.
bool affix_match(const std::string& s, const CallArgs& args, bool prefix) {
    const char* method = prefix ? "startswith" : "endswith";
    if (args.positional.empty())
        fail(ErrorKind::format, args.line, std::string(method) + "() needs an argument");
    const auto test = [&](const Value& v) {
        if (!v.is(Value::Kind::string))
            fail(ErrorKind::format, args.line, std::string(method) + "() needs strings");
        const std::string& a = v.as_string();
        if (a.size() > s.size()) return false;
        return prefix ? s.compare(0, a.size(), a) == 0
                      : s.compare(s.size() - a.size(), a.size(), a) == 0;
    };
    const Value& arg = args.positional[0];
    if (arg.is(Value::Kind::list)) {
        for (const Value& v : arg.as_list())
            if (test(v)) return true;
        return false;
    }
    return test(arg);
}

Value string_method(const std::string& s, const std::string& name) {
    using strings::Side;
    const auto bind = [&](auto fn) {
        return Value::function("string." + name, [s, fn](const CallArgs& a) { return fn(s, a); });
    };
    const auto strip = [&](Side side) {
        return bind([side, name](const std::string& str, const CallArgs& a) {
            return Value::string(
                strings::strip(str, side, optional_string(a, 0, "chars", name.c_str())));
        });
    };
    if (name == "strip") return strip(Side::both);
    if (name == "lstrip") return strip(Side::start);
    if (name == "rstrip") return strip(Side::end);
    if (name == "upper")
        return bind([](const std::string& str, const CallArgs&) {
            return Value::string(utf8::upper(str));
        });
    if (name == "lower")
        return bind([](const std::string& str, const CallArgs&) {
            return Value::string(utf8::lower(str));
        });
    if (name == "title")
        return bind([](const std::string& str, const CallArgs&) {
            return Value::string(strings::title(str));
        });
    if (name == "capitalize")
        return bind([](const std::string& str, const CallArgs&) {
            return Value::string(strings::capitalize(str));
        });
    if (name == "startswith" || name == "endswith") {
        const bool prefix = name == "startswith";
        return bind([prefix](const std::string& str, const CallArgs& a) {
            return Value::boolean(affix_match(str, a, prefix));
        });
    }
    if (name == "split")
        return bind([](const std::string& str, const CallArgs& a) {
            const auto sep = optional_string(a, 0, "sep", "split");
            if (sep && sep->empty()) fail(ErrorKind::format, a.line, "split(): empty separator");
            List parts;
            for (auto& part : strings::split(str, sep, optional_int(a, 1, "maxsplit", -1, "split")))
                parts.push_back(Value::string(std::move(part)));
            return Value::list(std::move(parts));
        });
    if (name == "replace")
        return bind([](const std::string& str, const CallArgs& a) {
            return Value::string(strings::replace(str, required_string(a, 0, "old", "replace"),
                                                  required_string(a, 1, "new", "replace"),
                                                  optional_int(a, 2, "count", -1, "replace")));
        });
    if (name == "join")
        return bind([](const std::string& sep, const CallArgs& a) {
            if (a.positional.empty() || !a.positional[0].is(Value::Kind::list))
                fail(ErrorKind::format, a.line, "join() needs a list");
            std::string out;
            bool first = true;
            for (const Value& v : a.positional[0].as_list()) {
                if (!first) out += sep;
                out += to_output(v);
                check_string_size(out.size(), a.line);
                first = false;
            }
            return Value::string(std::move(out));
        });
    if (name == "length") return Value::integer(static_cast<std::int64_t>(utf8::length(s)));
    return Value();
}

Value dict_method(const Value& dict, const std::string& name) {
    const auto bind = [&](auto fn) {
        return Value::function("dict." + name,
                               [dict, fn](const CallArgs& a) { return fn(dict.as_dict(), a); });
    };
    if (name == "get")
        return bind([](const Dict& d, const CallArgs& a) {
            if (a.positional.empty()) fail(ErrorKind::format, a.line, "get() needs a key");
            const Value& key = a.positional[0];
            if (key.is(Value::Kind::string))
                if (const Value* v = d.find(key.as_string())) return *v;
            return a.positional.size() > 1 ? a.positional[1] : Value::none();
        });
    if (name == "items")
        return bind([](const Dict& d, const CallArgs&) {
            List items;
            for (const auto& [k, v] : d.items) items.push_back(Value::list({Value::string(k), v}));
            return Value::list(std::move(items));
        });
    if (name == "keys")
        return bind([](const Dict& d, const CallArgs&) {
            List keys;
            for (const auto& item : d.items) keys.push_back(Value::string(item.first));
            return Value::list(std::move(keys));
        });
    if (name == "values")
        return bind([](const Dict& d, const CallArgs&) {
            List values;
            for (const auto& item : d.items) values.push_back(item.second);
            return Value::list(std::move(values));
        });
    return Value();
}

}  // namespace

Value get_attribute(const Value& object, const std::string& name) {
    switch (object.kind()) {
        case Value::Kind::dict:
            if (const Value* v = object.as_dict().find(name)) return *v;
            return dict_method(object, name);
        case Value::Kind::ns:
            if (const Value* v = object.as_ns().attributes.find(name)) return *v;
            return Value();
        case Value::Kind::string:
            return string_method(object.as_string(), name);
        case Value::Kind::list:
            if (name == "length")
                return Value::integer(static_cast<std::int64_t>(object.as_list().size()));
            return Value();
        default:
            return Value();
    }
}

}  // namespace meswitch::chat
