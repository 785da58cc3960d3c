// tokenizer.json "decoder": turns token pieces back into text. Supported: Sequence, Replace,
// ByteFallback, Fuse, Strip, Metaspace, ByteLevel, BPEDecoder; others are Error(unsupported).
// Invalid UTF-8: ByteFallback replaces each byte that is not part of a well-formed sequence
// with U+FFFD (the Rust library replaces the whole byte run when any of it is invalid; per-byte
// replacement keeps decoding prefix-stable for streaming); ByteLevel replaces each maximal
// ill-formed subpart with one U+FFFD, as Rust's String::from_utf8_lossy does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace meswitch::tok {

class Decoder {
public:
    virtual ~Decoder() = default;
    virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// nullptr for a JSON null decoder (pieces are then joined with spaces).
std::unique_ptr<Decoder> make_decoder(const Json& config, const std::string& where);

}  // namespace meswitch::tok
