// Jinja filters ("x | trim", "messages | selectattr('role', 'equalto', 'user') | list", ...).
#pragma once

#include "chat/value.h"

#include <string_view>

namespace meswitch::chat {

bool is_known_filter(std::string_view name);

// Applies the filter `name` to operand. Throws Error(unsupported) for an unknown name and
// Error(format) for operands or arguments the filter cannot use, both with args.line.
Value apply_filter(std::string_view name, const Value& operand, const CallArgs& args);

}  // namespace meswitch::chat
