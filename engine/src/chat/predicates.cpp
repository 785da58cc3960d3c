#include "chat/predicates.h"

#include "chat/errors.h"
#include "chat/operators.h"
#include "chat/utf8.h"

#include <cmath>
#include <string>

namespace meswitch::chat {
namespace {

constexpr std::string_view kTests[] = {
    "defined",  "undefined", "none", "string", "number",      "integer",
    "float",    "boolean",   "true", "false",  "mapping",     "sequence",
    "iterable", "callable",  "odd",  "even",   "divisibleby", "equalto",
    "eq",       "==",        "ne",   "!=",     "sameas",      "lower",
    "upper",    "in",        "gt",   ">",      "lt",          "<",
    "ge",       ">=",        "le",   "<=",     "greaterthan", "lessthan",
};

const Value& required(std::string_view test, const CallArgs& args) {
    if (args.positional.empty())
        fail(ErrorKind::format, args.line,
             "the test '" + std::string(test) + "' needs an argument");
    return args.positional[0];
}

std::int64_t integer_operand(std::string_view test, const Value& v, std::uint32_t line) {
    if (!v.is(Value::Kind::integer))
        fail(ErrorKind::format, line,
             "the test '" + std::string(test) + "' needs an integer, got " + type_name(v));
    return v.as_int();
}

}  // namespace

bool is_known_test(std::string_view name) {
    for (std::string_view t : kTests)
        if (t == name) return true;
    return false;
}

bool apply_test(std::string_view name, const Value& v, const CallArgs& args) {
    using K = Value::Kind;
    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.is_none();
    if (name == "string") return v.is(K::string);
    if (name == "number") return v.is_number();
    if (name == "integer") return v.is(K::integer);
    if (name == "float") return v.is(K::floating);
    if (name == "boolean") return v.is(K::boolean);
    if (name == "true") return v.is(K::boolean) && v.as_bool();
    if (name == "false") return v.is(K::boolean) && !v.as_bool();
    if (name == "mapping") return v.is(K::dict);
    if (name == "sequence") return v.is(K::list) || v.is(K::dict) || v.is(K::string);
    if (name == "iterable") return v.is(K::list) || v.is(K::dict) || v.is(K::string);
    if (name == "callable") return v.is(K::function);
    if (name == "lower") return v.is(K::string) && utf8::lower(v.as_string()) == v.as_string();
    if (name == "upper") return v.is(K::string) && utf8::upper(v.as_string()) == v.as_string();
    if (name == "odd") return integer_operand(name, v, args.line) % 2 != 0;
    if (name == "even") return integer_operand(name, v, args.line) % 2 == 0;
    if (name == "divisibleby") {
        const std::int64_t d = integer_operand(name, required(name, args), args.line);
        if (d == 0) fail(ErrorKind::format, args.line, "divisibleby(0)");
        return integer_operand(name, v, args.line) % d == 0;
    }
    if (name == "equalto" || name == "eq" || name == "==") return equals(v, required(name, args));
    if (name == "ne" || name == "!=") return !equals(v, required(name, args));
    if (name == "sameas") {
        const Value& other = required(name, args);
        if (v.kind() != other.kind()) return false;
        if (v.identity() != nullptr) return v.identity() == other.identity();
        return equals(v, other);
    }
    if (name == "in") return truthy(binary_op("in", v, required(name, args), args.line));
    if (name == "gt" || name == ">" || name == "greaterthan")
        return truthy(binary_op(">", v, required(name, args), args.line));
    if (name == "lt" || name == "<" || name == "lessthan")
        return truthy(binary_op("<", v, required(name, args), args.line));
    if (name == "ge" || name == ">=")
        return truthy(binary_op(">=", v, required(name, args), args.line));
    if (name == "le" || name == "<=")
        return truthy(binary_op("<=", v, required(name, args), args.line));
    fail(ErrorKind::unsupported, args.line,
         "the test '" + std::string(name) + "' is not supported");
}

}  // namespace meswitch::chat
