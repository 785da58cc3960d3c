// Binary and unary operators of template expressions (everything but the short-circuiting
// "and" / "or"): arithmetic with integer overflow checks, comparisons, membership ("in"),
// concatenation ("~").
#pragma once

#include "chat/value.h"

#include <cstdint>
#include <string_view>

namespace meswitch::chat {

// op: + - * / // % ** ~ == != < > <= >= in "not in". Throws Error(format) with the line on
// operands the operator does not accept (undefined and none included, except for ==, !=,
// ~ and a right-hand undefined of "in").
Value binary_op(std::string_view op, const Value& left, const Value& right, std::uint32_t line);

// op: not - +
Value unary_op(std::string_view op, const Value& operand, std::uint32_t line);

// Python-style item access: lists and strings by (negative) integer index, dicts and
// namespaces by key; undefined when absent.
Value get_item(const Value& object, const Value& key);

}  // namespace meswitch::chat
