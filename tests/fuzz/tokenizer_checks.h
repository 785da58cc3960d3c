// The encode/decode round of the two tokenizer targets: encode a text, decode the ids with and
// without special tokens, stream-decode them, and check what meswitch/tokenizer.h promises:
// ids inside the vocabulary, valid UTF-8 out of decode(), and streamed pieces that
// concatenate to decode() of the same ids.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "meswitch/tokenizer.h"

namespace meswitch::fuzz {

// decode() of the ids must be valid UTF-8; with `stream`, the pieces of a StreamDecoder fed the
// same ids (the first max_stream_ids of them: streaming re-decodes a window per id, which
// grows while the bytes of an incomplete character arrive) must be too, and concatenate to
// decode() of those ids.
inline constexpr std::size_t max_stream_ids = 128;

inline void check_decode(const Tokenizer& tok, std::span<const std::int32_t> ids, bool skip_special,
                         bool stream_too = true) {
    FUZZ_CHECK(is_valid_utf8(tok.decode(ids, skip_special)));
    if (!stream_too) return;
    ids = ids.first(std::min(ids.size(), max_stream_ids));
    const std::string text = tok.decode(ids, skip_special);
    Tokenizer::StreamDecoder stream(tok, skip_special);
    std::string streamed;
    for (std::int32_t id : ids) {
        const std::string piece = stream.push(id);
        FUZZ_CHECK(is_valid_utf8(piece));
        streamed += piece;
    }
    streamed += stream.flush();
    FUZZ_CHECK(streamed == text);
}

// One encode, then decode and stream decode of its ids (the fuzz input picks both flags: each
// run pays for one pass of each, which keeps the targets fast).
inline std::vector<std::int32_t> check_encode(const Tokenizer& tok, std::string_view text,
                                              bool add_special, bool skip_special,
                                              bool stream_too = true) {
    const std::vector<std::int32_t> ids = tok.encode(text, add_special);
    for (std::int32_t id : ids) {
        FUZZ_CHECK(id >= 0);
        consume(tok.id_to_token(id));
    }
    check_decode(tok, ids, skip_special, stream_too);
    return ids;
}

// Token-level queries around the vocabulary's edges.
inline void check_vocabulary(const Tokenizer& tok) {
    const auto n = static_cast<std::int64_t>(tok.vocab_size());
    for (std::int64_t id :
         {std::int64_t(-1), std::int64_t(0), n - 1, n, n + 1, std::int64_t(INT32_MAX)}) {
        if (id < INT32_MIN || id > INT32_MAX) continue;
        const auto i = static_cast<std::int32_t>(id);
        const std::string piece = tok.id_to_token(i);
        (void)tok.is_special(i);
        if (!piece.empty()) (void)tok.token_to_id(piece);
    }
    (void)tok.bos_id();
    (void)tok.eos_id();
    consume(tok.bos_token());
    consume(tok.eos_token());
    consume(tok.chat_template());
}

}  // namespace meswitch::fuzz
