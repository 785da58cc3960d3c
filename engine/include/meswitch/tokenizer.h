// Hugging Face tokenizer.json tokenizers: SentencePiece-style BPE with byte fallback and
// byte-level BPE (GPT-2 / Llama-3 / Qwen2), added and special tokens, tokenizer_config.json.
// Ids match the Rust `tokenizers` library (tests compare with @huggingface/tokenizers).
// Only model type BPE is supported; Unigram/WordPiece/WordLevel and unknown normalizer,
// pre-tokenizer, decoder or post-processor types are Error(unsupported) naming the type.
// truncation/padding settings in tokenizer.json are ignored. A Tokenizer is immutable after
// loading: encode/decode may be called from several threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meswitch {

class Tokenizer {
public:
    // Loads tokenizer.json and, when present beside it, tokenizer_config.json (bos/eos,
    // add_bos_token, add_eos_token, chat_template). Errors name the file and the problem.
    static Tokenizer from_folder(const std::filesystem::path& model_folder);
    static Tokenizer from_files(const std::filesystem::path& tokenizer_json,
                                const std::optional<std::filesystem::path>& tokenizer_config = {});

    ~Tokenizer();
    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;

    // add_special: apply the post-processor / add_bos_token (BOS for Llama-style models).
    // Added/special token text in `text` (e.g. "<s>") is matched as that token. Invalid UTF-8
    // is read as if each maximal ill-formed subpart were U+FFFD (as a JavaScript string decoded
    // from the bytes would be), never an error.
    std::vector<std::int32_t> encode(std::string_view text, bool add_special = true) const;
    // The tokenizer.json decoder alone (no transformers-style "clean up tokenization spaces");
    // ids outside the vocabulary are skipped. Always returns valid UTF-8.
    std::string decode(std::span<const std::int32_t> ids, bool skip_special = true) const;

    std::size_t vocab_size() const;
    std::optional<std::int32_t> bos_id() const;
    std::optional<std::int32_t> eos_id() const;
    std::optional<std::int32_t> token_to_id(std::string_view token) const;
    std::string id_to_token(std::int32_t id) const;  // the raw piece, "" if out of range
    bool is_special(std::int32_t id) const;
    const std::string& chat_template() const;  // "" when tokenizer_config has none
    // The file the chat template was read from (tokenizer_config.json, chat_template.jinja or
    // chat_template.json), for messages; "" when there is no template.
    const std::string& chat_template_origin() const;
    const std::string& bos_token() const;  // text of the BOS token, "" if none
    const std::string& eos_token() const;

    // Streaming decode: push ids one by one, get back only complete UTF-8 text. The pieces
    // returned by push() and flush() concatenate to decode(all ids pushed).
    class StreamDecoder {
    public:
        explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = true);
        // `context`: ids already shown before the stream (a generation's prompt). Their text is
        // not returned, but the decoders' first-piece rules see them, so that the first pushed
        // id reads as it does after them in a whole decode ("Tom went to the store and" + " saw",
        // not "saw": decoders strip one leading space from the first piece only).
        StreamDecoder(const Tokenizer& tokenizer, std::span<const std::int32_t> context,
                      bool skip_special = true);
        std::string push(std::int32_t id);  // never returns half a UTF-8 character
        std::string flush();                // what is left (invalid bytes become U+FFFD)

    private:
        const Tokenizer* tokenizer_;
        bool skip_special_;
        std::vector<std::int32_t> ids_;
        std::size_t emitted_ = 0;  // bytes of decode(ids_) already returned
    };

private:
    struct Impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace meswitch
