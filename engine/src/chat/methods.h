// Attribute access (object.name) and the methods templates call on values: string methods
// (strip, split, startswith, replace, ...), dict methods (get, items, keys, values) and the
// "length" property of strings and lists.
#pragma once

#include "chat/value.h"

#include <string>

namespace meswitch::chat {

// Dict keys and namespace attributes first, then methods (returned as bound functions);
// undefined when the object has neither.
Value get_attribute(const Value& object, const std::string& name);

}  // namespace meswitch::chat
