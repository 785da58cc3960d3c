#include "chat/value.h"

#include "chat/json.h"
#include "chat/limits.h"
#include "chat/utf8.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace meswitch::chat {
namespace {

// Lists, dicts, namespaces and functions (whose bound arguments are values) can hold each
// other to any depth: a loop can wrap a list in a list a million times. Destroying such a
// chain recursively would overflow the stack, so the last owner of one hands it to
// deferred_delete: the outermost call deletes it and then, one after the other, what that
// released in turn (queued by the nested calls), so destructors never nest more than one
// level. The queue lives in the outermost call's frame: nothing outlives it at thread exit.
struct Pending {
    void* object;
    void (*destroy)(void*);
};
thread_local std::vector<Pending>* pending = nullptr;

template <typename T>
void destroy(void* object) {
    delete static_cast<T*>(object);
}

template <typename T>
void deferred_delete(T* object) {
    if (pending) {
        pending->push_back({object, destroy<T>});
        return;
    }
    std::vector<Pending> queue;
    pending = &queue;
    delete object;
    while (!queue.empty()) {
        const Pending next = queue.back();
        queue.pop_back();
        next.destroy(next.object);
    }
    pending = nullptr;
}

template <typename T>
std::shared_ptr<T> share(T* object) {
    return std::shared_ptr<T>(object, deferred_delete<T>);
}

// Charges a new container's items to the render: one step each, the bytes of the strings
// it holds (by value, so it owns a copy), and for a list its slots too. A dict's or
// namespace's slots are not counted: they are few per step (literals, loop objects), while
// a list can be a million items built by one call.
void charge_items(std::size_t count, std::size_t slot_bytes, std::size_t string_bytes) {
    charge_steps(count);
    charge_scan(string_bytes);
    charge_built(slot_bytes + string_bytes);
}

std::size_t string_bytes_of(const Value& v) {
    return v.is(Value::Kind::string) ? v.as_string().size() : 0;
}

}  // namespace

const Value* Dict::find(std::string_view key) const {
    for (const auto& [k, v] : items)
        if (k == key) return &v;
    return nullptr;
}

void Dict::set(std::string key, Value value) {
    for (auto& [k, v] : items) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    items.emplace_back(std::move(key), std::move(value));
}

const Value* CallArgs::keyword_arg(std::string_view name) const {
    for (const auto& [k, v] : keyword)
        if (k == name) return &v;
    return nullptr;
}

const Value* CallArgs::arg(std::size_t i, std::string_view name) const {
    if (i < positional.size()) return &positional[i];
    return keyword_arg(name);
}

Value Value::none() {
    Value v;
    v.v_ = None{};
    return v;
}
Value Value::boolean(bool b) {
    Value v;
    v.v_ = b;
    return v;
}
Value Value::integer(std::int64_t i) {
    Value v;
    v.v_ = i;
    return v;
}
Value Value::floating(double f) {
    Value v;
    v.v_ = f;
    return v;
}
Value Value::string(std::string s) {
    if (current_budget()) {
        check_string_size(s.size(), 0);
        charge_built(s.size());
    }
    Value v;
    v.v_ = std::move(s);
    return v;
}
Value Value::list(List items) {
    if (current_budget()) {
        check_list_size(items.size(), 0);
        std::size_t bytes = 0;
        for (const Value& item : items) bytes += string_bytes_of(item);
        charge_items(items.size(), items.size() * sizeof(Value), bytes);
    }
    Value v;
    v.v_ = std::shared_ptr<const List>(share(new List(std::move(items))));
    return v;
}
Value Value::dict(Dict d) {
    if (current_budget()) {
        std::size_t bytes = 0;
        for (const auto& [key, item] : d.items) bytes += key.size() + string_bytes_of(item);
        charge_items(d.items.size(), 0, bytes);
    }
    Value v;
    v.v_ = std::shared_ptr<const Dict>(share(new Dict(std::move(d))));
    return v;
}
Value Value::ns(Dict attributes) {
    if (current_budget()) {
        std::size_t bytes = 0;
        for (const auto& [key, item] : attributes.items)
            bytes += key.size() + string_bytes_of(item);
        charge_items(attributes.items.size(), 0, bytes);
    }
    Value v;
    v.v_ = share(new Namespace{std::move(attributes)});
    return v;
}
Value Value::function(std::string name, std::function<Value(const CallArgs&)> fn) {
    Value v;
    v.v_ = std::shared_ptr<const Function>(share(new Function{std::move(name), std::move(fn)}));
    return v;
}

double Value::as_number() const {
    return kind() == Kind::integer ? static_cast<double>(as_int()) : as_float();
}

const void* Value::identity() const {
    switch (kind()) {
        case Kind::list:
            return std::get<std::shared_ptr<const List>>(v_).get();
        case Kind::dict:
            return std::get<std::shared_ptr<const Dict>>(v_).get();
        case Kind::ns:
            return std::get<std::shared_ptr<Namespace>>(v_).get();
        case Kind::function:
            return std::get<std::shared_ptr<const Function>>(v_).get();
        default:
            return nullptr;
    }
}

const char* type_name(Value::Kind kind) {
    switch (kind) {
        case Value::Kind::undefined:
            return "undefined";
        case Value::Kind::none:
            return "none";
        case Value::Kind::boolean:
            return "boolean";
        case Value::Kind::integer:
            return "integer";
        case Value::Kind::floating:
            return "float";
        case Value::Kind::string:
            return "string";
        case Value::Kind::list:
            return "list";
        case Value::Kind::dict:
            return "dict";
        case Value::Kind::ns:
            return "namespace";
        case Value::Kind::function:
            return "function";
    }
    return "value";
}

bool truthy(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::undefined:
        case Value::Kind::none:
            return false;
        case Value::Kind::boolean:
            return v.as_bool();
        case Value::Kind::integer:
            return v.as_int() != 0;
        case Value::Kind::floating:
            return v.as_float() != 0.0 && !std::isnan(v.as_float());
        case Value::Kind::string:
            return !v.as_string().empty();
        case Value::Kind::list:
            return !v.as_list().empty();
        case Value::Kind::dict:
            return !v.as_dict().items.empty();
        case Value::Kind::ns:
        case Value::Kind::function:
            return true;
    }
    return false;
}

namespace {

bool numeric_like(const Value& v) {
    return v.is_number() || v.is(Value::Kind::boolean);
}
double numeric_value(const Value& v) {
    return v.is(Value::Kind::boolean) ? (v.as_bool() ? 1.0 : 0.0) : v.as_number();
}

bool equals_at(const Value& a, const Value& b, int depth) {
    if (depth > limits::value_depth)
        fail_limit(0, "values nested too deeply to compare (over " +
                          std::to_string(limits::value_depth) + " levels)");
    charge_steps(1);
    if (numeric_like(a) && numeric_like(b)) {
        if (a.is(Value::Kind::integer) && b.is(Value::Kind::integer))
            return a.as_int() == b.as_int();
        return numeric_value(a) == numeric_value(b);
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Value::Kind::undefined:
        case Value::Kind::none:
            return true;
        case Value::Kind::string:
            charge_scan(std::min(a.as_string().size(), b.as_string().size()));
            return a.as_string() == b.as_string();
        case Value::Kind::list: {
            const List& x = a.as_list();
            const List& y = b.as_list();
            if (x.size() != y.size()) return false;
            for (std::size_t i = 0; i < x.size(); ++i)
                if (!equals_at(x[i], y[i], depth + 1)) return false;
            return true;
        }
        case Value::Kind::dict: {
            const Dict& x = a.as_dict();
            const Dict& y = b.as_dict();
            if (x.items.size() != y.items.size()) return false;
            for (const auto& [k, v] : x.items) {
                const Value* other = y.find(k);
                if (!other || !equals_at(v, *other, depth + 1)) return false;
            }
            return true;
        }
        default:
            return a.identity() == b.identity();
    }
}

}  // namespace

bool equals(const Value& a, const Value& b) {
    return equals_at(a, b, 0);
}

std::string format_js_number(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    if (d == 0) return "0";
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    const std::string sci(buf, result.ptr);
    std::string out = d < 0 ? "-" : "";
    const std::size_t start = d < 0 ? 1 : 0;
    const std::size_t e_pos = sci.find('e');
    std::string digits;
    for (std::size_t i = start; i < e_pos; ++i)
        if (sci[i] != '.') digits.push_back(sci[i]);
    const int exponent = std::atoi(sci.c_str() + e_pos + 1);
    const int k = static_cast<int>(digits.size());
    const int n = exponent + 1;  // position of the decimal point
    if (k <= n && n <= 21) {
        out += digits + std::string(static_cast<std::size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out += digits.substr(0, static_cast<std::size_t>(n)) + "." +
               digits.substr(static_cast<std::size_t>(n));
    } else if (-6 < n && n <= 0) {
        out += "0." + std::string(static_cast<std::size_t>(-n), '0') + digits;
    } else {
        out += digits.substr(0, 1);
        if (k > 1) out += "." + digits.substr(1);
        out += "e";
        out += (n - 1 >= 0) ? "+" : "-";
        out += std::to_string(std::abs(n - 1));
    }
    return out;
}

std::string to_output(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::undefined:
        case Value::Kind::none:
            return "";
        case Value::Kind::boolean:
            return v.as_bool() ? "true" : "false";
        case Value::Kind::integer:
            return std::to_string(v.as_int());
        case Value::Kind::floating: {
            const double d = v.as_float();
            if (std::isfinite(d) && std::floor(d) == d) {
                if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
                if (std::fabs(d) < 1e21) {
                    char buf[64];
                    std::snprintf(buf, sizeof buf, "%.1f", d);
                    return buf;
                }
            }
            return format_js_number(d);
        }
        case Value::Kind::string:
            return v.as_string();
        case Value::Kind::list:
        case Value::Kind::dict:
        case Value::Kind::ns: {
            JsonOptions options;
            options.undefined_as_null = false;
            return to_json(v, options, 0);
        }
        case Value::Kind::function:
            return "<function " + v.as_function().name + ">";
    }
    return "";
}

std::optional<List> iterable_items(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::undefined:
            return List{};
        case Value::Kind::list: {
            const List& items = v.as_list();
            std::size_t bytes = 0;
            for (const Value& item : items) bytes += string_bytes_of(item);
            charge_steps(items.size());
            charge_scan(bytes);
            return items;
        }
        case Value::Kind::dict: {
            List keys;
            for (const auto& item : v.as_dict().items) keys.push_back(Value::string(item.first));
            return keys;
        }
        case Value::Kind::string: {
            List chars;
            for (std::string_view cp : utf8::code_points(v.as_string())) {
                check_list_size(chars.size() + 1, 0);
                chars.push_back(Value::string(std::string(cp)));
            }
            return chars;
        }
        default:
            return std::nullopt;
    }
}

}  // namespace meswitch::chat
