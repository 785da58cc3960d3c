#include "chat/errors.h"

#include <string_view>

namespace meswitch::chat {
namespace {

// Messages quote names and text from the template, which may be a megabyte long: keep at
// most `max` bytes of `s`, cut at a UTF-8 boundary.
std::string excerpt(std::string_view s, std::size_t max) {
    if (s.size() <= max) return std::string(s);
    std::size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    return std::string(s.substr(0, end)) + "...";
}

}  // namespace

void fail(ErrorKind kind, std::uint32_t line, const std::string& what) {
    throw Error(kind, "chat template line " + std::to_string(line) + ": " + excerpt(what, 500));
}

TemplateRaised::TemplateRaised(const std::string& message)
    : Error(ErrorKind::format,
            "chat template rejected the conversation: " + excerpt(message, 2000)),
      message_(message) {}

}  // namespace meswitch::chat
