// Tokenizer::StreamDecoder: incremental decode for generation. Each push decodes a short window
// of ids and returns the new text up to the last complete character: trailing U+FFFD (bytes
// of a character still arriving) are held back until a later id completes or ends them. Once
// everything decoded so far has been returned, the window shrinks to the last id as context,
// so decoders that act on the first piece (Strip, Metaspace) see the same text as a whole
// decode would, and each push costs O(1) in the length of the stream.
#include "meswitch/tokenizer.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace meswitch {

namespace {

// Whether `text` ends in U+FFFD: bytes of a character still to come (or never completed).
bool ends_in_replacement(std::string_view text) {
    constexpr std::size_t n = tok::replacement_char.size();
    return text.size() >= n && text.substr(text.size() - n) == tok::replacement_char;
}

}  // namespace

Tokenizer::StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

Tokenizer::StreamDecoder::StreamDecoder(const Tokenizer& tokenizer,
                                        std::span<const std::int32_t> context, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {
    // The last context id that is not a skipped special token (a "▁" that decodes to nothing
    // alone still gives the next piece its space), unless it ends in part of a character
    // (trailing U+FFFD): then the text of longer decodes need not begin with its text.
    const auto last = std::find_if(context.rbegin(), context.rend(), [&](std::int32_t id) {
        return !(skip_special_ && tokenizer_->is_special(id));
    });
    if (last == context.rend()) return;
    const std::int32_t id = *last;
    const std::string text = tokenizer_->decode(std::span(&id, 1), skip_special_);
    if (ends_in_replacement(text)) return;
    ids_.assign(1, id);
    emitted_ = text.size();
}

std::string Tokenizer::StreamDecoder::push(std::int32_t id) {
    ids_.push_back(id);
    const std::string text = tokenizer_->decode(ids_, skip_special_);
    if (text.size() <= emitted_) return {};
    constexpr std::size_t fffd = tok::replacement_char.size();
    std::size_t cut = text.size();
    while (cut >= emitted_ + fffd && ends_in_replacement(std::string_view(text).substr(0, cut)))
        cut -= fffd;
    std::string out = text.substr(emitted_, cut - emitted_);
    emitted_ = cut;
    if (cut == text.size() && ids_.size() > 1) {
        // Keep the last id as context when it decodes to text on its own: the decoders'
        // first-piece rules (strip one leading space) then apply to it, not to new ids.
        const std::int32_t last = ids_.back();
        const std::string context = tokenizer_->decode(std::span(&last, 1), skip_special_);
        if (!context.empty()) {
            ids_.assign(1, last);
            emitted_ = context.size();
        }
    }
    return out;
}

std::string Tokenizer::StreamDecoder::flush() {
    const std::string text = tokenizer_->decode(ids_, skip_special_);
    if (text.size() <= emitted_) return {};
    std::string out = text.substr(emitted_);
    emitted_ = text.size();
    return out;
}

}  // namespace meswitch
