#include "chat/errors.h"

namespace meswitch::chat {

void fail(ErrorKind kind, std::uint32_t line, const std::string& what) {
    throw Error(kind, "chat template line " + std::to_string(line) + ": " + what);
}

TemplateRaised::TemplateRaised(const std::string& message)
    : Error(ErrorKind::format, "chat template rejected the conversation: " + message),
      message_(message) {}

}  // namespace meswitch::chat
