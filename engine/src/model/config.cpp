// config.json parsing and validation for Llama, Mistral, Qwen2 and Mixtral checkpoints.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "io/strict_json.h"
#include "meswitch/error.h"
#include "meswitch/model.h"

namespace meswitch {

namespace {

using json = nlohmann::json;

constexpr std::int64_t max_dim = 1 << 20;  // hidden, intermediate, head_dim
constexpr std::int64_t max_layers = 4096;
constexpr std::int64_t max_vocab = 1 << 24;
constexpr std::int64_t max_positions = 1ll << 26;
constexpr std::int64_t max_experts = 1024;
constexpr std::int64_t max_expert_blocks = 1 << 16;  // layers × experts (Mixtral 8x22B: 448)
constexpr double max_parameters = 1ull << 41;        // ~2.2 trillion: no model this loads is bigger
constexpr int max_json_depth = 32;                   // configs nest 2-4 levels (rope_scaling, ...)

class Reader {
public:
    Reader(const json& root, std::string source) : root_(root), source_(std::move(source)) {}

    [[noreturn]] void fail(ErrorKind kind, const std::string& what) const {
        throw Error(kind, source_ + ": " + what);
    }

    bool has(const char* key) const { return root_.contains(key) && !root_[key].is_null(); }

    std::int64_t integer(const char* key, std::optional<std::int64_t> fallback = {}) const {
        if (!has(key)) {
            if (fallback) return *fallback;
            fail(ErrorKind::format, std::string("field '") + key + "' is missing");
        }
        const json& v = root_[key];
        if (v.is_number_unsigned()) {
            // get<std::int64_t>() would wrap 18446744073709551615 to -1.
            if (v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                out_of_range(key, v);
            return static_cast<std::int64_t>(v.get<std::uint64_t>());
        }
        if (v.is_number_integer()) return v.get<std::int64_t>();
        if (v.is_number_float()) {
            double d = v.get<double>();
            if (std::isfinite(d) && d == std::floor(d)) {
                if (std::fabs(d) >= 9e15) out_of_range(key, v);
                return static_cast<std::int64_t>(d);
            }
        }
        fail(ErrorKind::format, std::string("field '") + key + "' must be an integer (got " +
                                    io::json_excerpt(v.dump()) + ")");
    }

    [[noreturn]] void out_of_range(const char* key, const json& v) const {
        fail(ErrorKind::format, std::string("field '") + key + "' is out of range (got " +
                                    io::json_excerpt(v.dump()) + ")");
    }

    std::int64_t positive(const char* key, std::int64_t upper,
                          std::optional<std::int64_t> fallback = {}) const {
        std::int64_t v = integer(key, fallback);
        if (v <= 0 || v > upper)
            fail(ErrorKind::format, std::string("field '") + key + "' must be between 1 and " +
                                        std::to_string(upper) + " (got " + std::to_string(v) + ")");
        return v;
    }

    double number(const char* key, double fallback) const {
        if (!has(key)) return fallback;
        const json& v = root_[key];
        if (!v.is_number())
            fail(ErrorKind::format, std::string("field '") + key + "' must be a number (got " +
                                        io::json_excerpt(v.dump()) + ")");
        return v.get<double>();
    }

    bool boolean(const char* key, bool fallback) const {
        if (!has(key)) return fallback;
        const json& v = root_[key];
        if (!v.is_boolean())
            fail(ErrorKind::format, std::string("field '") + key + "' must be true or false (got " +
                                        io::json_excerpt(v.dump()) + ")");
        return v.get<bool>();
    }

    std::string string(const char* key, const std::string& fallback = "") const {
        if (!has(key)) return fallback;
        const json& v = root_[key];
        if (!v.is_string())
            fail(ErrorKind::format, std::string("field '") + key + "' must be a string (got " +
                                        io::json_excerpt(v.dump()) + ")");
        return v.get<std::string>();
    }

    const json& root() const { return root_; }
    const std::string& source() const { return source_; }

private:
    const json& root_;
    std::string source_;
};

ModelArch parse_arch(const Reader& r) {
    static const std::pair<const char*, ModelArch> by_class[] = {
        {"LlamaForCausalLM", ModelArch::llama},
        {"MistralForCausalLM", ModelArch::mistral},
        {"Qwen2ForCausalLM", ModelArch::qwen2},
        {"MixtralForCausalLM", ModelArch::mixtral},
    };
    static const std::pair<const char*, ModelArch> by_type[] = {
        {"llama", ModelArch::llama},
        {"mistral", ModelArch::mistral},
        {"qwen2", ModelArch::qwen2},
        {"mixtral", ModelArch::mixtral},
    };
    const std::string supported =
        "supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, MixtralForCausalLM";
    if (r.has("architectures")) {
        const json& a = r.root()["architectures"];
        if (!a.is_array() || a.empty() || !a[0].is_string())
            r.fail(ErrorKind::format, "field 'architectures' must be a non-empty list of names");
        const std::string name = a[0].get<std::string>();
        for (const auto& [n, arch] : by_class)
            if (name == n) return arch;
        r.fail(ErrorKind::unsupported,
               "architecture '" + name + "' is not supported (" + supported + ")");
    }
    const std::string type = r.string("model_type");
    if (type.empty())
        r.fail(ErrorKind::format, "neither 'architectures' nor 'model_type' is present");
    for (const auto& [n, arch] : by_type)
        if (type == n) return arch;
    r.fail(ErrorKind::unsupported,
           "model_type '" + type + "' is not supported (" + supported + ")");
}

RopeScaling parse_rope_scaling(const Reader& r) {
    RopeScaling s;
    if (!r.has("rope_scaling")) return s;
    const json& j = r.root()["rope_scaling"];
    if (!j.is_object()) r.fail(ErrorKind::format, "field 'rope_scaling' must be an object or null");
    Reader sub(j, r.source() + ": rope_scaling");
    std::string type = sub.string("rope_type", sub.string("type", ""));
    if (type.empty()) r.fail(ErrorKind::format, "rope_scaling has no 'type' or 'rope_type'");
    if (type == "default") return s;
    auto factor = [&] {
        if (!sub.has("factor"))
            r.fail(ErrorKind::format, "rope_scaling '" + type + "' needs 'factor'");
        double f = sub.number("factor", 1.0);
        if (!(f > 0) || !std::isfinite(f))
            r.fail(ErrorKind::format, "rope_scaling factor must be a positive number");
        return f;
    };
    if (type == "linear") {
        s.type = RopeScaling::Type::linear;
        s.factor = factor();
        return s;
    }
    if (type == "llama3") {
        s.type = RopeScaling::Type::llama3;
        s.factor = factor();
        s.low_freq_factor = sub.number("low_freq_factor", 1.0);
        s.high_freq_factor = sub.number("high_freq_factor", 4.0);
        s.original_max_position_embeddings =
            sub.positive("original_max_position_embeddings", max_positions, 8192);
        if (!(s.low_freq_factor > 0) || !(s.high_freq_factor > s.low_freq_factor) ||
            !std::isfinite(s.high_freq_factor))
            r.fail(ErrorKind::format,
                   "rope_scaling llama3 needs 0 < low_freq_factor < high_freq_factor");
        return s;
    }
    r.fail(ErrorKind::unsupported, "rope_scaling type '" + type + "' is not supported");
}

std::vector<std::int32_t> parse_token_ids(const Reader& r, const char* key, std::int64_t vocab) {
    std::vector<std::int32_t> ids;
    if (!r.has(key)) return ids;
    const json& v = r.root()[key];
    auto one = [&](const json& e) {
        if (!e.is_number_integer())
            r.fail(ErrorKind::format,
                   std::string("field '") + key + "' must be a token id or a list of ids");
        const bool huge = e.is_number_unsigned() && e.get<std::uint64_t>() >= std::uint64_t(vocab);
        const std::int64_t id = huge ? vocab : e.get<std::int64_t>();
        if (huge)
            r.fail(ErrorKind::format,
                   std::string("field '") + key + "' id " + io::json_excerpt(e.dump()) +
                       " is outside the vocabulary (" + std::to_string(vocab) + ")");
        if (id < 0 || id >= vocab)
            r.fail(ErrorKind::format, std::string("field '") + key + "' id " + std::to_string(id) +
                                          " is outside the vocabulary (" + std::to_string(vocab) +
                                          ")");
        ids.push_back(static_cast<std::int32_t>(id));
    };
    if (v.is_array()) {
        for (const json& e : v) one(e);
    } else {
        one(v);
    }
    return ids;
}

// Each dimension may be plausible alone while together they describe a model far larger
// than any machine holds (and whose tensor list alone would exhaust memory): refuse that,
// naming the fields, before anything sizes buffers from them.
void check_parameter_count(const Reader& r, const ModelConfig& c) {
    if (c.arch == ModelArch::mixtral &&
        c.num_hidden_layers * c.num_local_experts > max_expert_blocks)
        r.fail(ErrorKind::format,
               "fields 'num_hidden_layers' (" + std::to_string(c.num_hidden_layers) +
                   ") and 'num_local_experts' (" + std::to_string(c.num_local_experts) +
                   ") imply " + std::to_string(c.num_hidden_layers * c.num_local_experts) +
                   " expert blocks, more than the " + std::to_string(max_expert_blocks) +
                   " this application can load; the config is damaged");
    const double h = double(c.hidden_size), inter = double(c.intermediate_size);
    const double experts = c.arch == ModelArch::mixtral ? double(c.num_local_experts) : 1.0;
    const double per_layer = 2 * h + 2 * double(c.q_dim()) * h + 2 * double(c.kv_dim()) * h +
                             experts * 3 * inter * h +
                             (c.arch == ModelArch::mixtral ? experts * h : 0.0);
    const double total = double(c.vocab_size) * h * (c.tie_word_embeddings ? 1 : 2) + h +
                         double(c.num_hidden_layers) * per_layer;
    if (total <= max_parameters) return;
    char figures[96];
    std::snprintf(figures, sizeof figures, "%.3g parameters, more than the %.3g", total,
                  max_parameters);
    r.fail(ErrorKind::format,
           "fields 'hidden_size' (" + std::to_string(c.hidden_size) + "), 'intermediate_size' (" +
               std::to_string(c.intermediate_size) + "), 'num_hidden_layers' (" +
               std::to_string(c.num_hidden_layers) + "), 'vocab_size' (" +
               std::to_string(c.vocab_size) + ")" +
               (c.arch == ModelArch::mixtral
                    ? ", 'num_local_experts' (" + std::to_string(c.num_local_experts) + ")"
                    : std::string()) +
               " imply " + figures + " this application can load; the config is damaged");
}

}  // namespace

const char* arch_name(ModelArch arch) {
    switch (arch) {
        case ModelArch::llama:
            return "LlamaForCausalLM";
        case ModelArch::mistral:
            return "MistralForCausalLM";
        case ModelArch::qwen2:
            return "Qwen2ForCausalLM";
        case ModelArch::mixtral:
            return "MixtralForCausalLM";
    }
    return "unknown";
}

std::optional<std::int64_t> ModelConfig::window_for_layer(std::int64_t layer) const {
    if (!sliding_window) return std::nullopt;
    if (arch == ModelArch::qwen2 && layer < max_window_layers) return std::nullopt;
    return sliding_window;
}

ModelConfig parse_model_config_text(std::string_view text, std::string_view source_name) {
    const std::string source(source_name);
    // Strict: a key given twice (e.g. num_hidden_layers) is refused rather than the last one
    // silently taken, and a number beyond a double is named by its key.
    io::StrictJsonOptions options;
    options.label = source;
    options.max_depth = max_json_depth;
    const json root = io::parse_strict_json<json>(text, options);
    if (!root.is_object()) throw Error(ErrorKind::format, source + ": top level is not an object");
    Reader r(root, source);

    ModelConfig c;
    c.arch = parse_arch(r);
    c.model_type = r.string("model_type");
    const std::string act = r.string("hidden_act", "silu");
    if (act != "silu")
        r.fail(ErrorKind::unsupported, "hidden_act '" + act + "' is not supported (only 'silu')");

    c.hidden_size = r.positive("hidden_size", max_dim);
    c.intermediate_size = r.positive("intermediate_size", max_dim);
    c.num_hidden_layers = r.positive("num_hidden_layers", max_layers);
    c.num_attention_heads = r.positive("num_attention_heads", max_dim);
    c.num_key_value_heads = r.positive("num_key_value_heads", max_dim, c.num_attention_heads);
    c.vocab_size = r.positive("vocab_size", max_vocab);
    c.max_position_embeddings = r.positive("max_position_embeddings", max_positions, 2048);
    if (r.has("head_dim")) {
        c.head_dim = r.positive("head_dim", max_dim);
    } else {
        if (c.hidden_size % c.num_attention_heads != 0)
            r.fail(ErrorKind::format,
                   "num_attention_heads (" + std::to_string(c.num_attention_heads) +
                       ") does not divide hidden_size (" + std::to_string(c.hidden_size) + ")");
        c.head_dim = c.hidden_size / c.num_attention_heads;
    }
    if (c.head_dim % 2 != 0)
        r.fail(ErrorKind::format,
               "head_dim " + std::to_string(c.head_dim) + " must be even for rotary embeddings");
    if (c.num_attention_heads % c.num_key_value_heads != 0)
        r.fail(ErrorKind::format, "num_key_value_heads (" + std::to_string(c.num_key_value_heads) +
                                      ") does not divide num_attention_heads (" +
                                      std::to_string(c.num_attention_heads) + ")");
    if (c.q_dim() > max_dim)
        r.fail(ErrorKind::format, "num_attention_heads × head_dim is too large");

    c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
    if (!(c.rms_norm_eps > 0) || !std::isfinite(c.rms_norm_eps))
        r.fail(ErrorKind::format, "field 'rms_norm_eps' must be a positive number");
    c.rope_theta = r.number("rope_theta", 10000.0);
    if (!(c.rope_theta > 1) || !std::isfinite(c.rope_theta))
        r.fail(ErrorKind::format, "field 'rope_theta' must be a number above 1");
    c.rope_scaling = parse_rope_scaling(r);
    c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);

    const bool attention_bias = r.boolean("attention_bias", false);
    c.mlp_bias = r.boolean("mlp_bias", false);
    switch (c.arch) {
        case ModelArch::llama:
            c.attention_qkv_bias = attention_bias;
            c.attention_out_bias = attention_bias;
            break;
        case ModelArch::qwen2:
            c.attention_qkv_bias = true;
            c.mlp_bias = false;
            break;
        case ModelArch::mistral:
        case ModelArch::mixtral:
            c.mlp_bias = false;
            break;
    }

    auto window = [&](std::optional<std::int64_t> fallback) -> std::optional<std::int64_t> {
        if (!r.has("sliding_window")) return fallback;
        return r.positive("sliding_window", max_positions);
    };
    if (c.arch == ModelArch::mistral) {
        c.sliding_window = root.contains("sliding_window") ? window(std::nullopt) : 4096;
    } else if (c.arch == ModelArch::mixtral) {
        c.sliding_window = window(std::nullopt);
    } else if (c.arch == ModelArch::qwen2) {
        if (r.boolean("use_sliding_window", false)) {
            c.sliding_window = window(4096);
            c.max_window_layers = r.integer("max_window_layers", 28);
            if (c.max_window_layers < 0)
                r.fail(ErrorKind::format, "field 'max_window_layers' must not be negative");
        }
    }

    c.bos_token_id = std::nullopt;
    if (auto bos = parse_token_ids(r, "bos_token_id", c.vocab_size); !bos.empty()) {
        c.bos_token_id = bos.front();
    }
    c.eos_token_ids = parse_token_ids(r, "eos_token_id", c.vocab_size);
    c.torch_dtype = r.string("torch_dtype", r.string("dtype", ""));
    if (!c.torch_dtype.empty() && c.torch_dtype != "float32" && c.torch_dtype != "float16" &&
        c.torch_dtype != "bfloat16")
        r.fail(ErrorKind::unsupported,
               "torch_dtype '" + c.torch_dtype + "' is not supported (float32, float16, bfloat16)");

    if (c.arch == ModelArch::mixtral) {
        c.num_local_experts = r.positive("num_local_experts", max_experts, 8);
        c.num_experts_per_tok = r.positive("num_experts_per_tok", max_experts, 2);
        if (c.num_experts_per_tok > c.num_local_experts)
            r.fail(ErrorKind::format,
                   "num_experts_per_tok (" + std::to_string(c.num_experts_per_tok) +
                       ") exceeds num_local_experts (" + std::to_string(c.num_local_experts) + ")");
        c.router_aux_loss_coef = r.number("router_aux_loss_coef", 0.001);
        c.router_jitter_noise = r.number("router_jitter_noise", 0.0);
        c.output_router_logits = r.boolean("output_router_logits", false);
    }
    check_parameter_count(r, c);
    return c;
}

ModelConfig parse_model_config(const std::filesystem::path& config_json) {
    std::ifstream in(config_json, std::ios::binary);
    if (!in)
        throw Error(ErrorKind::io, config_json.string() + ": cannot open (missing or unreadable)");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(ErrorKind::io, config_json.string() + ": read failed");
    return parse_model_config_text(ss.str(), config_json.string());
}

}  // namespace meswitch
