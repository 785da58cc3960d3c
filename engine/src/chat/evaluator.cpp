#include "chat/evaluator.h"

#include "chat/errors.h"
#include "chat/filters.h"
#include "chat/limits.h"
#include "chat/methods.h"
#include "chat/operators.h"
#include "chat/predicates.h"
#include "chat/utf8.h"

#include <algorithm>
#include <optional>

namespace meswitch::chat {
namespace {

using K = Value::Kind;

// The values a for loop visits: list items, dict keys, string code points; nothing for
// undefined (as in Jinja).
List loop_items(const Value& v, std::uint32_t line) {
    if (auto items = iterable_items(v)) return std::move(*items);
    fail(ErrorKind::format, line, std::string("cannot loop over ") + type_name(v));
}

Value loop_object(const List& items, std::size_t i) {
    const auto n = static_cast<std::int64_t>(items.size());
    const auto k = static_cast<std::int64_t>(i);
    Dict loop;
    loop.items.reserve(9);
    loop.set("index", Value::integer(k + 1));
    loop.set("index0", Value::integer(k));
    loop.set("revindex", Value::integer(n - k));
    loop.set("revindex0", Value::integer(n - k - 1));
    loop.set("first", Value::boolean(i == 0));
    loop.set("last", Value::boolean(k == n - 1));
    loop.set("length", Value::integer(n));
    loop.set("previtem", i > 0 ? items[i - 1] : Value());
    loop.set("nextitem", k < n - 1 ? items[i + 1] : Value());
    return Value::dict(std::move(loop));
}

}  // namespace

const Value* Scope::find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent_) {
        const auto it = s->vars_.find(name);
        if (it != s->vars_.end()) return &it->second;
    }
    return nullptr;
}

std::string Evaluator::render(const Program& program, Scope& globals) {
    const RenderBudget::Active active(budget_);
    std::string out;
    call_scope_ = &globals;
    exec_block(program.body, globals, out);  // break/continue cannot reach the top level
    return out;
}

Evaluator::Nest::Nest(Evaluator& evaluator, std::uint32_t line) : depth_(evaluator.depth_) {
    evaluator.budget_.line = line;
    charge_steps(1);
    if (depth_ >= limits::render_depth)
        fail_limit(line, "the template nests too deeply while rendering (over " +
                             std::to_string(limits::render_depth) +
                             " levels of blocks, expressions and macro calls)");
    ++depth_;  // only once nothing can throw: the destructor undoes it
}

void Evaluator::check_size(const std::string& out, std::uint32_t line) const {
    if (out.size() > limits::output_bytes)
        fail_limit(line, "the template output exceeds " +
                             std::to_string(limits::output_bytes >> 20) + " MiB");
}

Evaluator::Flow Evaluator::exec_block(const Block& block, Scope& scope, std::string& out) {
    for (const StmtPtr& s : block) {
        const Flow flow = exec(*s, scope, out);
        if (flow != Flow::normal) return flow;
    }
    return Flow::normal;
}

Evaluator::Flow Evaluator::exec(const Stmt& s, Scope& scope, std::string& out) {
    const Nest nest(*this, s.line);
    switch (s.kind) {
        case StmtKind::text:
            out += s.text;
            check_size(out, s.line);
            return Flow::normal;
        case StmtKind::output:
            out += to_output(eval(*s.expr, scope));
            check_size(out, s.line);
            return Flow::normal;
        case StmtKind::if_:
            return exec_block(truthy(eval(*s.expr, scope)) ? s.body : s.else_body, scope, out);
        case StmtKind::for_:
            return exec_for(s, scope, out);
        case StmtKind::set:
            assign(*s.target, eval(*s.expr, scope), scope, s.line);
            return Flow::normal;
        case StmtKind::set_block: {
            std::string text;
            exec_block(s.body, scope, text);
            assign(*s.target, Value::string(std::move(text)), scope, s.line);
            return Flow::normal;
        }
        case StmtKind::macro:
            define_macro(s, scope);
            return Flow::normal;
        case StmtKind::break_:
            return Flow::break_loop;
        case StmtKind::continue_:
            return Flow::continue_loop;
    }
    return Flow::normal;
}

Evaluator::Flow Evaluator::exec_for(const Stmt& s, Scope& scope, std::string& out) {
    Scope loop_scope(&scope);
    List items = loop_items(eval(*s.expr, loop_scope), s.line);
    if (s.condition) {
        List kept;
        for (Value& item : items) {
            charge_steps(1);
            Scope test_scope(&loop_scope);
            assign(*s.target, item, test_scope, s.line);
            if (truthy(eval(*s.condition, test_scope))) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) return exec_block(s.else_body, loop_scope, out);
    for (std::size_t i = 0; i < items.size(); ++i) {
        charge_steps(1);
        loop_scope.set("loop", loop_object(items, i));
        assign(*s.target, items[i], loop_scope, s.line);
        if (exec_block(s.body, loop_scope, out) == Flow::break_loop) break;
    }
    return Flow::normal;
}

// True when `v` is `target` or holds it inside lists, dicts or other namespaces.
static bool reaches_namespace(const Value& v, const Namespace* target, int depth,
                              std::uint32_t line) {
    if (depth > limits::value_depth)
        fail_limit(line, "cannot store a namespace attribute nested more than " +
                             std::to_string(limits::value_depth) + " levels deep");
    charge_steps(1);
    if (v.is(Value::Kind::ns)) {
        if (&v.as_ns() == target) return true;
        for (const auto& [key, item] : v.as_ns().attributes.items)
            if (reaches_namespace(item, target, depth + 1, line)) return true;
    } else if (v.is(Value::Kind::list)) {
        for (const auto& item : v.as_list())
            if (reaches_namespace(item, target, depth + 1, line)) return true;
    } else if (v.is(Value::Kind::dict)) {
        for (const auto& [key, item] : v.as_dict().items)
            if (reaches_namespace(item, target, depth + 1, line)) return true;
    }
    return false;
}

void Evaluator::assign(const Expr& target, Value value, Scope& scope, std::uint32_t line) {
    switch (target.kind) {
        case ExprKind::identifier:
            scope.set(target.name, std::move(value));
            return;
        case ExprKind::tuple: {
            if (!value.is(K::list))
                fail(ErrorKind::format, line,
                     std::string("cannot unpack ") + type_name(value) + " into several names");
            const List& items = value.as_list();
            if (items.size() != target.children.size())
                fail(ErrorKind::format, line,
                     "cannot unpack " + std::to_string(items.size()) + " values into " +
                         std::to_string(target.children.size()) + " names");
            for (std::size_t i = 0; i < items.size(); ++i)
                scope.set(target.children[i]->name, items[i]);
            return;
        }
        case ExprKind::attribute: {
            const Value object = eval(*target.children[0], scope);
            if (!object.is(K::ns))
                fail(ErrorKind::format, line,
                     "cannot set attribute '" + target.name + "' on " + type_name(object) +
                         " (only namespace() objects can be changed)");
            // Namespaces are the only mutable values, so storing one inside itself is the only
            // way to build a reference cycle (which shared ownership would leak): refuse it.
            if (reaches_namespace(value, &object.as_ns(), 0, line))
                fail(ErrorKind::format, line,
                     "cannot store namespace attribute '" + target.name +
                         "': the value contains the namespace itself");
            object.as_ns().attributes.set(target.name, std::move(value));
            return;
        }
        default:
            fail(ErrorKind::format, line, "invalid assignment target");
    }
}

void Evaluator::define_macro(const Stmt& s, Scope& scope) {
    const Stmt* macro = &s;
    scope.set(s.text, Value::function("macro '" + s.text + "'", [this, macro](const CallArgs& a) {
                  return call_macro(*macro, a);
              }));
}

Value Evaluator::call_macro(const Stmt& s, const CallArgs& args) {
    struct DepthGuard {
        int& depth;
        ~DepthGuard() { --depth; }
    } guard{call_depth_};
    if (++call_depth_ > limits::macro_depth)
        fail_limit(args.line, "macro calls nested too deeply (over " +
                                  std::to_string(limits::macro_depth) + " levels: recursion?)");
    charge_steps(1);
    if (args.positional.size() > s.params.size())
        fail(ErrorKind::format, args.line,
             "macro '" + s.text + "' takes at most " + std::to_string(s.params.size()) +
                 " arguments");
    Scope scope(call_scope_);
    for (const auto& keyword : args.keyword) {
        const std::string& name = keyword.first;  // (clang 14 cannot capture a binding)
        const bool known = std::any_of(s.params.begin(), s.params.end(),
                                       [&](const auto& p) { return p.first == name; });
        if (!known)
            fail(ErrorKind::format, args.line,
                 "macro '" + s.text + "' has no parameter '" + name + "'");
    }
    // Every parameter is bound before any default is evaluated, so a default cannot pick up
    // a same-named variable from the calling scope.
    std::vector<bool> missing(s.params.size(), false);
    for (std::size_t i = 0; i < s.params.size(); ++i) {
        const std::string& name = s.params[i].first;
        const Value* given =
            i < args.positional.size() ? &args.positional[i] : args.keyword_arg(name);
        missing[i] = given == nullptr;
        scope.set(name, given ? *given : Value());
    }
    for (std::size_t i = 0; i < s.params.size(); ++i)
        if (missing[i] && s.params[i].second)
            scope.set(s.params[i].first, eval(*s.params[i].second, scope));
    std::string out;
    exec_block(s.body, scope, out);
    return Value::string(std::move(out));
}

CallArgs Evaluator::eval_args(const Expr& e, std::size_t first, Scope& scope) {
    CallArgs args;
    args.line = e.line;
    for (std::size_t i = first; i < e.children.size(); ++i)
        args.positional.push_back(eval(*e.children[i], scope));
    for (const auto& [name, expr] : e.kwargs) {
        for (const auto& existing : args.keyword)
            if (existing.first == name)
                fail(ErrorKind::format, e.line, "keyword argument '" + name + "' given twice");
        args.keyword.emplace_back(name, eval(*expr, scope));
    }
    return args;
}

Value Evaluator::eval_call(const Expr& e, Scope& scope) {
    const Expr& callee = *e.children[0];
    Value fn;
    if (callee.kind == ExprKind::attribute) {
        const Value object = eval(*callee.children[0], scope);
        fn = get_attribute(object, callee.name);
        if (fn.is_undefined()) {
            if (object.is_undefined() || object.is_none())
                fail(ErrorKind::format, e.line,
                     "cannot call '" + callee.name + "()' on " + type_name(object) +
                         " (a variable or key is missing)");
            fail(ErrorKind::unsupported, e.line,
                 std::string("the method '") + callee.name + "()' of a " + type_name(object) +
                     " is not supported");
        }
    } else {
        fn = eval(callee, scope);
        if (fn.is_undefined() && callee.kind == ExprKind::identifier)
            fail(ErrorKind::unsupported, e.line,
                 "the function '" + callee.name +
                     "()' is not supported (no built-in or macro of that name)");
    }
    if (!fn.is(K::function))
        fail(ErrorKind::format, e.line, std::string("cannot call ") + type_name(fn));
    const CallArgs args = eval_args(e, 1, scope);
    Scope* saved = call_scope_;
    call_scope_ = &scope;
    struct Restore {
        Scope*& slot;
        Scope* value;
        ~Restore() { slot = value; }
    } restore{call_scope_, saved};
    return fn.as_function().call(args);
}

Value Evaluator::eval_subscript(const Expr& e, Scope& scope) {
    const Value object = eval(*e.children[0], scope);
    const Value key = eval(*e.children[1], scope);
    Value v = get_item(object, key);
    if (v.is_undefined() && key.is(K::string) && !object.is(K::ns))
        v = get_attribute(object, key.as_string());
    return v;
}

Value Evaluator::eval_slice(const Expr& e, Scope& scope) {
    const Value object = eval(*e.children[0], scope);
    std::optional<std::int64_t> part[3];
    for (int i = 0; i < 3; ++i) {
        const Expr* p = e.children[static_cast<std::size_t>(i) + 1].get();
        if (!p) continue;
        const Value v = eval(*p, scope);
        if (v.is_undefined() || v.is_none()) continue;
        if (!v.is(K::integer))
            fail(ErrorKind::format, e.line,
                 std::string("slice bounds must be integers, got ") + type_name(v));
        part[i] = v.as_int();
    }
    const std::int64_t step = part[2].value_or(1);
    if (step == 0) fail(ErrorKind::format, e.line, "slice step cannot be zero");
    std::vector<std::string_view> chars;
    std::int64_t n = 0;
    if (object.is(K::list)) {
        n = static_cast<std::int64_t>(object.as_list().size());
    } else if (object.is(K::string)) {
        chars = utf8::code_points(object.as_string());
        n = static_cast<std::int64_t>(chars.size());
    } else if (object.is_undefined()) {
        return Value();
    } else {
        fail(ErrorKind::format, e.line, std::string("cannot slice ") + type_name(object));
    }
    std::int64_t start, stop;
    if (step > 0) {
        const auto clamp = [n](std::int64_t x) {
            return x < 0 ? std::max<std::int64_t>(x + n, 0) : std::min(x, n);
        };
        start = part[0] ? clamp(*part[0]) : 0;
        stop = part[1] ? clamp(*part[1]) : n;
    } else {
        const auto clamp = [n](std::int64_t x) {
            return x < 0 ? std::max<std::int64_t>(x + n, -1) : std::min(x, n - 1);
        };
        start = part[0] ? clamp(*part[0]) : n - 1;
        stop = part[1] ? clamp(*part[1]) : -1;
    }
    List items;
    std::string text;
    for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (object.is(K::list)) {
            items.push_back(object.as_list()[static_cast<std::size_t>(i)]);
        } else {
            text.append(chars[static_cast<std::size_t>(i)]);
        }
    }
    return object.is(K::list) ? Value::list(std::move(items)) : Value::string(std::move(text));
}

Value Evaluator::eval(const Expr& e, Scope& scope) {
    const Nest nest(*this, e.line);
    Value v = eval_node(e, scope);
    if (v.is(K::string)) charge_scan(v.as_string().size());  // values are copied as they pass
    return v;
}

Value Evaluator::eval_node(const Expr& e, Scope& scope) {
    switch (e.kind) {
        case ExprKind::literal:
            return e.value;
        case ExprKind::identifier: {
            const Value* v = scope.find(e.name);
            return v ? *v : Value();
        }
        case ExprKind::list:
        case ExprKind::tuple: {
            List items;
            for (const auto& child : e.children) items.push_back(eval(*child, scope));
            return Value::list(std::move(items));
        }
        case ExprKind::dict: {
            Dict d;
            for (std::size_t i = 0; i + 1 < e.children.size(); i += 2) {
                Value key = eval(*e.children[i], scope);
                if (!key.is(K::string))
                    fail(ErrorKind::format, e.line,
                         std::string("dict keys must be strings, got ") + type_name(key));
                d.set(key.as_string(), eval(*e.children[i + 1], scope));
            }
            return Value::dict(std::move(d));
        }
        case ExprKind::attribute:
            return get_attribute(eval(*e.children[0], scope), e.name);
        case ExprKind::subscript:
            return eval_subscript(e, scope);
        case ExprKind::slice:
            return eval_slice(e, scope);
        case ExprKind::call:
            return eval_call(e, scope);
        case ExprKind::filter: {
            const Value operand = eval(*e.children[0], scope);
            return apply_filter(e.name, operand, eval_args(e, 1, scope));
        }
        case ExprKind::test: {
            const Value operand = eval(*e.children[0], scope);
            const bool result = apply_test(e.name, operand, eval_args(e, 1, scope));
            return Value::boolean(e.negate ? !result : result);
        }
        case ExprKind::unary:
            return unary_op(e.name, eval(*e.children[0], scope), e.line);
        case ExprKind::binary: {
            Value left = eval(*e.children[0], scope);
            if (e.name == "and") return truthy(left) ? eval(*e.children[1], scope) : left;
            if (e.name == "or") return truthy(left) ? left : eval(*e.children[1], scope);
            return binary_op(e.name, left, eval(*e.children[1], scope), e.line);
        }
        case ExprKind::conditional:
            return truthy(eval(*e.children[0], scope)) ? eval(*e.children[1], scope)
                                                       : eval(*e.children[2], scope);
        case ExprKind::select:
            return truthy(eval(*e.children[1], scope)) ? eval(*e.children[0], scope) : Value();
    }
    return Value();
}

}  // namespace meswitch::chat
