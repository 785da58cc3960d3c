#include "chat/builtins.h"

#include "chat/errors.h"
#include "chat/limits.h"

#include <ctime>

namespace meswitch::chat {
namespace {

std::int64_t int_arg(const CallArgs& args, std::size_t i) {
    const Value& v = args.positional[i];
    if (!v.is(Value::Kind::integer))
        fail(ErrorKind::format, args.line,
             std::string("range() needs integers, got ") + type_name(v));
    return v.as_int();
}

Value range(const CallArgs& args) {
    if (args.positional.empty() || args.positional.size() > 3)
        fail(ErrorKind::format, args.line, "range() takes 1 to 3 integers");
    std::int64_t start = 0, stop = 0, step = 1;
    if (args.positional.size() == 1) {
        stop = int_arg(args, 0);
    } else {
        start = int_arg(args, 0);
        stop = int_arg(args, 1);
        if (args.positional.size() == 3) step = int_arg(args, 2);
    }
    if (step == 0) fail(ErrorKind::format, args.line, "range() step must not be zero");
    List out;
    for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (out.size() >= limits::list_items)
            fail_limit(args.line, "range() would have more than " +
                                      std::to_string(limits::list_items) + " items");
        out.push_back(Value::integer(i));
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
    }
    return Value::list(std::move(out));
}

// namespace(), namespace(a=1), namespace({"a": 1}), namespace([["a", 1]], b=2)
Value make_namespace(const CallArgs& args) {
    if (args.positional.size() > 1)
        fail(ErrorKind::format, args.line, "namespace() takes at most one positional argument");
    Dict attributes;
    if (!args.positional.empty()) {
        const Value& source = args.positional[0];
        if (source.is(Value::Kind::dict)) {
            attributes = source.as_dict();
        } else if (source.is(Value::Kind::list)) {
            for (const Value& pair : source.as_list()) {
                if (!pair.is(Value::Kind::list) || pair.as_list().size() != 2 ||
                    !pair.as_list()[0].is(Value::Kind::string))
                    fail(ErrorKind::format, args.line, "namespace() needs [name, value] pairs");
                charge_steps(attributes.items.size());  // Dict::set looks through them
                attributes.set(pair.as_list()[0].as_string(), pair.as_list()[1]);
            }
        } else {
            fail(ErrorKind::format, args.line,
                 std::string("namespace() cannot take ") + type_name(source));
        }
    }
    for (const auto& [name, value] : args.keyword) attributes.set(name, value);
    return Value::ns(std::move(attributes));
}

Value strftime_now(const CallArgs& args) {
    if (args.positional.empty() || !args.positional[0].is(Value::Kind::string))
        fail(ErrorKind::format, args.line, "strftime_now() needs a format string");
    const std::string& format = args.positional[0].as_string();
    if (format.size() > 256) fail(ErrorKind::format, args.line, "strftime_now() format too long");
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[1024];
    const std::size_t n = std::strftime(buf, sizeof buf, format.c_str(), &local);
    return Value::string(std::string(buf, n));
}

}  // namespace

void add_builtins(Scope& globals) {
    globals.set("true", Value::boolean(true));
    globals.set("false", Value::boolean(false));
    globals.set("none", Value::none());
    globals.set("True", Value::boolean(true));
    globals.set("False", Value::boolean(false));
    globals.set("None", Value::none());
    globals.set("range", Value::function("range", range));
    globals.set("namespace", Value::function("namespace", make_namespace));
    globals.set("dict", Value::function("dict", [](const CallArgs& args) {
                    if (!args.positional.empty())
                        fail(ErrorKind::unsupported, args.line,
                             "dict() with positional arguments is not supported");
                    Dict d;
                    for (const auto& [name, value] : args.keyword) d.set(name, value);
                    return Value::dict(std::move(d));
                }));
    globals.set("raise_exception",
                Value::function("raise_exception", [](const CallArgs& args) -> Value {
                    throw TemplateRaised(args.positional.empty() ? std::string()
                                                                 : to_output(args.positional[0]));
                }));
    globals.set("strftime_now", Value::function("strftime_now", strftime_now));
}

}  // namespace meswitch::chat
