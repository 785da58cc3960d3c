// The global names every template sees: true/false/none (and True/False/None), range,
// namespace, dict, raise_exception and strftime_now.
#pragma once

#include "chat/evaluator.h"

namespace meswitch::chat {

void add_builtins(Scope& globals);

}  // namespace meswitch::chat
