// Reading the files of a tokenizer: tokenizer.json text and tokenizer_config.json settings
// (bos/eos/unk token texts, add_bos_token/add_eos_token, chat_template).
#pragma once

#include <filesystem>
#include <string>

#include "tokenizer/json_fields.h"

namespace meswitch::tok {

// The whole file; Error(io) naming it when it is missing or unreadable.
std::string read_text_file(const std::filesystem::path& file);

// Parsed strictly (io::read_strict_json_file): Error(format) naming the file with the line
// and column of invalid JSON, a key given twice, or a number out of range.
Json parse_json_file(const std::filesystem::path& file);

struct TokenizerConfig {
    std::string bos_token;
    std::string eos_token;
    std::string unk_token;
    bool add_bos_token = false;
    bool add_eos_token = false;
    std::string chat_template;  // a list of named templates gives the one named "default"
};

TokenizerConfig load_tokenizer_config(const std::filesystem::path& file);

// chat_template.jinja (or the older chat_template.json) beside the tokenizer files, for
// models whose tokenizer_config.json has no chat_template; "" when neither exists.
// `origin`, when given, receives the file read ("" when neither exists).
std::string load_chat_template_file(const std::filesystem::path& folder,
                                    std::filesystem::path* origin = nullptr);

}  // namespace meswitch::tok
