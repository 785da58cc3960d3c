#include "tokenizer/normalizer.h"

#include <vector>

#include "tokenizer/split.h"
#include "tokenizer/unicode_normalize.h"
#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

class SequenceNormalizer final : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts)
        : parts_(std::move(parts)) {}
    std::string normalize(std::string text) const override {
        for (const auto& p : parts_) text = p->normalize(std::move(text));
        return text;
    }

private:
    std::vector<std::unique_ptr<Normalizer>> parts_;
};

// Prepends a string to non-empty text (the Rust library leaves empty text alone).
class PrependNormalizer final : public Normalizer {
public:
    explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
    std::string normalize(std::string text) const override {
        if (text.empty()) return text;
        return prefix_ + text;
    }

private:
    std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
public:
    ReplaceNormalizer(SplitPattern pattern, std::string content)
        : pattern_(std::move(pattern)), content_(std::move(content)) {}
    std::string normalize(std::string text) const override {
        return replace_all(text, pattern_, content_);
    }

private:
    SplitPattern pattern_;
    std::string content_;
};

class StripNormalizer final : public Normalizer {
public:
    StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
    std::string normalize(std::string text) const override {
        std::size_t begin = 0, end = text.size();
        if (left_) {
            while (begin < end) {
                std::size_t i = begin;
                if (!is_unicode_whitespace(next_code_point(text, i))) break;
                begin = i;
            }
        }
        if (right_) {
            while (end > begin) {
                std::size_t start = end - 1;
                while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
                    --start;
                std::size_t i = start;
                if (!is_unicode_whitespace(next_code_point(text, i))) break;
                end = start;
            }
        }
        return text.substr(begin, end - begin);
    }

private:
    bool left_, right_;
};

// Lowercases the scripts with a simple one-to-one case mapping: ASCII, Latin-1, Greek and
// Cyrillic capitals. Other characters are kept as they are.
char32_t to_lower(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

class NfcNormalizer final : public Normalizer {
public:
    std::string normalize(std::string text) const override { return to_nfc(text); }
};

class NfdNormalizer final : public Normalizer {
public:
    std::string normalize(std::string text) const override { return to_nfd(text); }
};

class LowercaseNormalizer final : public Normalizer {
public:
    std::string normalize(std::string text) const override {
        std::string out;
        out.reserve(text.size());
        for (std::size_t i = 0; i < text.size();)
            append_code_point(out, to_lower(next_code_point(text, i)));
        return out;
    }
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& config, const std::string& where) {
    if (config.is_null()) return nullptr;
    const std::string type = component_type(config, where);
    const std::string here = where + " (" + type + ")";
    if (type == "Sequence") {
        const Json* list = member(config, "normalizers");
        if (!list || !list->is_array())
            fail(ErrorKind::format, here, "'normalizers' must be a list");
        std::vector<std::unique_ptr<Normalizer>> parts;
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto n = make_normalizer((*list)[i], where + ".normalizers[" + std::to_string(i) + "]");
            if (n) parts.push_back(std::move(n));
        }
        return std::make_unique<SequenceNormalizer>(std::move(parts));
    }
    if (type == "Prepend")
        return std::make_unique<PrependNormalizer>(require_string(config, "prepend", here));
    if (type == "Replace") {
        const Json* pattern = member(config, "pattern");
        if (!pattern) fail(ErrorKind::format, here, "'pattern' is missing");
        return std::make_unique<ReplaceNormalizer>(SplitPattern::from_json(*pattern, here),
                                                   get_string(config, "content", here, ""));
    }
    if (type == "Strip")
        return std::make_unique<StripNormalizer>(get_bool(config, "strip_left", here, true),
                                                 get_bool(config, "strip_right", here, true));
    if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
    if (type == "NFC") return std::make_unique<NfcNormalizer>();
    if (type == "NFD") return std::make_unique<NfdNormalizer>();
    fail(ErrorKind::unsupported, where,
         "normalizer type '" + type +
             "' is not supported (supported: Sequence, Prepend, Replace, Strip, Lowercase, NFC, "
             "NFD)");
}

}  // namespace meswitch::tok
