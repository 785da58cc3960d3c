#include "tiny_model.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "meswitch/error.h"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace meswitch::test {

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

namespace {

[[noreturn]] void bad_spec(const std::string& problem) {
    throw Error(ErrorKind::invalid_argument, "tiny model spec: " + problem);
}

std::uint64_t name_hash(const std::string& name) {  // FNV-1a
    std::uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
    return h;
}

// Uniform in [0, 1) with 24 random bits: exactly representable in float.
float uniform01(std::uint64_t& state) {
    return float(splitmix64(state) >> 40) * (1.0f / 16777216.0f);
}

std::vector<float> random_values(std::uint64_t seed, const std::string& name, std::size_t n,
                                 float center, float half_width) {
    std::uint64_t state = seed ^ name_hash(name);
    std::vector<float> v(n);
    for (auto& x : v) x = center + (uniform01(state) * 2.0f - 1.0f) * half_width;
    return v;
}

void check_spec(const TinyModelSpec& s) {
    if (s.arch != "llama" && s.arch != "mistral" && s.arch != "qwen2")
        bad_spec("unknown arch '" + s.arch + "' (llama, mistral or qwen2)");
    if (s.hidden <= 0 || s.intermediate <= 0 || s.layers <= 0 || s.heads <= 0 || s.kv_heads <= 0)
        bad_spec("sizes must be positive");
    if (s.hidden % s.heads != 0) bad_spec("heads must divide hidden");
    if (s.heads % s.kv_heads != 0) bad_spec("kv_heads must divide heads");
    if (s.vocab < 259) bad_spec("vocab must be at least 259 (3 specials + 256 byte tokens)");
    if (s.dtype != DType::f32 && s.dtype != DType::f16 && s.dtype != DType::bf16)
        bad_spec("dtype must be f32, f16 or bf16");
    if (s.shards < 1) bad_spec("shards must be at least 1");
}

const char* torch_dtype(DType d) {
    switch (d) {
        case DType::f16:
            return "float16";
        case DType::bf16:
            return "bfloat16";
        default:
            return "float32";
    }
}

json make_config(const TinyModelSpec& s) {
    const bool mistral = s.arch == "mistral", qwen2 = s.arch == "qwen2";
    json c;
    c["architectures"] = {mistral ? "MistralForCausalLM"
                          : qwen2 ? "Qwen2ForCausalLM"
                                  : "LlamaForCausalLM"};
    c["model_type"] = s.arch;
    c["hidden_size"] = s.hidden;
    c["intermediate_size"] = s.intermediate;
    c["num_hidden_layers"] = s.layers;
    c["num_attention_heads"] = s.heads;
    c["num_key_value_heads"] = s.kv_heads;
    c["head_dim"] = s.hidden / s.heads;
    c["hidden_act"] = "silu";
    c["vocab_size"] = s.vocab;
    c["rms_norm_eps"] = 1e-5;
    c["rope_theta"] = 10000.0;
    c["max_position_embeddings"] = 256;
    c["tie_word_embeddings"] = s.tie_embeddings;
    c["bos_token_id"] = 1;
    c["eos_token_id"] = 2;
    c["torch_dtype"] = torch_dtype(s.dtype);
    if (mistral) c["sliding_window"] = s.sliding_window;
    if (qwen2) {
        c["use_sliding_window"] = false;
        c["sliding_window"] = 256;
        c["max_window_layers"] = s.layers;
    }
    if (s.arch == "llama") {
        c["attention_bias"] = false;
        c["mlp_bias"] = false;
    }
    return c;
}

// A SentencePiece-style BPE vocabulary: <unk> <s> </s>, the 256 byte tokens, single
// characters, then merged pieces, each made by a merge of two earlier tokens.
struct TinyVocab {
    std::vector<std::string> pieces;
    std::vector<std::string> merges;  // "left right", in rank order
};

// Applies BPE merges to `symbols` as a tokenizer would: lowest rank first, leftmost on ties.
void apply_merges(std::vector<std::string>& symbols,
                  const std::map<std::pair<std::string, std::string>, std::size_t>& ranks) {
    for (;;) {
        std::size_t best = symbols.size(), best_rank = 0;
        for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
            const auto it = ranks.find({symbols[i], symbols[i + 1]});
            if (it != ranks.end() && (best == symbols.size() || it->second < best_rank)) {
                best = i;
                best_rank = it->second;
            }
        }
        if (best == symbols.size()) return;
        symbols[best] += symbols[best + 1];
        symbols.erase(symbols.begin() + std::ptrdiff_t(best) + 1);
    }
}

TinyVocab make_vocab(int size) {
    TinyVocab v;
    std::set<std::string> have;
    std::map<std::pair<std::string, std::string>, std::size_t> ranks;
    auto full = [&] { return int(v.pieces.size()) >= size; };
    auto add = [&](const std::string& piece) {
        if (!full() && have.insert(piece).second) v.pieces.push_back(piece);
    };
    add("<unk>");
    add("<s>");
    add("</s>");
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        add(buf);
    }
    const std::string space = "\xE2\x96\x81";                // ▁
    auto merge = [&](std::string left, std::string right) {  // by value: may alias pieces
        if (full() || ranks.count({left, right})) return;
        ranks.emplace(std::make_pair(left, right), ranks.size());
        v.merges.push_back(left + " " + right);
        add(left + right);
    };
    // Learns a word the way BPE training would: tokenize it with the merges so far, then
    // merge its first two symbols, until it is one token. Every learned piece is reachable.
    auto learn = [&](const std::string& word) {
        std::vector<std::string> symbols;
        for (std::size_t i = 0; i < word.size();) {
            const std::size_t len = word.compare(i, space.size(), space) == 0 ? space.size() : 1;
            symbols.push_back(word.substr(i, len));
            i += len;
        }
        for (apply_merges(symbols, ranks); symbols.size() > 1 && !full();
             apply_merges(symbols, ranks))
            merge(symbols[0], symbols[1]);
    };
    std::vector<std::string> chars = {space};
    for (char c : std::string("etaoinshrdlwuy")) chars.emplace_back(1, c);
    for (const auto& c : chars) add(c);
    // Only the characters above, "_" standing for ▁; the first four make "the day was one"
    // four tokens even at the default vocab of 300.
    for (const char* w :
         {"_the", "_was", "_day", "_one", "_and",  "he",    "in",    "ed",   "er",   "on",
          "_it",  "_to",  "_she", "_her", "_said", "_they", "_with", "_sun", "_old", "_tree"}) {
        std::string word;
        for (const char* c = w; *c; ++c) word += *c == '_' ? space : std::string(1, *c);
        learn(word);
    }
    for (char c : std::string("cmgfpbkvxjqz.,!?'\"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ:;-()"))
        if (!full()) {
            chars.emplace_back(1, c);
            add(chars.back());
        }
    // Larger vocabularies: earlier pieces extended by every character, in order.
    for (std::size_t i = 259; !full() && i < v.pieces.size(); ++i)
        for (std::size_t c = 0; c < chars.size() && !full(); ++c) merge(v.pieces[i], chars[c]);
    if (!full()) bad_spec("vocab too large for the tiny tokenizer");
    return v;
}

json make_tokenizer(int vocab_size) {
    const TinyVocab v = make_vocab(vocab_size);
    const std::string space = "\xE2\x96\x81";
    json t;
    t["version"] = "1.0";
    t["truncation"] = nullptr;
    t["padding"] = nullptr;
    json added = json::array();
    for (int id = 0; id < 3; ++id)
        added.push_back({{"id", id},
                         {"content", v.pieces[id]},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    t["added_tokens"] = added;
    t["normalizer"] = {
        {"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", space}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space}}}}};
    t["pre_tokenizer"] = nullptr;
    t["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
          {{"SpecialToken", {{"id", "<s>"}, {"type_id", 1}}}},
          {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
    t["decoder"] = {{"type", "Sequence"},
                    {"decoders",
                     {{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
                      {{"type", "ByteFallback"}},
                      {{"type", "Fuse"}},
                      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    json vocab = json::object();
    for (std::size_t id = 0; id < v.pieces.size(); ++id) vocab[v.pieces[id]] = id;
    t["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", "<unk>"},
                  {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr},
                  {"fuse_unk", true},
                  {"byte_fallback", true},
                  {"ignore_merges", false},
                  {"vocab", vocab},
                  {"merges", v.merges}};
    return t;
}

json make_tokenizer_config() {
    json added = json::object();
    const char* specials[] = {"<unk>", "<s>", "</s>"};
    for (int id = 0; id < 3; ++id)
        added[std::to_string(id)] = {{"content", specials[id]}, {"lstrip", false},
                                     {"normalized", false},     {"rstrip", false},
                                     {"single_word", false},    {"special", true}};
    return {{"add_bos_token", true},
            {"add_eos_token", false},
            {"added_tokens_decoder", added},
            {"bos_token", "<s>"},
            {"clean_up_tokenization_spaces", false},
            {"eos_token", "</s>"},
            {"legacy", true},
            {"model_max_length", 256},
            {"pad_token", nullptr},
            {"tokenizer_class", "LlamaTokenizer"},
            {"unk_token", "<unk>"}};
}

void write_json(const fs::path& file, const json& j) {
    io::write_file_atomic(file, j.dump(2) + "\n");
}

}  // namespace

std::vector<TinyTensor> tiny_model_tensors(const TinyModelSpec& s) {
    check_spec(s);
    const std::int64_t h = s.hidden, inter = s.intermediate, hd = s.hidden / s.heads;
    const std::int64_t q_out = s.heads * hd, kv_out = s.kv_heads * hd;
    std::vector<TinyTensor> out;
    auto weight = [&](const std::string& name, std::vector<std::int64_t> shape) {
        std::size_t n = 1;
        for (auto d : shape) n *= std::size_t(d);
        out.push_back({name, std::move(shape), random_values(s.seed, name, n, 0.0f, 0.1f)});
    };
    auto norm = [&](const std::string& name) {
        out.push_back({name, {h}, random_values(s.seed, name, std::size_t(h), 1.0f, 0.05f)});
    };
    weight("model.embed_tokens.weight", {s.vocab, h});
    for (int l = 0; l < s.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        weight(p + "self_attn.q_proj.weight", {q_out, h});
        weight(p + "self_attn.k_proj.weight", {kv_out, h});
        weight(p + "self_attn.v_proj.weight", {kv_out, h});
        if (s.arch == "qwen2") {
            weight(p + "self_attn.q_proj.bias", {q_out});
            weight(p + "self_attn.k_proj.bias", {kv_out});
            weight(p + "self_attn.v_proj.bias", {kv_out});
        }
        weight(p + "self_attn.o_proj.weight", {h, q_out});
        weight(p + "mlp.gate_proj.weight", {inter, h});
        weight(p + "mlp.up_proj.weight", {inter, h});
        weight(p + "mlp.down_proj.weight", {h, inter});
        norm(p + "input_layernorm.weight");
        norm(p + "post_attention_layernorm.weight");
    }
    norm("model.norm.weight");
    if (!s.tie_embeddings) weight("lm_head.weight", {s.vocab, h});
    return out;
}

std::vector<std::byte> encode_values(const std::vector<float>& values, DType dtype) {
    std::vector<std::byte> out(values.size() * dtype_size(dtype));
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (dtype == DType::f32) {
            std::memcpy(out.data() + 4 * i, &values[i], 4);
        } else if (dtype == DType::f16 || dtype == DType::bf16) {
            const std::uint16_t bits =
                dtype == DType::f16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
            std::memcpy(out.data() + 2 * i, &bits, 2);
        } else {
            throw Error(ErrorKind::invalid_argument,
                        std::string("encode_values: cannot encode floats as ") + dtype_name(dtype));
        }
    }
    return out;
}

std::vector<std::string> tiny_model_weight_files(const TinyModelSpec& spec) {
    if (spec.shards <= 1) return {"model.safetensors"};
    std::vector<std::string> names;
    for (int i = 1; i <= spec.shards; ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i, spec.shards);
        names.emplace_back(buf);
    }
    return names;
}

void write_tiny_model(const fs::path& folder, const TinyModelSpec& spec) {
    const std::vector<TinyTensor> tensors = tiny_model_tensors(spec);
    if (spec.shards > int(tensors.size())) bad_spec("more shards than tensors");
    fs::create_directories(folder);
    const auto files = tiny_model_weight_files(spec);

    std::vector<std::vector<std::byte>> bytes;
    for (const auto& t : tensors) bytes.push_back(encode_values(t.values, spec.dtype));
    std::map<std::string, std::string> weight_map;
    std::uint64_t total = 0;
    for (int shard = 0; shard < spec.shards; ++shard) {
        // Contiguous runs of tensors, as even in count as possible.
        const std::size_t first = tensors.size() * std::size_t(shard) / std::size_t(spec.shards);
        const std::size_t last = tensors.size() * std::size_t(shard + 1) / std::size_t(spec.shards);
        std::vector<io::TensorToWrite> batch;
        for (std::size_t i = first; i < last; ++i) {
            batch.push_back({tensors[i].name, spec.dtype, tensors[i].shape, bytes[i].data(), {}});
            weight_map[tensors[i].name] = files[std::size_t(shard)];
            total += bytes[i].size();
        }
        io::write_safetensors(folder / files[std::size_t(shard)], batch, {{"format", "pt"}});
    }
    if (spec.shards > 1) {
        json index;
        index["metadata"] = {{"total_size", total}};
        index["weight_map"] = json(weight_map);
        write_json(folder / "model.safetensors.index.json", index);
    } else {
        std::error_code ec;
        fs::remove(folder / "model.safetensors.index.json", ec);
    }
    write_json(folder / "config.json", make_config(spec));
    write_json(folder / "generation_config.json", {{"bos_token_id", 1}, {"eos_token_id", 2}});
    write_json(folder / "tokenizer.json", make_tokenizer(spec.vocab));
    write_json(folder / "tokenizer_config.json", make_tokenizer_config());
}

void write_expert_of(const fs::path& base_folder, const fs::path& out_folder, double delta_scale,
                     std::uint64_t seed) {
    if (fs::exists(out_folder) && fs::equivalent(base_folder, out_folder))
        throw Error(ErrorKind::invalid_argument,
                    "write_expert_of: output folder is the base folder " + base_folder.string());
    const io::Checkpoint base(base_folder);
    fs::create_directories(out_folder);
    for (const auto& entry : fs::directory_iterator(base_folder)) {
        if (!entry.is_regular_file()) continue;
        if (entry.path().extension() == ".safetensors") continue;
        fs::copy_file(entry.path(), out_folder / entry.path().filename(),
                      fs::copy_options::overwrite_existing);
    }
    for (const auto& shard : base.shards()) {
        std::vector<std::vector<std::byte>> bytes;
        std::vector<io::TensorToWrite> batch;
        bytes.reserve(shard.tensors().size());
        for (const auto& info : shard.tensors()) {
            const TensorView view = shard.view(info);
            const bool is_float =
                info.dtype == DType::f32 || info.dtype == DType::f16 || info.dtype == DType::bf16;
            if (!is_float) {
                bytes.emplace_back(view.data, view.data + view.nbytes);
            } else {
                std::vector<float> values(std::size_t(view.numel()));
                convert_to_f32(info.dtype, view.data, values.data(), values.size());
                std::uint64_t state = seed ^ name_hash(info.name);
                for (std::size_t i = 0; i < values.size(); i += 2) {
                    // Box-Muller: two normal samples from two uniforms in (0, 1].
                    const double u1 = (double(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
                    const double u2 = double(splitmix64(state) >> 11) * 0x1.0p-53;
                    const double r = std::sqrt(-2.0 * std::log(u1));
                    values[i] += float(delta_scale * r * std::cos(2.0 * M_PI * u2));
                    if (i + 1 < values.size())
                        values[i + 1] += float(delta_scale * r * std::sin(2.0 * M_PI * u2));
                }
                bytes.push_back(encode_values(values, info.dtype));
            }
            batch.push_back({info.name, info.dtype, info.shape, bytes.back().data(), {}});
        }
        io::write_safetensors(out_folder / shard.path().filename(), batch, shard.metadata());
    }
}

}  // namespace meswitch::test
