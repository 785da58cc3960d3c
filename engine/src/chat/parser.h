// Parses the tokens of a chat template into statements and expressions, with the grammar
// and operator precedence of @huggingface/jinja (the reference renderer). Syntax errors are
// Error(format) and constructs this interpreter does not implement (a {% call %} block, an
// unknown filter or test, ...) Error(unsupported), both naming the line.
#pragma once

#include "chat/ast.h"
#include "chat/lexer.h"

#include <vector>

namespace meswitch::chat {

Program parse(const std::vector<Token>& tokens);

}  // namespace meswitch::chat
