#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

std::pair<std::string, std::string> parse_merge(const Json& m, std::size_t index,
                                                const std::string& where) {
    const std::string here = where + ": model.merges[" + std::to_string(index) + "]";
    if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const std::size_t space = s.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 >= s.size())
            fail(ErrorKind::format, here, "'" + s + "' is not of the form \"left right\"");
        return {s.substr(0, space), s.substr(space + 1)};
    }
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        return {m[0].get<std::string>(), m[1].get<std::string>()};
    fail(ErrorKind::format, here, "must be a \"left right\" string or a [left, right] pair");
}

}  // namespace

BpeModel::BpeModel(const Json& model, const std::string& where) {
    const std::string here = where + ": model (BPE)";
    const Json* vocab = member(model, "vocab");
    if (!vocab || !vocab->is_object())
        fail(ErrorKind::format, here, "'vocab' must be an object of token -> id");
    vocab_.reserve(vocab->size());
    std::int64_t max_id = -1;
    for (const auto& [token, id] : vocab->items()) {
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
            id.get<std::int64_t>() > INT32_MAX)
            fail(ErrorKind::format, here,
                 "vocab id of '" + token + "' is not a non-negative 32-bit integer");
        vocab_.emplace(token, static_cast<std::int32_t>(id.get<std::int64_t>()));
        max_id = std::max(max_id, id.get<std::int64_t>());
    }
    if (max_id >= static_cast<std::int64_t>(vocab_.size()) * 4 + 1024)
        fail(ErrorKind::format, here,
             "vocab ids are sparse up to " + std::to_string(max_id) + " for " +
                 std::to_string(vocab_.size()) + " tokens");
    tokens_.resize(static_cast<std::size_t>(max_id + 1));
    has_token_.assign(tokens_.size(), false);
    for (const auto& [token, id] : vocab_) {
        tokens_[id] = token;
        has_token_[id] = true;
    }

    continuing_subword_prefix_ = get_string(model, "continuing_subword_prefix", here, "");
    end_of_word_suffix_ = get_string(model, "end_of_word_suffix", here, "");
    fuse_unk_ = get_bool(model, "fuse_unk", here, false);
    byte_fallback_ = get_bool(model, "byte_fallback", here, false);
    ignore_merges_ = get_bool(model, "ignore_merges", here, false);
    // "dropout" is a training-time regularizer and is ignored: encoding is deterministic.
    if (const Json* unk = member(model, "unk_token")) {
        if (!unk->is_string()) fail(ErrorKind::format, here, "'unk_token' must be a string");
        const auto id = token_to_id(unk->get<std::string>());
        if (!id)
            fail(ErrorKind::format, here,
                 "unk_token '" + unk->get<std::string>() + "' is not in the vocab");
        unk_id_ = *id;
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        byte_ids_[b] = token_to_id(name).value_or(-1);
    }

    const Json* merges = member(model, "merges");
    if (merges && !merges->is_array()) fail(ErrorKind::format, here, "'merges' must be a list");
    if (merges) {
        merges_.reserve(merges->size());
        for (std::size_t i = 0; i < merges->size(); ++i) {
            auto [left, right] = parse_merge((*merges)[i], i, where);
            const auto l = token_to_id(left), r = token_to_id(right);
            std::string merged = left;
            merged += std::string_view(right).substr(right.starts_with(continuing_subword_prefix_)
                                                         ? continuing_subword_prefix_.size()
                                                         : 0);
            const auto m = token_to_id(merged);
            if (!l || !r || !m)
                fail(
                    ErrorKind::format, where + ": model.merges[" + std::to_string(i) + "]",
                    "merge '" + left + "' + '" + right + "' uses a token that is not in the vocab");
            // A repeated pair keeps its last rank, as the Rust library and tokenizers.js do.
            merges_.insert_or_assign(pair_key(*l, *r),
                                     MergeRule{static_cast<std::uint32_t>(i), *m});
        }
    }
}

std::optional<std::int32_t> BpeModel::token_to_id(std::string_view token) const {
    const auto it = vocab_.find(token);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::id_to_token(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size() || !has_token_[id]) return nullptr;
    return &tokens_[id];
}

void BpeModel::encode_word(std::string_view word, std::vector<std::int32_t>& out) const {
    if (word.empty()) return;
    if (ignore_merges_) {
        if (const auto id = token_to_id(word)) {
            out.push_back(*id);
            return;
        }
    }
    if (word.size() > max_cached_word) {
        encode_uncached(word, out);
        return;
    }
    {
        std::lock_guard lock(cache_mutex_);
        const auto it = cache_.find(word);
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<std::int32_t> ids;
    encode_uncached(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= cache_capacity) cache_.clear();
    cache_.emplace(std::string(word), std::move(ids));
}

void BpeModel::encode_uncached(std::string_view word, std::vector<std::int32_t>& out) const {
    std::vector<std::int32_t> ids;
    ids.reserve(word.size());
    std::optional<std::int32_t> pending_unk;  // a (fused) unk waiting to be added
    std::string piece;
    for (std::size_t i = 0; i < word.size();) {
        const std::size_t len = char_length(word, i);
        const std::string_view ch = word.substr(i, len);
        const bool first = i == 0;
        i += len;
        const bool last = i >= word.size();
        piece.clear();
        if (!first) piece += continuing_subword_prefix_;
        piece += ch;
        if (last) piece += end_of_word_suffix_;

        if (const auto id = token_to_id(piece)) {
            if (pending_unk) ids.push_back(*std::exchange(pending_unk, std::nullopt));
            ids.push_back(*id);
            continue;
        }
        if (byte_fallback_) {
            bool all = true;
            for (char c : ch) all = all && byte_ids_[static_cast<unsigned char>(c)] >= 0;
            if (all) {
                if (pending_unk) ids.push_back(*std::exchange(pending_unk, std::nullopt));
                for (char c : ch) ids.push_back(byte_ids_[static_cast<unsigned char>(c)]);
                continue;
            }
        }
        if (!unk_id_) continue;  // no unk token: the character has no representation
        if (pending_unk && !fuse_unk_) ids.push_back(*pending_unk);
        pending_unk = unk_id_;
    }
    if (pending_unk) ids.push_back(*pending_unk);
    merge_symbols(ids, merges_);
    out.insert(out.end(), ids.begin(), ids.end());
}

}  // namespace meswitch::tok
