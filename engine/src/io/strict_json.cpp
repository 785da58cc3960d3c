// Strict JSON: a SAX handler that builds the value itself, refusing repeated keys and deep
// nesting as it goes, and turning nlohmann's parse errors into plain words with a line and
// column. nlohmann's SAX parser keeps its own state on a heap stack (no recursion), and this
// builder does too, so 100,000 nested '[' cost a message, not the call stack.

#include "io/strict_json.h"

#include <fstream>
#include <sstream>
#include <system_error>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "meswitch/error.h"

namespace meswitch::io {

namespace {

// 1-based line and column (in characters, counting UTF-8 sequences once) of byte `offset`.
std::string line_column(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            ++line;
            column = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// nlohmann's names of tokens ("string literal", "'['", "<end of input>") in plain words.
std::string token_words(std::string_view token) {
    if (token == "string literal") return "a string in double quotes";
    if (token == "number literal") return "a number";
    if (token == "'true' literal" || token == "'false' literal" || token == "'null' literal")
        return std::string(token.substr(0, token.size() - 8));
    if (token == "<end of input>" || token == "end of input") return "the end of the text";
    if (token == "'[', '{', or a literal" || token == "<literal>" || token == "<uninitialized>")
        return "a value";
    if (token == "<parse error>") return "unreadable text";
    return std::string(token);
}

// Up to 24 characters of the text before and at `offset`, on one line, for "near '...'";
// bytes outside printable ASCII become '?' so that the message stays plain text.
std::string snippet(std::string_view text, std::size_t offset) {
    if (text.empty()) return "";
    offset = std::min(offset, text.size() - 1);
    std::size_t begin = offset >= 24 ? offset - 24 : 0;
    if (const auto nl = text.rfind('\n', offset); nl != std::string_view::npos && nl >= begin)
        begin = nl + 1;
    std::string out;
    for (std::size_t i = begin; i <= offset; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        out += c >= 0x20 && c < 0x7F ? char(c) : '?';
    }
    return out;
}

// The reason of a nlohmann parse_error in plain words, e.g. "found '}' where a string in
// double quotes was expected" or "a string is not closed (missing '\"')".
std::string plain_reason(std::string_view message, const std::string& near) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error while
    // parsing object key - unexpected '}'; expected string literal", or with the lexer's
    // complaint: "... - invalid literal; last read: 'tru,'"
    std::string_view m = message;
    if (const auto dash = m.find(" - "); dash != std::string_view::npos) m.remove_prefix(dash + 3);
    const std::string near_text = near.empty() ? "" : " near '" + near + "'";
    if (const auto lr = m.find("; last read:"); lr != std::string_view::npos) {
        const std::string_view lexer = m.substr(0, lr);
        if (lexer == "invalid literal")
            return "unexpected text" + near_text +
                   " (expected a string in double quotes, a number, true, false, null, an array "
                   "or an object)";
        if (lexer == "invalid string: ill-formed UTF-8 byte")
            return "a string holds bytes that are not valid UTF-8";
        if (lexer == "invalid string: missing closing quote")
            return "a string is not closed (missing '\"')";
        constexpr std::string_view control = "invalid string: control character ";
        if (starts_with(lexer, control)) {
            std::string rest(lexer.substr(control.size()));
            if (const auto e = rest.find(" must be escaped to "); e != std::string::npos)
                rest.replace(e, 20, "; write it as ");
            return "a string holds the raw control character " + rest;
        }
        if (starts_with(lexer, "invalid string: "))
            return "bad string: " + std::string(lexer.substr(16));
        if (starts_with(lexer, "invalid number; "))
            return "bad number" + near_text + ": " + std::string(lexer.substr(16));
        if (starts_with(lexer, "invalid comment")) return "comments are not allowed in JSON";
        return std::string(lexer) + near_text;
    }
    std::string_view expected;
    if (const auto e = m.find("; expected "); e != std::string_view::npos) {
        expected = m.substr(e + 11);
        m = m.substr(0, e);
    }
    if (starts_with(m, "unexpected end of input"))
        return "the text ends before the JSON is complete (an unclosed bracket, brace or string?)";
    if (starts_with(m, "unexpected ")) {
        const std::string found = token_words(m.substr(11));
        if (expected == "end of input" || expected == "<end of input>")
            return "more text after the end of the JSON value (" + found + ")";
        if (expected.empty()) return "unexpected " + found;
        // After a member or an element the parser wants the closing bracket, but a missing
        // comma is just as likely: say both.
        if (expected == "'}'" || expected == "']'")
            return "found " + found + " where ',' or " + std::string(expected) + " was expected";
        return "found " + found + " where " + token_words(expected) + " was expected";
    }
    return std::string(m);
}

template <class BasicJson>
class StrictBuilder {
public:
    using number_integer_t = typename BasicJson::number_integer_t;
    using number_unsigned_t = typename BasicJson::number_unsigned_t;
    using number_float_t = typename BasicJson::number_float_t;
    using string_t = typename BasicJson::string_t;
    using binary_t = typename BasicJson::binary_t;
    using object_t = typename BasicJson::object_t;
    using array_t = typename BasicJson::array_t;
    static constexpr bool ordered = !std::is_same_v<BasicJson, nlohmann::json>;

    StrictBuilder(std::string_view text, const StrictJsonOptions& options)
        : text_(text), options_(options) {}

    BasicJson& root() { return root_; }

    bool null() { return add(BasicJson(nullptr)); }
    bool boolean(bool v) { return add(BasicJson(v)); }
    bool number_integer(number_integer_t v) { return add(BasicJson(v)); }
    bool number_unsigned(number_unsigned_t v) { return add(BasicJson(v)); }
    bool number_float(number_float_t v, const string_t&) { return add(BasicJson(v)); }
    bool string(string_t& v) { return add(BasicJson(std::move(v))); }
    bool binary(binary_t& v) { return add(BasicJson(std::move(v))); }

    bool start_object(std::size_t) {
        open(BasicJson::value_t::object);
        return true;
    }
    bool start_array(std::size_t) {
        open(BasicJson::value_t::array);
        return true;
    }
    bool end_object() {
        frames_.pop_back();
        return true;
    }
    bool end_array() {
        frames_.pop_back();
        return true;
    }

    bool key(string_t& k) {
        Frame& f = frames_.back();
        if constexpr (ordered) {
            if (!f.keys.insert(k).second) duplicate(k);
        } else {
            if (f.value->template get_ref<const object_t&>().count(k)) duplicate(k);
        }
        f.key = std::move(k);
        return true;
    }

    bool parse_error(std::size_t position, const std::string& last_token,
                     const nlohmann::detail::exception& ex) {
        // position counts the characters read, the offending one included.
        const std::size_t offset = position > 0 ? position - 1 : 0;
        if (ex.id == 406) {  // "number overflow parsing '-1e400'": name the key
            const std::size_t number_start =
                position >= last_token.size() ? position - last_token.size() : 0;
            const std::string where = path();
            fail((where.empty() ? std::string() : "key '" + where + "': ") +
                 "number out of range: " + json_excerpt(last_token, 40) + " (" +
                 line_column(text_, number_start) + ")");
        }
        // For a whole token in the wrong place, point at its first character (the lexer's
        // own complaints point where it gave up). nlohmann restarts last_token only for
        // strings and numbers; one-character tokens end where they begin.
        std::size_t where = offset;
        const std::string message = ex.what();
        const bool lexer_error = message.find("; last read:") != std::string::npos;
        const auto token_length = [&]() -> std::size_t {
            if (message.find("unexpected 'true' literal") != std::string::npos) return 4;
            if (message.find("unexpected 'null' literal") != std::string::npos) return 4;
            if (message.find("unexpected 'false' literal") != std::string::npos) return 5;
            const std::string& t = last_token;
            if (t.size() >= 2 && t.front() == '"' && t.back() == '"') return t.size();
            if (!t.empty() && t.find_first_not_of("0123456789+-.eE") == std::string::npos)
                return t.size();
            return 1;
        };
        if (!lexer_error && message.find("unexpected end of input") == std::string::npos &&
            token_length() <= position)
            where = position - token_length();
        std::string at = line_column(text_, where);
        if (where >= text_.size()) at += " (the end of the text)";
        const std::string reason = plain_reason(message, snippet(text_, offset));
        if (options_.what.empty())
            throw Error(ErrorKind::format,
                        options_.label + ": invalid JSON at " + at + ": " + reason);
        throw Error(ErrorKind::format, options_.label + ": " + options_.what +
                                           " is not valid JSON at " + at + ": " + reason);
    }

private:
    struct Frame {
        BasicJson* value = nullptr;
        string_t key;                       // objects: the key whose value comes next
        std::unordered_set<string_t> keys;  // ordered objects: the keys seen so far
    };

    [[noreturn]] void fail(const std::string& problem) const {
        throw Error(
            ErrorKind::format,
            options_.label + ": " + (options_.what.empty() ? "" : options_.what + ": ") + problem);
    }

    [[noreturn]] void duplicate(const string_t& k) const {
        const int depth = static_cast<int>(frames_.size());
        if (options_.duplicate_message)
            throw Error(ErrorKind::format, options_.duplicate_message(k, depth));
        std::string message = options_.label + ": " +
                              (options_.what.empty() ? "" : options_.what + ": ") + "the key '" +
                              json_excerpt(k, 80) + "' appears twice";
        if (depth > 1) message += " in '" + path(frames_.size() - 1) + "'";
        throw Error(ErrorKind::format, message);
    }

    // Where the parser is, as "rope_scaling.factor" or "added_tokens[2].id", over the first
    // `levels` open containers (all by default). Arrays: the element being read.
    std::string path(std::size_t levels = std::size_t(-1)) const {
        std::string out;
        levels = std::min(levels, frames_.size());
        for (std::size_t i = 0; i < levels && out.size() < 200; ++i) {
            const Frame& f = frames_[i];
            if (f.value->is_object()) {
                if (!out.empty()) out += '.';
                out += json_excerpt(f.key, 80);
            } else {
                std::size_t n = f.value->size();
                // Outer arrays already hold the element being read; the innermost does not.
                if (i + 1 < frames_.size() && n > 0) --n;
                out += "[" + std::to_string(n) + "]";
            }
        }
        return out;
    }

    void open(typename BasicJson::value_t type) {
        if (static_cast<int>(frames_.size()) >= options_.max_depth)
            fail("JSON nested more than " + std::to_string(options_.max_depth) + " levels deep");
        BasicJson* slot = place(BasicJson(type));
        frames_.push_back(Frame{slot, {}, {}});
    }

    bool add(BasicJson&& v) {
        place(std::move(v));
        return true;
    }

    // Stores `v` in the innermost container (or as the root) and returns where it lives.
    // Pointers stay valid: a container only grows while it is the innermost one.
    BasicJson* place(BasicJson&& v) {
        if (frames_.empty()) {
            root_ = std::move(v);
            return &root_;
        }
        BasicJson& parent = *frames_.back().value;
        if (parent.is_array()) {
            auto& array = parent.template get_ref<array_t&>();
            array.push_back(std::move(v));
            return &array.back();
        }
        auto& object = parent.template get_ref<object_t&>();
        if constexpr (ordered) {
            // The key is known to be new: append without ordered_map's linear search.
            auto& items = static_cast<typename object_t::Container&>(object);
            items.emplace_back(frames_.back().key, std::move(v));
            return &items.back().second;
        } else {
            return &object.emplace(frames_.back().key, std::move(v)).first->second;
        }
    }

    std::string_view text_;
    const StrictJsonOptions& options_;
    BasicJson root_;
    std::vector<Frame> frames_;
};

}  // namespace

template <class BasicJson>
BasicJson parse_strict_json(std::string_view text, const StrictJsonOptions& options) {
    // nlohmann stops at a NUL byte as if the text ended there; JSON text never holds one.
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
        const std::string at = line_column(text, nul);
        if (options.what.empty())
            throw Error(ErrorKind::format,
                        options.label + ": invalid JSON at " + at + ": a NUL byte (0x00)");
        throw Error(ErrorKind::format, options.label + ": " + options.what +
                                           " is not valid JSON at " + at + ": a NUL byte (0x00)");
    }
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        if (options.what.empty())
            throw Error(ErrorKind::format, options.label + ": invalid JSON: the file is empty");
        throw Error(ErrorKind::format,
                    options.label + ": " + options.what + " is not valid JSON: it is empty");
    }
    StrictBuilder<BasicJson> builder(text, options);
    BasicJson::sax_parse(text.begin(), text.end(), &builder);
    return std::move(builder.root());
}

template nlohmann::ordered_json parse_strict_json<nlohmann::ordered_json>(std::string_view,
                                                                          const StrictJsonOptions&);
template nlohmann::json parse_strict_json<nlohmann::json>(std::string_view,
                                                          const StrictJsonOptions&);

nlohmann::json read_strict_json_file(const std::filesystem::path& file, int max_depth,
                                     std::size_t max_bytes) {
    const std::string label = file.string();
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
        throw Error(ErrorKind::io, label + ": is a folder, not a file");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, label + ": cannot open (missing or unreadable)");
    const auto size = std::filesystem::file_size(file, ec);
    if (!ec && size > max_bytes)
        throw Error(ErrorKind::format, label + ": " + std::to_string(size) +
                                           " bytes is too large for this file (the limit is " +
                                           std::to_string(max_bytes) + " bytes)");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(ErrorKind::io, label + ": read failed");
    const std::string text = std::move(ss).str();
    StrictJsonOptions options;
    options.label = label;
    options.max_depth = max_depth;
    return parse_strict_json<nlohmann::json>(text, options);
}

std::string json_excerpt(const std::string& text, std::size_t max_chars) {
    if (text.size() <= max_chars) return text;
    std::size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut) + "...";
}

std::string plain_json_error(const std::exception& e) {
    std::string detail = e.what();
    if (auto close = detail.find("] ");
        detail.rfind("[json.exception", 0) == 0 && close != std::string::npos)
        detail.erase(0, close + 2);
    return detail;
}

}  // namespace meswitch::io
