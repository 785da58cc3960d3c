// Values a chat template computes with: undefined, none, booleans, integers, floats,
// strings, lists, dicts (insertion-ordered, string keys), namespaces (mutable attribute
// bags from namespace()) and functions (built-ins, bound methods, macros).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace meswitch::chat {

class Value;
using List = std::vector<Value>;

struct Dict {
    std::vector<std::pair<std::string, Value>> items;
    const Value* find(std::string_view key) const;
    void set(std::string key, Value value);
};

struct Namespace {
    Dict attributes;
};

// Arguments of a call: positional values, then keyword values in call order.
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
    std::uint32_t line = 0;
    const Value* keyword_arg(std::string_view name) const;
    // The i-th positional argument, else the keyword `name`, else nullptr.
    const Value* arg(std::size_t i, std::string_view name) const;
};

struct Function {
    std::string name;  // for error messages: "range", "macro 'render'", "string.strip"
    std::function<Value(const CallArgs&)> call;
};

class Value {
public:
    enum class Kind {
        undefined,
        none,
        boolean,
        integer,
        floating,
        string,
        list,
        dict,
        ns,
        function
    };

    Value() = default;  // undefined
    static Value none();
    static Value boolean(bool b);
    static Value integer(std::int64_t i);
    static Value floating(double f);
    static Value string(std::string s);
    static Value list(List items);
    static Value dict(Dict d);
    static Value ns(Dict attributes);
    static Value function(std::string name, std::function<Value(const CallArgs&)> fn);

    Kind kind() const { return static_cast<Kind>(v_.index()); }
    bool is(Kind k) const { return kind() == k; }
    bool is_undefined() const { return kind() == Kind::undefined; }
    bool is_none() const { return kind() == Kind::none; }
    bool is_number() const { return kind() == Kind::integer || kind() == Kind::floating; }

    bool as_bool() const { return std::get<bool>(v_); }
    std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
    double as_float() const { return std::get<double>(v_); }
    double as_number() const;  // integer or float as double
    const std::string& as_string() const { return std::get<std::string>(v_); }
    const List& as_list() const { return *std::get<std::shared_ptr<const List>>(v_); }
    const Dict& as_dict() const { return *std::get<std::shared_ptr<const Dict>>(v_); }
    Namespace& as_ns() const { return *std::get<std::shared_ptr<Namespace>>(v_); }
    const Function& as_function() const { return *std::get<std::shared_ptr<const Function>>(v_); }
    // Identity of a list, dict, namespace or function (for "is sameas"); nullptr otherwise.
    const void* identity() const;

private:
    struct Undefined {};
    struct None {};
    std::variant<Undefined, None, bool, std::int64_t, double, std::string,
                 std::shared_ptr<const List>, std::shared_ptr<const Dict>,
                 std::shared_ptr<Namespace>, std::shared_ptr<const Function>>
        v_;
};

const char* type_name(Value::Kind kind);  // "undefined", "string", "list", ...
inline const char* type_name(const Value& v) {
    return type_name(v.kind());
}

bool truthy(const Value& v);

// Python's ==: numbers by value (booleans count as 0 and 1), strings, lists and dicts by
// content, none == none, undefined == undefined; namespaces and functions by identity.
bool equals(const Value& a, const Value& b);

// Text of a value in {{ }}: none and undefined give "", booleans "true"/"false", floats
// with ".0" when integral, lists and dicts as JSON (as @huggingface/jinja prints them).
std::string to_output(const Value& v);

// A double as JavaScript's Number.prototype.toString writes it (shortest round trip).
std::string format_js_number(double d);

// What iterating `v` visits: list items, dict keys, string code points; nothing for
// undefined (as in Jinja). nullopt for values that cannot be iterated.
std::optional<List> iterable_items(const Value& v);

}  // namespace meswitch::chat
