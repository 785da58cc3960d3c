// tokenizer.json "pre_tokenizer": splits normalized text into words that the model encodes
// independently. Supported: Sequence, Metaspace, ByteLevel, Split, Digits, Whitespace,
// WhitespaceSplit, Punctuation, BertPreTokenizer; other types are Error(unsupported).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace meswitch::tok {

struct PreToken {
    std::string text;
    bool first = false;  // starts at offset 0 of the whole input (Metaspace prepend_scheme "first")
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Replaces `pieces` by their splits (empty pieces are dropped).
    virtual void pre_tokenize(std::vector<PreToken>& pieces) const = 0;
};

// nullptr for a JSON null pre-tokenizer.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& config, const std::string& where);

// The GPT-2 word pattern of the ByteLevel pre-tokenizer.
inline constexpr const char* gpt2_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace meswitch::tok
