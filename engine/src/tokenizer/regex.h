// A compiled PCRE2 pattern (UTF + Unicode properties, JIT when available) for the regular
// expressions of tokenizer.json (GPT-2, Llama-3 and Qwen2 split patterns, Replace patterns).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meswitch::tok {

class Regex {
public:
    // Throws Error(format) naming `context` and the PCRE2 message when the pattern is invalid.
    Regex(std::string_view pattern, const std::string& context);
    ~Regex();
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;

    // All non-overlapping, non-empty matches as [begin, end) byte offsets, left to right.
    // `text` must be valid UTF-8. Safe to call from several threads at once.
    std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

    const std::string& pattern() const { return pattern_; }

private:
    struct Code;
    std::unique_ptr<Code> code_;
    std::string pattern_;
    std::string context_;
};

}  // namespace meswitch::tok
