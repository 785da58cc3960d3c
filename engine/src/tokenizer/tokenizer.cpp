// meswitch::Tokenizer: loading tokenizer.json (+ tokenizer_config.json) and the encode/decode
// pipeline: added tokens -> normalizer -> added (normalized) tokens -> pre-tokenizer -> BPE
// model -> post-processor; decode: pieces -> decoder chain.
#include "meswitch/tokenizer.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "io/strict_json.h"
#include "meswitch/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_files.h"
#include "tokenizer/utf8.h"

namespace meswitch {

using tok::Json;

struct Tokenizer::Impl {
    std::filesystem::path file;
    std::string chat_template_origin;
    std::unique_ptr<tok::Normalizer> normalizer;
    std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
    std::unique_ptr<tok::BpeModel> model;
    std::unique_ptr<tok::PostProcessor> post_processor;
    std::unique_ptr<tok::Decoder> decoder;

    std::vector<tok::AddedToken> added;
    std::unordered_map<std::int32_t, std::size_t> added_by_id;  // id -> index in `added`
    tok::TokenIdMap added_by_content;
    std::unordered_set<std::int32_t> special_ids;
    tok::AddedTokenMatcher raw_matcher;         // tokens with normalized=false
    tok::AddedTokenMatcher normalized_matcher;  // tokens with normalized=true
    std::size_t vocab_size = 0;

    tok::TokenizerConfig config;
    std::optional<std::int32_t> bos_id, eos_id;

    std::optional<std::int32_t> lookup(std::string_view token) const {
        if (const auto it = added_by_content.find(token); it != added_by_content.end())
            return it->second;
        return model->token_to_id(token);
    }

    const std::string* piece(std::int32_t id) const {
        if (const auto it = added_by_id.find(id); it != added_by_id.end())
            return &added[it->second].content;
        return model->id_to_token(id);
    }

    void encode_plain(std::string_view text, bool at_start, std::vector<std::int32_t>& ids) const {
        std::string normalized =
            normalizer ? normalizer->normalize(std::string(text)) : std::string(text);
        if (normalized.empty()) return;
        for (const auto& sub : normalized_matcher.split(normalized)) {
            if (sub.id) {
                ids.push_back(*sub.id);
                continue;
            }
            std::vector<tok::PreToken> pieces{
                {normalized.substr(sub.begin, sub.end - sub.begin), at_start && sub.begin == 0}};
            if (pre_tokenizer) pre_tokenizer->pre_tokenize(pieces);
            for (const tok::PreToken& p : pieces) model->encode_word(p.text, ids);
        }
    }
};

namespace {

std::unique_ptr<tok::BpeModel> make_model(const Json& root, const std::string& where) {
    const Json* model = tok::member(root, "model");
    if (!model || !model->is_object())
        tok::fail(ErrorKind::format, where, "'model' is missing or not an object");
    std::string type = tok::get_string(*model, "type", where + ": model", "");
    if (type.empty() && tok::member(*model, "merges")) type = "BPE";  // files that omit the tag
    if (type != "BPE")
        tok::fail(ErrorKind::unsupported, where,
                  "model type '" + (type.empty() ? std::string("(none)") : type) +
                      "' is not supported (only BPE tokenizers: SentencePiece-style with byte "
                      "fallback and byte-level BPE)");
    return std::make_unique<tok::BpeModel>(*model, where);
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_folder(const std::filesystem::path& model_folder) {
    const auto json = model_folder / "tokenizer.json";
    std::error_code ec;
    if (!std::filesystem::exists(json, ec))
        throw Error(ErrorKind::io, json.string() +
                                       ": cannot open (missing or unreadable); the model folder " +
                                       "needs a Hugging Face tokenizer.json");
    const auto config = model_folder / "tokenizer_config.json";
    Tokenizer t = std::filesystem::exists(config, ec) ? from_files(json, config) : from_files(json);
    if (t.impl_->config.chat_template.empty()) {
        std::filesystem::path origin;
        t.impl_->config.chat_template = tok::load_chat_template_file(model_folder, &origin);
        t.impl_->chat_template_origin = origin.string();
    }
    return t;
}

Tokenizer Tokenizer::from_files(const std::filesystem::path& tokenizer_json,
                                const std::optional<std::filesystem::path>& tokenizer_config) {
    auto impl = std::make_unique<Impl>();
    impl->file = tokenizer_json;
    const std::string where = tokenizer_json.string();
    const Json root = tok::parse_json_file(tokenizer_json);
    try {
        tok::require_object(root, where);
        impl->model = make_model(root, where);
        const Json null_json;
        auto component = [&](std::string_view key) -> const Json& {
            const Json* j = tok::member(root, key);
            return j ? *j : null_json;
        };
        impl->normalizer = tok::make_normalizer(component("normalizer"), where + ": normalizer");
        impl->pre_tokenizer =
            tok::make_pre_tokenizer(component("pre_tokenizer"), where + ": pre_tokenizer");
        impl->post_processor =
            tok::make_post_processor(component("post_processor"), where + ": post_processor");
        impl->decoder = tok::make_decoder(component("decoder"), where + ": decoder");

        impl->added = tok::parse_added_tokens(tok::member(root, "added_tokens"), where);
        impl->vocab_size = impl->model->id_limit();
        for (std::size_t i = 0; i < impl->added.size(); ++i) {
            const tok::AddedToken& t = impl->added[i];
            impl->added_by_id[t.id] = i;
            impl->added_by_content[t.content] = t.id;
            if (t.special) impl->special_ids.insert(t.id);
            impl->vocab_size = std::max(impl->vocab_size, static_cast<std::size_t>(t.id) + 1);
            if (t.normalized && impl->normalizer)
                impl->normalized_matcher.add(t, impl->normalizer->normalize(t.content));
            else if (t.normalized)
                impl->normalized_matcher.add(t, t.content);
            else
                impl->raw_matcher.add(t, t.content);
        }
    } catch (const Json::exception& e) {
        throw Error(ErrorKind::format,
                    where + ": unexpected JSON value: " + io::plain_json_error(e));
    }

    if (tokenizer_config) {
        impl->config = tok::load_tokenizer_config(*tokenizer_config);
        if (!impl->config.chat_template.empty())
            impl->chat_template_origin = tokenizer_config->string();
        if (!impl->config.bos_token.empty()) impl->bos_id = impl->lookup(impl->config.bos_token);
        if (!impl->config.eos_token.empty()) impl->eos_id = impl->lookup(impl->config.eos_token);
        // The token is named in tokenizer_config.json but missing from tokenizer.json: most
        // often tokenizer.json is damaged or incomplete, or the two files are from different
        // models. Name both, and what tokenizer.json does hold.
        auto missing_token = [&](const char* flag, const char* key, const std::string& token) {
            return Error(ErrorKind::format,
                         tokenizer_config->string() + ": " + flag + " is true but " + key + " '" +
                             token + "' is not a token of " + where + " (" +
                             std::to_string(impl->vocab_size) + " token ids); " + where +
                             " may be damaged or incomplete, or belong to another model than " +
                             tokenizer_config->string());
        };
        if (impl->config.add_bos_token && !impl->bos_id)
            throw missing_token("add_bos_token", "bos_token", impl->config.bos_token);
        if (impl->config.add_eos_token && !impl->eos_id)
            throw missing_token("add_eos_token", "eos_token", impl->config.eos_token);
    }
    return Tokenizer(std::move(impl));
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool add_special) const {
    const Impl& m = *impl_;
    // Invalid UTF-8 becomes U+FFFD per maximal ill-formed subpart, as a JavaScript string
    // made from the bytes with TextDecoder would hold.
    const std::string input = tok::to_valid_utf8(text);
    std::vector<std::int32_t> ids;
    ids.reserve(input.size() / 3 + 4);
    for (const auto& section : m.raw_matcher.split(input)) {
        if (section.id)
            ids.push_back(*section.id);
        else
            m.encode_plain(
                std::string_view(input).substr(section.begin, section.end - section.begin),
                section.begin == 0, ids);
    }
    if (!add_special) return ids;
    if (m.post_processor && m.post_processor->adds_tokens()) {
        m.post_processor->add_special_tokens(ids);
    } else {
        if (m.post_processor) m.post_processor->add_special_tokens(ids);
        if (m.config.add_bos_token && m.bos_id) ids.insert(ids.begin(), *m.bos_id);
        if (m.config.add_eos_token && m.eos_id) ids.push_back(*m.eos_id);
    }
    return ids;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special) const {
    const Impl& m = *impl_;
    std::vector<std::string> pieces;
    pieces.reserve(ids.size());
    for (std::int32_t id : ids) {
        if (skip_special && m.special_ids.contains(id)) continue;
        if (const std::string* p = m.piece(id)) pieces.push_back(*p);  // unknown ids are skipped
    }
    std::string out;
    if (m.decoder) {
        m.decoder->decode_chain(pieces);
        for (const std::string& p : pieces) out += p;
    } else {
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            if (i) out += ' ';
            out += pieces[i];
        }
    }
    return out;
}

std::size_t Tokenizer::vocab_size() const {
    return impl_->vocab_size;
}
std::optional<std::int32_t> Tokenizer::bos_id() const {
    return impl_->bos_id;
}
std::optional<std::int32_t> Tokenizer::eos_id() const {
    return impl_->eos_id;
}
std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
    return impl_->lookup(token);
}

std::string Tokenizer::id_to_token(std::int32_t id) const {
    const std::string* p = impl_->piece(id);
    return p ? *p : std::string();
}

bool Tokenizer::is_special(std::int32_t id) const {
    return impl_->special_ids.contains(id);
}
const std::string& Tokenizer::chat_template() const {
    return impl_->config.chat_template;
}

const std::string& Tokenizer::chat_template_origin() const {
    return impl_->chat_template_origin;
}
const std::string& Tokenizer::bos_token() const {
    return impl_->config.bos_token;
}
const std::string& Tokenizer::eos_token() const {
    return impl_->config.eos_token;
}

}  // namespace meswitch
