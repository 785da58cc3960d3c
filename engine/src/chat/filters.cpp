#include "chat/filters.h"

#include "chat/errors.h"
#include "chat/json.h"
#include "chat/limits.h"
#include "chat/methods.h"
#include "chat/operators.h"
#include "chat/predicates.h"
#include "chat/string_ops.h"
#include "chat/utf8.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace meswitch::chat {
namespace {

using K = Value::Kind;

constexpr std::string_view kFilters[] = {
    "safe",   "escape", "e",       "trim",  "upper",  "lower",      "capitalize", "title",
    "length", "count",  "first",   "last",  "join",   "default",    "d",          "tojson",
    "string", "int",    "float",   "items", "list",   "selectattr", "rejectattr", "select",
    "reject", "map",    "reverse", "sort",  "unique", "abs",        "indent",     "replace",
};

[[noreturn]] void bad_operand(std::string_view filter, const Value& v, std::uint32_t line) {
    fail(ErrorKind::format, line,
         "the filter '" + std::string(filter) + "' cannot be applied to " + type_name(v));
}

// Text of a scalar for the string filters; undefined reads as "" (as in Jinja).
std::string text_of(std::string_view filter, const Value& v, std::uint32_t line) {
    switch (v.kind()) {
        case K::undefined:
            return "";
        case K::string:
            return v.as_string();
        case K::integer:
        case K::floating:
        case K::boolean:
        case K::none:
            return to_output(v);
        default:
            bad_operand(filter, v, line);
    }
}

// The items a filter iterates: list items, dict keys, string code points; undefined: none.
List items_of(std::string_view filter, const Value& v, std::uint32_t line) {
    if (auto items = iterable_items(v)) return std::move(*items);
    bad_operand(filter, v, line);
}

bool flag(const CallArgs& args, std::size_t i, std::string_view name, bool fallback) {
    const Value* v = args.arg(i, name);
    return v ? truthy(*v) : fallback;
}

// "a.b.0": attributes, dict keys and list indices, one after the other.
Value lookup_path(const Value& item, const std::string& path) {
    Value current = item;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
        const bool digits =
            !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
        if (digits && current.is(K::list) && part.size() < 18) {
            current = get_item(current, Value::integer(std::stoll(part)));
        } else {
            current = get_attribute(current, part);
        }
        if (dot == std::string::npos) return current;
        start = dot + 1;
    }
}

std::string attribute_arg(std::string_view filter, const Value& v, std::uint32_t line) {
    if (v.is(K::string)) return v.as_string();
    if (v.is(K::integer)) return std::to_string(v.as_int());
    fail(ErrorKind::format, line, std::string(filter) + ": the attribute must be a string");
}

// select / reject / selectattr / rejectattr.
Value filter_items(std::string_view name, const Value& operand, const CallArgs& args) {
    const bool by_attribute = name == "selectattr" || name == "rejectattr";
    const bool keep_matches = name == "select" || name == "selectattr";
    std::size_t next = 0;
    std::string attribute;
    if (by_attribute) {
        if (args.positional.empty())
            fail(ErrorKind::format, args.line, std::string(name) + " needs an attribute name");
        attribute = attribute_arg(name, args.positional[next++], args.line);
    }
    std::string test;
    if (next < args.positional.size()) {
        const Value& t = args.positional[next++];
        if (!t.is(K::string))
            fail(ErrorKind::format, args.line,
                 std::string(name) + ": the test name must be a string");
        test = t.as_string();
        if (!is_known_test(test))
            fail(ErrorKind::unsupported, args.line, "the test '" + test + "' is not supported");
    }
    CallArgs test_args;
    test_args.line = args.line;
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next),
                                args.positional.end());
    List out;
    for (const Value& item : items_of(name, operand, args.line)) {
        const Value subject = by_attribute ? lookup_path(item, attribute) : item;
        const bool match = test.empty() ? truthy(subject) : apply_test(test, subject, test_args);
        if (match == keep_matches) out.push_back(item);
    }
    return Value::list(std::move(out));
}

Value map_items(const Value& operand, const CallArgs& args) {
    List out;
    if (const Value* attr = args.keyword_arg("attribute")) {
        const std::string path = attribute_arg("map", *attr, args.line);
        const Value* fallback = args.keyword_arg("default");
        for (const Value& item : items_of("map", operand, args.line)) {
            Value v = lookup_path(item, path);
            if (v.is_undefined() && fallback) v = *fallback;
            out.push_back(std::move(v));
        }
        return Value::list(std::move(out));
    }
    if (args.positional.empty() || !args.positional[0].is(K::string))
        fail(ErrorKind::format, args.line, "map needs attribute=... or a filter name");
    const std::string filter = args.positional[0].as_string();
    if (!is_known_filter(filter))
        fail(ErrorKind::unsupported, args.line, "the filter '" + filter + "' is not supported");
    CallArgs inner;
    inner.line = args.line;
    inner.positional.assign(args.positional.begin() + 1, args.positional.end());
    inner.keyword = args.keyword;
    // map('map', 'map', ..., 'trim') recurses once per argument (and a string is a list of
    // strings at any depth): bound it like any other nesting.
    thread_local int depth = 0;
    if (depth >= limits::expression_depth)
        fail_limit(args.line, "map('map', ...) nested too deeply (over " +
                                  std::to_string(limits::expression_depth) + " levels)");
    ++depth;
    struct Leave {
        ~Leave() { --depth; }
    } leave;
    for (const Value& item : items_of("map", operand, args.line))
        out.push_back(apply_filter(filter, item, inner));
    return Value::list(std::move(out));
}

Value sort_items(const Value& operand, const CallArgs& args) {
    const bool reverse = flag(args, 0, "reverse", false);
    const bool case_sensitive = flag(args, 1, "case_sensitive", false);
    const Value* attr = args.arg(2, "attribute");
    const std::string path =
        attr && !attr->is_none() ? attribute_arg("sort", *attr, args.line) : "";
    List items = items_of("sort", operand, args.line);
    std::vector<std::pair<Value, std::size_t>> keyed;
    bool all_numbers = true, all_strings = true;
    for (std::size_t i = 0; i < items.size(); ++i) {
        Value key = path.empty() ? items[i] : lookup_path(items[i], path);
        if (key.is(K::string) && !case_sensitive) key = Value::string(utf8::lower(key.as_string()));
        all_numbers = all_numbers && (key.is_number() || key.is(K::boolean));
        all_strings = all_strings && key.is(K::string);
        keyed.emplace_back(std::move(key), i);
    }
    if (!all_numbers && !all_strings)
        fail(ErrorKind::format, args.line, "sort: items must be all numbers or all strings");
    charge_steps(keyed.size() * static_cast<std::size_t>(std::log2(keyed.size() + 1)));
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        const bool less = truthy(binary_op("<", a.first, b.first, args.line));
        const bool greater = truthy(binary_op(">", a.first, b.first, args.line));
        return reverse ? greater : less;
    });
    List out;
    for (const auto& [key, index] : keyed) out.push_back(items[index]);
    return Value::list(std::move(out));
}

Value to_json_filter(const Value& operand, const CallArgs& args) {
    JsonOptions options;
    options.ensure_ascii = flag(args, 0, "ensure_ascii", false);
    if (const Value* indent = args.arg(1, "indent"); indent && !indent->is_none()) {
        if (!indent->is(K::integer) || indent->as_int() < 0 || indent->as_int() > 64)
            fail(ErrorKind::format, args.line, "tojson: indent must be an integer from 0 to 64");
        options.indent = static_cast<int>(indent->as_int());
    }
    if (const Value* seps = args.arg(2, "separators"); seps && !seps->is_none()) {
        if (!seps->is(K::list) || seps->as_list().size() != 2 ||
            !seps->as_list()[0].is(K::string) || !seps->as_list()[1].is(K::string))
            fail(ErrorKind::format, args.line, "tojson: separators must be two strings");
        options.separators.emplace(seps->as_list()[0].as_string(), seps->as_list()[1].as_string());
    }
    options.sort_keys = flag(args, 3, "sort_keys", false);
    return Value::string(to_json(operand, options, args.line));
}

// JavaScript's parseInt(s, 10): optional blanks and sign, then the leading digits.
std::optional<std::int64_t> parse_leading_int(std::string_view s) {
    s = utf8::trim_start(s);
    std::size_t i = 0;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    const std::size_t digits_start = i;
    std::int64_t value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, s[i] - '0', &value))
            return std::nullopt;
        ++i;
    }
    if (i == digits_start) return std::nullopt;
    return negative ? -value : value;
}

Value to_int(const Value& v, const CallArgs& args) {
    const Value fallback = args.arg(0, "default") ? *args.arg(0, "default") : Value::integer(0);
    switch (v.kind()) {
        case K::integer:
            return v;
        case K::floating:
            if (!std::isfinite(v.as_float()) || std::fabs(v.as_float()) > 9.2e18) return fallback;
            return Value::integer(static_cast<std::int64_t>(std::trunc(v.as_float())));
        case K::boolean:
            return Value::integer(v.as_bool() ? 1 : 0);
        case K::string: {
            const auto parsed = parse_leading_int(v.as_string());
            return parsed ? Value::integer(*parsed) : fallback;
        }
        default:
            return fallback;
    }
}

Value to_float(const Value& v, const CallArgs& args) {
    const Value fallback = args.arg(0, "default") ? *args.arg(0, "default") : Value::floating(0.0);
    switch (v.kind()) {
        case K::integer:
            return Value::floating(static_cast<double>(v.as_int()));
        case K::floating:
            return v;
        case K::boolean:
            return Value::floating(v.as_bool() ? 1.0 : 0.0);
        case K::string: {
            const std::string text(utf8::trim_start(v.as_string()));
            char* end = nullptr;
            const double d = std::strtod(text.c_str(), &end);
            return end == text.c_str() ? fallback : Value::floating(d);
        }
        default:
            return fallback;
    }
}

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

Value indent_text(const std::string& s, const CallArgs& args) {
    std::string pad = "    ";
    if (const Value* width = args.arg(0, "width")) {
        if (width->is(K::string)) {
            pad = width->as_string();
        } else if (width->is(K::integer) && width->as_int() >= 0 && width->as_int() <= 1024) {
            pad.assign(static_cast<std::size_t>(width->as_int()), ' ');
        } else {
            fail(ErrorKind::format, args.line, "indent: width must be a small integer or a string");
        }
    }
    const bool first = flag(args, 1, "first", false);
    const bool blank = flag(args, 2, "blank", false);
    std::string out;
    std::size_t start = 0;
    for (std::size_t line_no = 0;; ++line_no) {
        const std::size_t nl = s.find('\n', start);
        const std::string_view line(s.data() + start,
                                    (nl == std::string::npos ? s.size() : nl) - start);
        if ((line_no > 0 || first) && (blank || !line.empty())) out += pad;
        out.append(line);
        check_string_size(out.size(), args.line);
        if (nl == std::string::npos) break;
        out += '\n';
        start = nl + 1;
    }
    return Value::string(std::move(out));
}

}  // namespace

bool is_known_filter(std::string_view name) {
    return std::find(std::begin(kFilters), std::end(kFilters), name) != std::end(kFilters);
}

Value apply_filter(std::string_view name, const Value& v, const CallArgs& args) {
    const std::uint32_t line = args.line;
    if (name == "safe") return v;
    if (name == "escape" || name == "e") return Value::string(html_escape(text_of(name, v, line)));
    if (name == "trim") {
        const Value* chars = args.arg(0, "chars");
        std::optional<std::string> set;
        if (chars && chars->is(K::string)) set = chars->as_string();
        return Value::string(strings::strip(text_of(name, v, line), strings::Side::both, set));
    }
    if (name == "upper") return Value::string(utf8::upper(text_of(name, v, line)));
    if (name == "lower") return Value::string(utf8::lower(text_of(name, v, line)));
    if (name == "capitalize") return Value::string(strings::capitalize(text_of(name, v, line)));
    if (name == "title") return Value::string(strings::title(text_of(name, v, line)));
    if (name == "length" || name == "count") {
        switch (v.kind()) {
            case K::undefined:
                return Value::integer(0);
            case K::string:
                return Value::integer(static_cast<std::int64_t>(utf8::length(v.as_string())));
            case K::list:
                return Value::integer(static_cast<std::int64_t>(v.as_list().size()));
            case K::dict:
                return Value::integer(static_cast<std::int64_t>(v.as_dict().items.size()));
            default:
                bad_operand(name, v, line);
        }
    }
    if (name == "first" || name == "last") {
        const List items = items_of(name, v, line);
        if (items.empty()) return Value();
        return name == "first" ? items.front() : items.back();
    }
    if (name == "join") {
        std::string sep;
        if (const Value* s = args.arg(0, "d")) sep = to_output(*s);
        const Value* attr = args.arg(1, "attribute");
        std::string out;
        bool first = true;
        for (const Value& item : items_of(name, v, line)) {
            if (!first) out += sep;
            out += to_output(attr ? lookup_path(item, attribute_arg(name, *attr, line)) : item);
            check_string_size(out.size(), line);
            first = false;
        }
        return Value::string(std::move(out));
    }
    if (name == "default" || name == "d") {
        const Value fallback =
            args.arg(0, "default_value") ? *args.arg(0, "default_value") : Value::string("");
        if (v.is_undefined() || (flag(args, 1, "boolean", false) && !truthy(v))) return fallback;
        return v;
    }
    if (name == "tojson") return to_json_filter(v, args);
    if (name == "string") return Value::string(to_output(v));
    if (name == "int") return to_int(v, args);
    if (name == "float") return to_float(v, args);
    if (name == "items") {
        if (v.is_undefined()) return Value::list({});
        if (!v.is(K::dict)) bad_operand(name, v, line);
        return get_attribute(v, "items").as_function().call(args);
    }
    if (name == "list") return Value::list(items_of(name, v, line));
    if (name == "selectattr" || name == "rejectattr" || name == "select" || name == "reject")
        return filter_items(name, v, args);
    if (name == "map") return map_items(v, args);
    if (name == "reverse") {
        if (v.is(K::string)) {
            const auto cps = utf8::code_points(v.as_string());
            std::string out;
            for (auto it = cps.rbegin(); it != cps.rend(); ++it) out.append(*it);
            return Value::string(std::move(out));
        }
        List items = items_of(name, v, line);
        std::reverse(items.begin(), items.end());
        return Value::list(std::move(items));
    }
    if (name == "sort") return sort_items(v, args);
    if (name == "unique") {
        const bool case_sensitive = flag(args, 0, "case_sensitive", false);
        List out;
        std::vector<Value> seen;
        for (const Value& item : items_of(name, v, line)) {
            const Value key = item.is(K::string) && !case_sensitive
                                  ? Value::string(utf8::lower(item.as_string()))
                                  : item;
            if (std::none_of(seen.begin(), seen.end(),
                             [&](const Value& s) { return equals(s, key); })) {
                seen.push_back(key);
                out.push_back(item);
            }
        }
        return Value::list(std::move(out));
    }
    if (name == "abs") {
        if (v.is(K::integer)) {
            if (v.as_int() == INT64_MIN) fail(ErrorKind::format, line, "integer overflow");
            return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
        }
        if (v.is(K::floating)) return Value::floating(std::fabs(v.as_float()));
        bad_operand(name, v, line);
    }
    if (name == "indent") return indent_text(text_of(name, v, line), args);
    if (name == "replace") {
        const Value* from = args.arg(0, "old");
        const Value* to = args.arg(1, "new");
        if (!from || !to || !from->is(K::string) || !to->is(K::string))
            fail(ErrorKind::format, line, "replace needs two strings");
        const Value* count = args.arg(2, "count");
        const std::int64_t n = count && count->is(K::integer) ? count->as_int() : -1;
        return Value::string(
            strings::replace(text_of(name, v, line), from->as_string(), to->as_string(), n));
    }
    fail(ErrorKind::unsupported, line, "the filter '" + std::string(name) + "' is not supported");
}

}  // namespace meswitch::chat
