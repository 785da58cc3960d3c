#include "chat/lexer.h"

#include "chat/errors.h"
#include "chat/utf8.h"

#include <array>
#include <string_view>
#include <utility>

namespace meswitch::chat {

const char* describe(Tok type) {
    switch (type) {
        case Tok::text:
            return "text";
        case Tok::comment:
            return "a comment";
        case Tok::open_statement:
            return "'{%'";
        case Tok::close_statement:
            return "'%}'";
        case Tok::open_expression:
            return "'{{'";
        case Tok::close_expression:
            return "'}}'";
        case Tok::string:
            return "a string";
        case Tok::number:
            return "a number";
        case Tok::identifier:
            return "a name";
        case Tok::equals:
            return "'='";
        case Tok::lparen:
            return "'('";
        case Tok::rparen:
            return "')'";
        case Tok::lbracket:
            return "'['";
        case Tok::rbracket:
            return "']'";
        case Tok::lbrace:
            return "'{'";
        case Tok::rbrace:
            return "'}'";
        case Tok::comma:
            return "','";
        case Tok::dot:
            return "'.'";
        case Tok::colon:
            return "':'";
        case Tok::pipe:
            return "'|'";
        case Tok::additive:
            return "an operator";
        case Tok::multiplicative:
            return "an operator";
        case Tok::power:
            return "'**'";
        case Tok::comparison:
            return "a comparison";
        case Tok::unary:
            return "a sign";
    }
    return "a token";
}

namespace {

constexpr std::array<std::pair<std::string_view, Tok>, 29> kFixedTokens = {{
    {"{%", Tok::open_statement},
    {"%}", Tok::close_statement},
    {"{{", Tok::open_expression},
    {"}}", Tok::close_expression},
    {"(", Tok::lparen},
    {")", Tok::rparen},
    {"{", Tok::lbrace},
    {"}", Tok::rbrace},
    {"[", Tok::lbracket},
    {"]", Tok::rbracket},
    {",", Tok::comma},
    {".", Tok::dot},
    {":", Tok::colon},
    {"|", Tok::pipe},
    {"<=", Tok::comparison},
    {">=", Tok::comparison},
    {"==", Tok::comparison},
    {"!=", Tok::comparison},
    {"<", Tok::comparison},
    {">", Tok::comparison},
    {"+", Tok::additive},
    {"-", Tok::additive},
    {"~", Tok::additive},
    {"**", Tok::power},
    {"*", Tok::multiplicative},
    {"//", Tok::multiplicative},
    {"/", Tok::multiplicative},
    {"%", Tok::multiplicative},
    {"=", Tok::equals},
}};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_word(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Lexer {
public:
    explicit Lexer(const Source& source) : src_(source), s_(source.text) {}

    std::vector<Token> run() {
        while (pos_ < s_.size()) {
            if (in_text()) {
                const std::size_t start = pos_;
                while (pos_ < s_.size() && !opens_tag(pos_)) ++pos_;
                if (pos_ > start) {
                    push(Tok::text, s_.substr(start, pos_ - start), start);
                    continue;
                }
            }
            if (starts("{#")) {
                comment();
                continue;
            }
            if (starts("{%-") || starts("{{-")) {
                strip_trailing_whitespace();
                const bool statement = s_[pos_ + 1] == '%';
                push(statement ? Tok::open_statement : Tok::open_expression,
                     statement ? "{%" : "{{", pos_);
                brace_depth_ = 0;
                pos_ += 3;
                continue;
            }
            skip_whitespace();
            if (pos_ >= s_.size()) break;
            if (starts("-%}") || starts("+%}") || starts("-}}")) {
                const bool statement = s_[pos_ + 1] == '%';
                push(statement ? Tok::close_statement : Tok::close_expression,
                     statement ? "%}" : "}}", pos_);
                const bool strip = s_[pos_] == '-';
                pos_ += 3;
                if (strip) skip_whitespace();
                continue;
            }
            const char c = s_[pos_];
            if ((c == '-' || c == '+') && sign_starts_operand()) {
                signed_number_or_unary(c);
                continue;
            }
            if (fixed_token()) continue;
            if (c == '\'' || c == '"') {
                string_literal(c);
                continue;
            }
            if (is_digit(c)) {
                number();
                continue;
            }
            if (is_word(c)) {
                const std::size_t start = pos_;
                while (pos_ < s_.size() && is_word(s_[pos_])) ++pos_;
                push(Tok::identifier, s_.substr(start, pos_ - start), start);
                continue;
            }
            std::size_t len = 0;
            utf8::decode(s_, pos_, len);
            fail(ErrorKind::format, line(pos_),
                 "unexpected character '" + s_.substr(pos_, len) + "' inside a tag");
        }
        return std::move(tokens_);
    }

private:
    std::uint32_t line(std::size_t pos) const { return src_.line_at(pos); }
    bool starts(std::string_view what) const { return s_.compare(pos_, what.size(), what) == 0; }
    bool opens_tag(std::size_t p) const {
        return s_[p] == '{' && p + 1 < s_.size() &&
               (s_[p + 1] == '%' || s_[p + 1] == '{' || s_[p + 1] == '#');
    }
    bool in_text() const {
        if (tokens_.empty()) return true;
        const Tok last = tokens_.back().type;
        return last == Tok::close_statement || last == Tok::close_expression ||
               last == Tok::comment;
    }
    void push(Tok type, std::string value, std::size_t at) {
        tokens_.push_back(Token{type, std::move(value), line(at)});
    }
    void skip_whitespace() {
        while (pos_ < s_.size()) {
            std::size_t len = 0;
            if (!utf8::is_space(utf8::decode(s_, pos_, len))) break;
            pos_ += len;
        }
    }
    void strip_trailing_whitespace() {
        if (tokens_.empty() || tokens_.back().type != Tok::text) return;
        std::string& text = tokens_.back().value;
        text.resize(utf8::trim_end(text).size());
        if (text.empty()) tokens_.pop_back();
    }

    void comment() {
        const std::size_t open = pos_;
        pos_ += 2;
        const bool strip_before = pos_ < s_.size() && s_[pos_] == '-';
        if (strip_before) ++pos_;
        const std::size_t close = s_.find("#}", pos_);
        if (close == std::string::npos)
            fail(ErrorKind::format, line(open), "comment '{#' is never closed with '#}'");
        std::string body = s_.substr(pos_, close - pos_);
        const bool strip_after = !body.empty() && body.back() == '-';
        if (strip_after) body.pop_back();
        if (strip_before) strip_trailing_whitespace();
        push(Tok::comment, std::move(body), open);
        pos_ = close + 2;
        if (strip_after) skip_whitespace();
    }

    // A sign directly after something that cannot end an operand is part of a number or a
    // unary operator ("-1", "-x"); after a value it is a binary operator.
    bool sign_starts_operand() const {
        if (tokens_.empty()) return true;
        switch (tokens_.back().type) {
            case Tok::identifier:
            case Tok::number:
            case Tok::string:
            case Tok::rparen:
            case Tok::rbracket:
                return false;
            default:
                return true;
        }
    }

    void signed_number_or_unary(char sign) {
        const std::size_t start = pos_;
        if (sign == '+' && start >= 2 && s_.compare(start - 2, 2, "{%") == 0 && !tokens_.empty() &&
            tokens_.back().type == Tok::open_statement) {
            ++pos_;  // "{%+": Jinja's opt-out of lstrip_blocks, handled in preprocessing
            return;
        }
        ++pos_;
        std::string digits = read_digits();
        if (!digits.empty() && pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
            ++pos_;
            digits += "." + read_digits();
        }
        if (digits.empty()) {
            push(Tok::unary, std::string(1, sign), start);
        } else {
            push(Tok::number, std::string(1, sign) + digits, start);
        }
    }

    std::string read_digits() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
        return s_.substr(start, pos_ - start);
    }

    void number() {
        const std::size_t start = pos_;
        std::string digits = read_digits();
        const bool after_dot = !tokens_.empty() && tokens_.back().type == Tok::dot;
        if (!after_dot && pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
            ++pos_;
            digits += "." + read_digits();
        }
        push(Tok::number, std::move(digits), start);
    }

    bool fixed_token() {
        for (const auto& [text, type] : kFixedTokens) {
            if (type == Tok::close_expression && brace_depth_ > 0) continue;
            if (!starts(text)) continue;
            push(type, std::string(text), pos_);
            if (type == Tok::open_expression) brace_depth_ = 0;
            if (type == Tok::lbrace) ++brace_depth_;
            if (type == Tok::rbrace) --brace_depth_;
            pos_ += text.size();
            return true;
        }
        return false;
    }

    void string_literal(char quote) {
        const std::size_t open = pos_;
        ++pos_;
        std::string out;
        while (true) {
            if (pos_ >= s_.size())
                fail(ErrorKind::format, line(open), "string literal is never closed");
            const char c = s_[pos_];
            if (c == quote) break;
            if (c != '\\') {
                out.push_back(c);
                ++pos_;
                continue;
            }
            if (pos_ + 1 >= s_.size())
                fail(ErrorKind::format, line(open), "string literal is never closed");
            const char e = s_[pos_ + 1];
            pos_ += 2;
            switch (e) {
                case 'n':
                    out.push_back('\n');
                    break;
                case 't':
                    out.push_back('\t');
                    break;
                case 'r':
                    out.push_back('\r');
                    break;
                case 'b':
                    out.push_back('\b');
                    break;
                case 'f':
                    out.push_back('\f');
                    break;
                case 'v':
                    out.push_back('\v');
                    break;
                case 'a':
                    out.push_back('\a');
                    break;
                case '\'':
                    out.push_back('\'');
                    break;
                case '"':
                    out.push_back('"');
                    break;
                case '\\':
                    out.push_back('\\');
                    break;
                case 'x':
                    utf8::append(out, hex_escape(2, open));
                    break;
                case 'u':
                    unicode_escape(out, open);
                    break;
                case 'U':
                    utf8::append(out, hex_escape(8, open));
                    break;
                default:  // Python keeps unknown escapes as they are
                    out.push_back('\\');
                    out.push_back(e);
            }
        }
        ++pos_;
        push(Tok::string, std::move(out), open);
    }

    char32_t hex_escape(std::size_t digits, std::size_t open) {
        char32_t value = 0;
        for (std::size_t i = 0; i < digits; ++i) {
            const int h = pos_ < s_.size() ? hex_value(s_[pos_]) : -1;
            if (h < 0)
                fail(ErrorKind::format, line(open),
                     "invalid hexadecimal escape in a string literal (expected " +
                         std::to_string(digits) + " hex digits)");
            value = value * 16 + static_cast<char32_t>(h);
            ++pos_;
        }
        return value;
    }

    // \uXXXX, joining a UTF-16 surrogate pair written as two escapes.
    void unicode_escape(std::string& out, std::size_t open) {
        char32_t cp = hex_escape(4, open);
        if (cp >= 0xD800 && cp <= 0xDBFF && s_.compare(pos_, 2, "\\u") == 0) {
            const std::size_t save = pos_;
            pos_ += 2;
            const char32_t low = hex_escape(4, open);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
                pos_ = save;
            }
        }
        utf8::append(out, cp);  // a lone surrogate becomes U+FFFD
    }

    const Source& src_;
    const std::string& s_;
    std::size_t pos_ = 0;
    int brace_depth_ = 0;
    std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const Source& source) {
    return Lexer(source).run();
}

}  // namespace meswitch::chat
