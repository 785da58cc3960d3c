// Runs a parsed chat template: statements write text into the output, expressions compute
// values. Scopes follow @huggingface/jinja: a for loop and a macro call each open a scope
// (set inside them stays inside), if blocks do not; a macro body sees its parameters and
// then the scope it was called from.
#pragma once

#include "chat/ast.h"
#include "chat/limits.h"
#include "chat/value.h"

#include <cstdint>
#include <string>
#include <unordered_map>

namespace meswitch::chat {

class Scope {
public:
    explicit Scope(const Scope* parent = nullptr) : parent_(parent) {}
    const Value* find(const std::string& name) const;
    void set(const std::string& name, Value value) { vars_[name] = std::move(value); }

private:
    const Scope* parent_;
    std::unordered_map<std::string, Value> vars_;
};

class Evaluator {
public:
    // Renders program with `globals` as the outermost scope. Throws TemplateRaised for
    // raise_exception(), Error(format / unsupported) with the line for other failures, and
    // LimitExceeded when the template runs away (limits.h: too deep, too many steps, too
    // much output or data, macro recursion).
    std::string render(const Program& program, Scope& globals);

private:
    enum class Flow { normal, break_loop, continue_loop };

    Flow exec_block(const Block& block, Scope& scope, std::string& out);
    Flow exec(const Stmt& s, Scope& scope, std::string& out);
    Flow exec_for(const Stmt& s, Scope& scope, std::string& out);
    void define_macro(const Stmt& s, Scope& scope);
    Value call_macro(const Stmt& s, const CallArgs& args);
    void assign(const Expr& target, Value value, Scope& scope, std::uint32_t line);

    Value eval(const Expr& e, Scope& scope);  // eval_node, counted and depth-checked
    Value eval_node(const Expr& e, Scope& scope);
    Value eval_call(const Expr& e, Scope& scope);
    Value eval_subscript(const Expr& e, Scope& scope);
    Value eval_slice(const Expr& e, Scope& scope);
    CallArgs eval_args(const Expr& e, std::size_t first, Scope& scope);

    // One level of evaluator recursion (a statement or an expression): checks
    // limits::render_depth, counts a step and records the line for errors.
    class Nest {
    public:
        Nest(Evaluator& evaluator, std::uint32_t line);
        ~Nest() { --depth_; }
        Nest(const Nest&) = delete;
        Nest& operator=(const Nest&) = delete;

    private:
        int& depth_;
    };

    void check_size(const std::string& out, std::uint32_t line) const;

    Scope* call_scope_ = nullptr;  // the scope a function is being called from
    int call_depth_ = 0;
    int depth_ = 0;
    RenderBudget budget_;
};

}  // namespace meswitch::chat
