#include "tokenizer/decoder.h"

#include <charconv>

#include "tokenizer/byte_level.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

class SequenceDecoder final : public Decoder {
public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts)
        : parts_(std::move(parts)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (const auto& p : parts_) p->decode_chain(tokens);
    }

private:
    std::vector<std::unique_ptr<Decoder>> parts_;
};

class ReplaceDecoder final : public Decoder {
public:
    ReplaceDecoder(SplitPattern pattern, std::string content)
        : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::string& t : tokens) t = replace_all(t, pattern_, content_);
    }

private:
    SplitPattern pattern_;
    std::string content_;
};

// "<0xAB>" -> 0xAB
std::optional<unsigned char> byte_token(const std::string& t) {
    if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>') return std::nullopt;
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(t.data() + 3, t.data() + 5, value, 16);
    if (ec != std::errc() || ptr != t.data() + 5) return std::nullopt;
    return static_cast<unsigned char>(value);
}

class ByteFallbackDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::vector<std::string> out;
        out.reserve(tokens.size());
        std::string bytes;
        for (std::string& t : tokens) {
            if (const auto b = byte_token(t)) {
                bytes.push_back(static_cast<char>(*b));
                continue;
            }
            if (!bytes.empty()) {
                out.push_back(replace_invalid_bytes(bytes));
                bytes.clear();
            }
            out.push_back(std::move(t));
        }
        if (!bytes.empty()) out.push_back(replace_invalid_bytes(bytes));
        tokens = std::move(out);
    }
};

class FuseDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, std::move(all));
    }
};

// Removes up to `start` leading and `stop` trailing copies of one character from each piece.
class StripDecoder final : public Decoder {
public:
    StripDecoder(std::string content, std::size_t start, std::size_t stop)
        : content_(std::move(content)), start_(start), stop_(stop) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::string& t : tokens) {
            std::size_t begin = 0, end = t.size();
            for (std::size_t k = 0;
                 k < start_ && std::string_view(t).substr(begin).starts_with(content_); ++k)
                begin += content_.size();
            for (std::size_t k = 0; k < stop_ && end >= begin + content_.size() &&
                                    std::string_view(t).substr(0, end).ends_with(content_);
                 ++k)
                end -= content_.size();
            t = t.substr(begin, end - begin);
        }
    }

private:
    std::string content_;
    std::size_t start_, stop_;
};

// Replacement character -> space; the first piece loses one leading space (the one the
// pre-tokenizer prepended) unless prepend_scheme is "never".
class MetaspaceDecoder final : public Decoder {
public:
    MetaspaceDecoder(std::string replacement, bool strip_first)
        : replacement_(SplitPattern::literal(std::move(replacement))), strip_first_(strip_first) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            tokens[i] = replace_all(tokens[i], replacement_, " ");
            if (i == 0 && strip_first_ && tokens[i].starts_with(' ')) tokens[i].erase(0, 1);
        }
    }

private:
    SplitPattern replacement_;
    bool strip_first_;
};

class ByteLevelDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::string bytes;
        std::string mapped;
        for (const std::string& t : tokens) {
            mapped.clear();
            bool all_mapped = true;
            for (std::size_t i = 0; i < t.size() && all_mapped;) {
                const auto b = unicode_to_byte(next_code_point(t, i));
                if (b)
                    mapped.push_back(static_cast<char>(*b));
                else
                    all_mapped = false;
            }
            bytes += all_mapped ? mapped : t;  // pieces outside the mapping pass through as UTF-8
        }
        tokens.assign(1, to_valid_utf8(bytes));
    }
};

class BpeSuffixDecoder final : public Decoder {
public:
    explicit BpeSuffixDecoder(std::string suffix)
        : suffix_(SplitPattern::literal(std::move(suffix))) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
    }

private:
    SplitPattern suffix_;
};

std::size_t get_count(const Json& config, std::string_view key, const std::string& where) {
    const std::int64_t v = get_int(config, key, where, 0);
    if (v < 0) fail(ErrorKind::format, where, "'" + std::string(key) + "' must not be negative");
    return static_cast<std::size_t>(v);
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& config, const std::string& where) {
    if (config.is_null()) return nullptr;
    const std::string type = component_type(config, where);
    const std::string here = where + " (" + type + ")";
    if (type == "Sequence") {
        const Json* list = member(config, "decoders");
        if (!list || !list->is_array()) fail(ErrorKind::format, here, "'decoders' must be a list");
        std::vector<std::unique_ptr<Decoder>> parts;
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto d = make_decoder((*list)[i], where + ".decoders[" + std::to_string(i) + "]");
            if (d) parts.push_back(std::move(d));
        }
        return std::make_unique<SequenceDecoder>(std::move(parts));
    }
    if (type == "Replace") {
        const Json* pattern = member(config, "pattern");
        if (!pattern) fail(ErrorKind::format, here, "'pattern' is missing");
        return std::make_unique<ReplaceDecoder>(SplitPattern::from_json(*pattern, here),
                                                get_string(config, "content", here, ""));
    }
    if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
    if (type == "Fuse") return std::make_unique<FuseDecoder>();
    if (type == "Strip")
        return std::make_unique<StripDecoder>(get_char(config, "content", here, " "),
                                              get_count(config, "start", here),
                                              get_count(config, "stop", here));
    if (type == "Metaspace") {
        bool strip_first = true;
        if (member(config, "prepend_scheme"))
            strip_first = get_string(config, "prepend_scheme", here, "always") != "never";
        else
            strip_first = get_bool(config, "add_prefix_space", here, true);
        return std::make_unique<MetaspaceDecoder>(get_char(config, "replacement", here, "\u2581"),
                                                  strip_first);
    }
    if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
    if (type == "BPEDecoder")
        return std::make_unique<BpeSuffixDecoder>(get_string(config, "suffix", here, "</w>"));
    fail(ErrorKind::unsupported, where,
         "decoder type '" + type +
             "' is not supported (supported: Sequence, Replace, ByteFallback, Fuse, Strip, "
             "Metaspace, "
             "ByteLevel, BPEDecoder)");
}

}  // namespace meswitch::tok
