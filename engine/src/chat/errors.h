// Errors of the chat-template interpreter. Every message starts with "chat template line N:"
// so that a user can find the place in the model's template.
#pragma once

#include "meswitch/error.h"

#include <cstdint>
#include <string>

namespace meswitch::chat {

[[noreturn]] void fail(ErrorKind kind, std::uint32_t line, const std::string& what);

// raise_exception("...") called by the template: the template rejects the conversation.
// what() is "chat template rejected the conversation: <message>".
class TemplateRaised : public Error {
public:
    explicit TemplateRaised(const std::string& message);
    const std::string& template_message() const noexcept { return message_; }

private:
    std::string message_;
};

}  // namespace meswitch::chat
