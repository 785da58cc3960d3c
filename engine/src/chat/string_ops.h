// String operations shared by filters and string methods, with Python's semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meswitch::chat::strings {

enum class Side { both, start, end };

// Without chars: JavaScript whitespace (what the reference's trim() removes); with chars:
// any of those code points, as Python's str.strip(chars).
std::string strip(std::string_view s, Side side, const std::optional<std::string>& chars = {});

std::string capitalize(std::string_view s);  // first letter upper, the rest lower
std::string title(std::string_view s);       // each word's first letter upper, the rest lower

// Python's str.split: sep absent splits on runs of whitespace and drops empty ends.
// maxsplit < 0: no limit. Precondition: sep, when given, is not empty.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep,
                               std::int64_t maxsplit);

// Python's str.replace; count < 0: all. An empty `from` inserts `to` between code points.
std::string replace(std::string_view s, std::string_view from, std::string_view to,
                    std::int64_t count);

}  // namespace meswitch::chat::strings
