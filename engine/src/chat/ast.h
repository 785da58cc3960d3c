// The parsed form of a chat template: statements (text, output, if, for, set, macro, ...)
// holding expression trees. Every node keeps its line for error messages.
#pragma once

#include "chat/value.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace meswitch::chat {

enum class ExprKind {
    literal,      // value
    identifier,   // name
    list,         // children: items
    tuple,        // children: items
    dict,         // children: key, value, key, value, ...
    attribute,    // children[0].name (name: the attribute)
    subscript,    // children[0][children[1]]
    slice,        // children[0][children[1]:children[2]:children[3]] (absent parts: null)
    call,         // children[0](children[1..], kwargs)
    filter,       // children[0] | name(children[1..], kwargs)
    test,         // children[0] is [not] name(children[1..])
    unary,        // name: "not", "-", "+"; children[0]
    binary,       // name: the operator; children[0], children[1]
    conditional,  // children[1] if children[0] else children[2]
    select,       // children[0] if children[1] (no else: undefined when false)
};

struct Expr {
    ExprKind kind;
    std::uint32_t line = 0;
    int height = 1;  // levels of this tree (1: no children), at most limits::expression_depth
    std::string name;
    Value value;
    bool negate = false;  // "is not"
    std::vector<std::unique_ptr<Expr>> children;
    std::vector<std::pair<std::string, std::unique_ptr<Expr>>> kwargs;
};
using ExprPtr = std::unique_ptr<Expr>;

enum class StmtKind {
    text,       // text
    output,     // {{ expr }}
    if_,        // if expr: body else else_body (elif: a nested if in else_body)
    for_,       // for target in expr [if condition]: body else else_body
    set,        // set target = expr
    set_block,  // set target: body rendered to a string
    macro,      // macro name(params): body
    break_,
    continue_,
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

struct Stmt {
    StmtKind kind;
    std::uint32_t line = 0;
    std::string text;   // text; the macro's name
    ExprPtr expr;       // output, if test, for iterable, set value
    ExprPtr target;     // set / for target: identifier, tuple of identifiers, attribute
    ExprPtr condition;  // for ... if condition
    Block body;
    Block else_body;
    std::vector<std::pair<std::string, ExprPtr>> params;  // macro: name and default (or null)
};

struct Program {
    Block body;
};

}  // namespace meswitch::chat
