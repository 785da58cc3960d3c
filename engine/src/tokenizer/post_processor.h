// tokenizer.json "post_processor": adds special tokens around an encoded sequence when encode()
// is asked for them. Supported: TemplateProcessing (single-sequence template), BertProcessing,
// RobertaProcessing (CLS ... SEP), ByteLevel (nothing to do for ids), Sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace meswitch::tok {

class PostProcessor {
public:
    virtual ~PostProcessor() = default;
    virtual void add_special_tokens(std::vector<std::int32_t>& ids) const = 0;
    // Whether this processor adds any token (false for ByteLevel alone); when none does,
    // tokenizer_config.json's add_bos_token / add_eos_token decide.
    virtual bool adds_tokens() const = 0;
};

// nullptr for a JSON null post-processor.
std::unique_ptr<PostProcessor> make_post_processor(const Json& config, const std::string& where);

}  // namespace meswitch::tok
