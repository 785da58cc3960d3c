// tokenizer.json "model" of type BPE: the vocabulary, the merge ranks, and the encoding of one
// pre-tokenized word (unknown characters -> <0xXX> byte tokens with byte_fallback, else the
// unk token, fused when fuse_unk). Other model types are Error(unsupported) naming the type.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_merge.h"
#include "tokenizer/json_fields.h"

namespace meswitch::tok {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenIdMap = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

class BpeModel {
public:
    // `model` is tokenizer.json's "model" object; `where` names the file for errors.
    BpeModel(const Json& model, const std::string& where);

    // Appends the ids of one word (a pre-token) to `out`.
    void encode_word(std::string_view word, std::vector<std::int32_t>& out) const;

    std::optional<std::int32_t> token_to_id(std::string_view token) const;
    // The piece of `id`, nullptr when the vocab has no such id.
    const std::string* id_to_token(std::int32_t id) const;
    std::size_t id_limit() const { return tokens_.size(); }  // largest id + 1

private:
    void encode_uncached(std::string_view word, std::vector<std::int32_t>& out) const;

    TokenIdMap vocab_;
    std::vector<std::string> tokens_;
    std::vector<bool> has_token_;
    MergeMap merges_;
    std::optional<std::int32_t> unk_id_;
    bool fuse_unk_ = false;
    bool byte_fallback_ = false;
    bool ignore_merges_ = false;
    std::string continuing_subword_prefix_;
    std::string end_of_word_suffix_;
    std::array<std::int32_t, 256> byte_ids_{};  // <0xXX> ids, -1 when absent

    static constexpr std::size_t max_cached_word = 256;
    static constexpr std::size_t cache_capacity = 50000;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<std::int32_t>, StringHash, std::equal_to<>>
        cache_;
};

}  // namespace meswitch::tok
