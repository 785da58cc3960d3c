// Jinja tests ("x is defined", "x is divisibleby(3)", selectattr's "equalto", ...).
#pragma once

#include "chat/value.h"

#include <string_view>

namespace meswitch::chat {

bool is_known_test(std::string_view name);

// Applies the test `name` to operand with the test's own arguments (the "3" of
// "divisibleby(3)"). Throws Error(unsupported) for an unknown name and Error(format) for
// arguments the test cannot use, both with args.line.
bool apply_test(std::string_view name, const Value& operand, const CallArgs& args);

}  // namespace meswitch::chat
