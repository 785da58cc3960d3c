#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

// Splits every piece into the spans `split` returns for its text.
template <typename SplitFn>
void split_each(std::vector<PreToken>& pieces, SplitFn&& split) {
    std::vector<PreToken> out;
    out.reserve(pieces.size());
    for (PreToken& piece : pieces) {
        for (const auto& [b, e] : split(std::string_view(piece.text)))
            out.push_back({piece.text.substr(b, e - b), piece.first && b == 0});
    }
    pieces = std::move(out);
}

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts)
        : parts_(std::move(parts)) {}
    void pre_tokenize(std::vector<PreToken>& pieces) const override {
        for (const auto& p : parts_) p->pre_tokenize(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

// Splits by a pattern with a behaviour (Split, Digits, Whitespace, Punctuation, ...).
class PatternPreTokenizer final : public PreTokenizer {
public:
    PatternPreTokenizer(SplitPattern pattern, SplitBehavior behavior, bool invert)
        : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
    void pre_tokenize(std::vector<PreToken>& pieces) const override {
        split_each(pieces, [&](std::string_view text) {
            return split_segments(pattern_.segments(text, invert_), behavior_);
        });
    }

private:
    SplitPattern pattern_;
    SplitBehavior behavior_;
    bool invert_;
};

enum class PrependScheme { always, first, never };

class MetaspacePreTokenizer final : public PreTokenizer {
public:
    MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
        : replacement_(std::move(replacement)),
          scheme_(scheme),
          split_(split),
          splitter_(SplitPattern::literal(replacement_)) {}
    void pre_tokenize(std::vector<PreToken>& pieces) const override {
        for (PreToken& piece : pieces) {
            piece.text = replace_all(piece.text, space_, replacement_);
            const bool prepend = scheme_ == PrependScheme::always ||
                                 (scheme_ == PrependScheme::first && piece.first);
            if (prepend && !piece.text.starts_with(replacement_))
                piece.text.insert(0, replacement_);
        }
        if (!split_) {
            std::erase_if(pieces, [](const PreToken& p) { return p.text.empty(); });
            return;
        }
        split_each(pieces, [&](std::string_view text) {
            return split_segments(splitter_.segments(text), SplitBehavior::merged_with_next);
        });
    }

private:
    std::string replacement_;
    PrependScheme scheme_;
    bool split_;
    SplitPattern splitter_;
    SplitPattern space_ = SplitPattern::literal(" ");
};

class ByteLevelPreTokenizer final : public PreTokenizer {
public:
    ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex, const std::string& where)
        : add_prefix_space_(add_prefix_space),
          use_regex_(use_regex),
          pattern_(SplitPattern::regex(gpt2_pattern, where)) {}
    void pre_tokenize(std::vector<PreToken>& pieces) const override {
        for (PreToken& piece : pieces)
            if (add_prefix_space_ && !piece.text.starts_with(' ')) piece.text.insert(0, " ");
        if (use_regex_) {
            split_each(pieces, [&](std::string_view text) {
                return split_segments(pattern_.segments(text), SplitBehavior::isolated);
            });
        }
        std::erase_if(pieces, [](const PreToken& p) { return p.text.empty(); });
        for (PreToken& piece : pieces) piece.text = bytes_to_unicode(piece.text);
    }

private:
    bool add_prefix_space_;
    bool use_regex_;
    SplitPattern pattern_;
};

PrependScheme parse_prepend_scheme(const Json& config, const std::string& where) {
    if (member(config, "prepend_scheme")) {
        const std::string s = get_string(config, "prepend_scheme", where, "always");
        if (s == "always") return PrependScheme::always;
        if (s == "first") return PrependScheme::first;
        if (s == "never") return PrependScheme::never;
        fail(ErrorKind::unsupported, where, "unknown prepend_scheme '" + s + "'");
    }
    // Files written before prepend_scheme existed have add_prefix_space.
    return get_bool(config, "add_prefix_space", where, true) ? PrependScheme::always
                                                             : PrependScheme::never;
}

const char* punctuation_class = R"([\p{P}!-/:-@\[-`{-~])";

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& config, const std::string& where) {
    if (config.is_null()) return nullptr;
    const std::string type = component_type(config, where);
    const std::string here = where + " (" + type + ")";
    if (type == "Sequence") {
        const Json* list = member(config, "pretokenizers");
        if (!list || !list->is_array())
            fail(ErrorKind::format, here, "'pretokenizers' must be a list");
        std::vector<std::unique_ptr<PreTokenizer>> parts;
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto p =
                make_pre_tokenizer((*list)[i], where + ".pretokenizers[" + std::to_string(i) + "]");
            if (p) parts.push_back(std::move(p));
        }
        return std::make_unique<SequencePreTokenizer>(std::move(parts));
    }
    if (type == "Metaspace")
        return std::make_unique<MetaspacePreTokenizer>(
            get_char(config, "replacement", here, "\u2581"), parse_prepend_scheme(config, here),
            get_bool(config, "split", here, true));
    if (type == "ByteLevel")
        return std::make_unique<ByteLevelPreTokenizer>(
            get_bool(config, "add_prefix_space", here, true),
            get_bool(config, "use_regex", here, true), here);
    if (type == "Split") {
        const Json* pattern = member(config, "pattern");
        if (!pattern) fail(ErrorKind::format, here, "'pattern' is missing");
        return std::make_unique<PatternPreTokenizer>(
            SplitPattern::from_json(*pattern, here),
            parse_split_behavior(require_string(config, "behavior", here), here),
            get_bool(config, "invert", here, false));
    }
    if (type == "Digits") {
        const bool individual = get_bool(config, "individual_digits", here, false);
        return std::make_unique<PatternPreTokenizer>(
            SplitPattern::regex(R"(\p{N})", here),  // one match per numeric char
            individual ? SplitBehavior::isolated : SplitBehavior::contiguous, false);
    }
    if (type == "Whitespace")
        return std::make_unique<PatternPreTokenizer>(SplitPattern::regex(R"(\w+|[^\w\s]+)", here),
                                                     SplitBehavior::removed, true);
    if (type == "WhitespaceSplit")
        return std::make_unique<PatternPreTokenizer>(SplitPattern::predicate(is_unicode_whitespace),
                                                     SplitBehavior::removed, false);
    if (type == "Punctuation") {
        const std::string behavior = get_string(config, "behavior", here, "Isolated");
        return std::make_unique<PatternPreTokenizer>(SplitPattern::regex(punctuation_class, here),
                                                     parse_split_behavior(behavior, here), false);
    }
    if (type == "BertPreTokenizer") {
        std::vector<std::unique_ptr<PreTokenizer>> parts;
        parts.push_back(std::make_unique<PatternPreTokenizer>(
            SplitPattern::predicate(is_unicode_whitespace), SplitBehavior::removed, false));
        parts.push_back(std::make_unique<PatternPreTokenizer>(
            SplitPattern::regex(punctuation_class, here), SplitBehavior::isolated, false));
        return std::make_unique<SequencePreTokenizer>(std::move(parts));
    }
    fail(ErrorKind::unsupported, where,
         "pre-tokenizer type '" + type +
             "' is not supported (supported: Sequence, Metaspace, ByteLevel, Split, Digits, "
             "Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer)");
}

}  // namespace meswitch::tok
