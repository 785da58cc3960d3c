#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "meswitch/error.h"
#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

std::string pcre2_message(int code) {
    PCRE2_UCHAR buffer[256];
    const int n = pcre2_get_error_message(code, buffer, sizeof buffer);
    if (n < 0) return "PCRE2 error " + std::to_string(code);
    return std::string(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
}

struct MatchData {
    pcre2_match_data* data = nullptr;
    explicit MatchData(const pcre2_code* code)
        : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
    ~MatchData() { pcre2_match_data_free(data); }
    MatchData(const MatchData&) = delete;
    MatchData& operator=(const MatchData&) = delete;
};

}  // namespace

struct Regex::Code {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Code() { pcre2_code_free(code); }
};

Regex::Regex(std::string_view pattern, const std::string& context)
    : code_(std::make_unique<Code>()), pattern_(pattern), context_(context) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (!code_->code)
        throw Error(ErrorKind::format, context + ": invalid regular expression '" +
                                           std::string(pattern) + "' at offset " +
                                           std::to_string(offset) + ": " + pcre2_message(error));
    code_->jit = pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::vector<std::pair<std::size_t, std::size_t>> Regex::find_all(std::string_view text) const {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    MatchData md(code_->code);
    if (!md.data)
        throw Error(ErrorKind::out_of_memory, context_ + ": cannot allocate regex match data");
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t start = 0;
    bool use_jit = code_->jit;
    while (start <= text.size()) {
        const std::uint32_t options = PCRE2_NO_UTF_CHECK | (use_jit ? 0u : PCRE2_NO_JIT);
        const int rc =
            pcre2_match(code_->code, subject, text.size(), start, options, md.data, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && use_jit) {
            use_jit = false;  // retry this position with the interpreter (heap-based frames)
            continue;
        }
        if (rc < 0)
            throw Error(ErrorKind::invalid_argument,
                        context_ + ": matching '" + pattern_ + "' failed: " + pcre2_message(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
        const std::size_t b = ov[0], e = ov[1];
        if (e > b) {
            out.emplace_back(b, e);
            start = e;
        } else {
            // Empty match: not a piece; move on by one character.
            if (b >= text.size()) break;
            start = b + char_length(text, b);
        }
    }
    return out;
}

}  // namespace meswitch::tok
