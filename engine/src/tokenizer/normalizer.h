// tokenizer.json "normalizer": text rewriting applied to each piece of input between added
// tokens, before pre-tokenization. Supported: Sequence, Prepend, Replace (String or Regex),
// Strip, NFC, NFD (Qwen2 uses NFC), Lowercase (ASCII, Latin-1, Greek and Cyrillic letters);
// anything else (NFKC, NFKD, Precompiled, BertNormalizer, ...) is Error(unsupported).
#pragma once

#include <memory>
#include <string>

#include "tokenizer/json_fields.h"

namespace meswitch::tok {

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual std::string normalize(std::string text) const = 0;
};

// nullptr for a JSON null normalizer. `where` names the file and field for errors.
std::unique_ptr<Normalizer> make_normalizer(const Json& config, const std::string& where);

}  // namespace meswitch::tok
