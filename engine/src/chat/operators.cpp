#include "chat/operators.h"

#include "chat/errors.h"
#include "chat/limits.h"
#include "chat/utf8.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace meswitch::chat {
namespace {

[[noreturn]] void type_error(std::string_view op, const Value& a, const Value& b,
                             std::uint32_t line) {
    std::string what =
        "cannot apply '" + std::string(op) + "' to " + type_name(a) + " and " + type_name(b);
    if (a.is_undefined() || b.is_undefined()) what += " (a variable or key is missing)";
    fail(ErrorKind::format, line, what);
}

template <typename Op>
std::int64_t checked(Op op, std::int64_t x, std::int64_t y, std::uint32_t line) {
    std::int64_t r = 0;
    if (op(x, y, &r)) fail(ErrorKind::format, line, "integer overflow");
    return r;
}
bool add(std::int64_t x, std::int64_t y, std::int64_t* r) {
    return __builtin_add_overflow(x, y, r);
}
bool sub(std::int64_t x, std::int64_t y, std::int64_t* r) {
    return __builtin_sub_overflow(x, y, r);
}
bool mul(std::int64_t x, std::int64_t y, std::int64_t* r) {
    return __builtin_mul_overflow(x, y, r);
}

Value arithmetic(std::string_view op, const Value& a, const Value& b, std::uint32_t line) {
    const bool both_int = a.is(Value::Kind::integer) && b.is(Value::Kind::integer);
    if (both_int) {
        const std::int64_t x = a.as_int();
        const std::int64_t y = b.as_int();
        if (op == "+") return Value::integer(checked(add, x, y, line));
        if (op == "-") return Value::integer(checked(sub, x, y, line));
        if (op == "*") return Value::integer(checked(mul, x, y, line));
        if (op == "//" || op == "%") {
            if (y == 0) fail(ErrorKind::format, line, "division by zero");
            if (x == INT64_MIN && y == -1) fail(ErrorKind::format, line, "integer overflow");
            std::int64_t q = x / y;
            std::int64_t m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors
                --q;
                m += y;
            }
            return Value::integer(op == "//" ? q : m);
        }
        if (op == "**" && y >= 0) {
            std::int64_t result = 1;
            for (std::int64_t i = 0; i < y; ++i) {
                result = checked(mul, result, x, line);
                if (result == 0 || result == 1) break;
                if (result == -1) {
                    result = ((y - i - 1) % 2 == 0) ? -1 : 1;
                    break;
                }
            }
            return Value::integer(result);
        }
    }
    const double x = a.as_number();
    const double y = b.as_number();
    if (op == "+") return Value::floating(x + y);
    if (op == "-") return Value::floating(x - y);
    if (op == "*") return Value::floating(x * y);
    if (op == "/") {
        if (y == 0) fail(ErrorKind::format, line, "division by zero");
        return Value::floating(x / y);
    }
    if (op == "//") {
        if (y == 0) fail(ErrorKind::format, line, "division by zero");
        return Value::floating(std::floor(x / y));
    }
    if (op == "%") {
        if (y == 0) fail(ErrorKind::format, line, "division by zero");
        double m = std::fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        return Value::floating(m);
    }
    if (op == "**") {
        if (x == 0 && y < 0)
            fail(ErrorKind::format, line, "0 cannot be raised to a negative power");
        const double r = std::pow(x, y);
        if (!std::isfinite(r)) fail(ErrorKind::format, line, "'**' result is not a finite number");
        return Value::floating(r);
    }
    type_error(op, a, b, line);
}

bool contains(const Value& container, const Value& item, std::string_view op, std::uint32_t line) {
    switch (container.kind()) {
        case Value::Kind::undefined:
            return false;
        case Value::Kind::list:
            for (const Value& v : container.as_list())
                if (equals(v, item)) return true;
            return false;
        case Value::Kind::string:
            if (!item.is(Value::Kind::string)) break;
            charge_scan(container.as_string().size());
            return container.as_string().find(item.as_string()) != std::string::npos;
        case Value::Kind::dict:
            if (!item.is(Value::Kind::string)) return false;
            return container.as_dict().find(item.as_string()) != nullptr;
        default:
            break;
    }
    type_error(op, item, container, line);
}

int compare(std::string_view op, const Value& a, const Value& b, std::uint32_t line) {
    const auto numeric = [](const Value& v) { return v.is_number() || v.is(Value::Kind::boolean); };
    const auto number = [](const Value& v) {
        return v.is(Value::Kind::boolean) ? (v.as_bool() ? 1.0 : 0.0) : v.as_number();
    };
    if (numeric(a) && numeric(b)) {
        if (a.is(Value::Kind::integer) && b.is(Value::Kind::integer))
            return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
        const double x = number(a), y = number(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.is(Value::Kind::string) && b.is(Value::Kind::string)) {
        charge_scan(std::min(a.as_string().size(), b.as_string().size()));
        const int c = a.as_string().compare(b.as_string());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    type_error(op, a, b, line);
}

Value repeat(const Value& text, const Value& count, std::uint32_t line) {
    const std::int64_t n = count.as_int();
    if (n <= 0) return Value::string("");
    const std::string& s = text.as_string();
    if (!s.empty() && static_cast<std::uint64_t>(n) > limits::string_bytes / s.size())
        check_string_size(limits::string_bytes + 1, line);
    std::string out;
    out.reserve(s.size() * static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) out += s;
    return Value::string(std::move(out));
}

// a ~ b, a + b on text: bounded before the text is built.
Value concatenate(const Value& a, const Value& b, std::uint32_t line) {
    std::string x = to_output(a);
    const std::string y = to_output(b);
    check_string_size(x.size() + y.size(), line);
    x += y;
    return Value::string(std::move(x));
}

}  // namespace

Value binary_op(std::string_view op, const Value& a, const Value& b, std::uint32_t line) {
    if (op == "==") return Value::boolean(equals(a, b));
    if (op == "!=") return Value::boolean(!equals(a, b));
    if (op == "in") return Value::boolean(contains(b, a, op, line));
    if (op == "not in") return Value::boolean(!contains(b, a, op, line));
    if (op == "~") return concatenate(a, b, line);
    if (op == "<") return Value::boolean(compare(op, a, b, line) < 0);
    if (op == ">") return Value::boolean(compare(op, a, b, line) > 0);
    if (op == "<=") return Value::boolean(compare(op, a, b, line) <= 0);
    if (op == ">=") return Value::boolean(compare(op, a, b, line) >= 0);
    if (a.is_number() && b.is_number()) return arithmetic(op, a, b, line);
    if (op == "+") {
        if (a.is(Value::Kind::list) && b.is(Value::Kind::list)) {
            check_list_size(a.as_list().size() + b.as_list().size(), line);
            List joined = a.as_list();
            joined.insert(joined.end(), b.as_list().begin(), b.as_list().end());
            return Value::list(std::move(joined));
        }
        // A string with a string, number or boolean concatenates (as the reference does).
        const auto text_like = [](const Value& v) {
            return v.is(Value::Kind::string) || v.is_number() || v.is(Value::Kind::boolean);
        };
        if ((a.is(Value::Kind::string) || b.is(Value::Kind::string)) && text_like(a) &&
            text_like(b))
            return concatenate(a, b, line);
    }
    if (op == "*") {
        if (a.is(Value::Kind::string) && b.is(Value::Kind::integer)) return repeat(a, b, line);
        if (b.is(Value::Kind::string) && a.is(Value::Kind::integer)) return repeat(b, a, line);
    }
    type_error(op, a, b, line);
}

Value unary_op(std::string_view op, const Value& v, std::uint32_t line) {
    if (op == "not") return Value::boolean(!truthy(v));
    const bool minus = op == "-";
    switch (v.kind()) {
        case Value::Kind::integer:
            if (minus && v.as_int() == INT64_MIN) fail(ErrorKind::format, line, "integer overflow");
            return Value::integer(minus ? -v.as_int() : v.as_int());
        case Value::Kind::floating:
            return Value::floating(minus ? -v.as_float() : v.as_float());
        case Value::Kind::boolean: {
            const std::int64_t i = v.as_bool() ? 1 : 0;
            return Value::integer(minus ? -i : i);
        }
        default:
            fail(ErrorKind::format, line,
                 "cannot apply unary '" + std::string(op) + "' to " + type_name(v));
    }
}

Value get_item(const Value& object, const Value& key) {
    switch (object.kind()) {
        case Value::Kind::list:
        case Value::Kind::string: {
            if (!key.is(Value::Kind::integer)) return Value();
            std::int64_t i = key.as_int();
            if (object.is(Value::Kind::list)) {
                const List& items = object.as_list();
                const auto n = static_cast<std::int64_t>(items.size());
                if (i < 0) i += n;
                if (i < 0 || i >= n) return Value();
                return items[static_cast<std::size_t>(i)];
            }
            const std::string& s = object.as_string();
            if (i < 0) i += static_cast<std::int64_t>(utf8::length(s));
            if (i < 0) return Value();
            charge_scan(s.size());
            std::size_t pos = 0, len = 0;
            for (; pos < s.size(); pos += len, --i) {
                utf8::decode(s, pos, len);
                if (i == 0) return Value::string(s.substr(pos, len));
            }
            return Value();
        }
        case Value::Kind::dict:
            if (key.is(Value::Kind::string)) {
                if (const Value* v = object.as_dict().find(key.as_string())) return *v;
            }
            return Value();
        case Value::Kind::ns:
            if (key.is(Value::Kind::string)) {
                if (const Value* v = object.as_ns().attributes.find(key.as_string())) return *v;
            }
            return Value();
        default:
            return Value();
    }
}

}  // namespace meswitch::chat
