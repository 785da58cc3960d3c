// Decoder-only language models in Hugging Face layout (Llama, Mistral, Qwen2, and Mixtral's
// sparse mixture-of-experts blocks): config.json parsing and validation, the tensor names
// and shapes a config implies, a KV cache, and a CPU forward pass over memory-mapped
// weights kept in their stored dtype (f32, f16 or bf16).
//
//   ModelConfig cfg = parse_model_config("path/to/model/config.json");
//   Model model = Model::load("path/to/model");
//   KvCache cache = model.make_cache();
//   std::vector<float> logits = model.forward(prompt_ids, cache);   // last position
//
// Two hooks serve expert switching (ME-Switch): replace_weight() swaps in a working copy of
// any tensor (e.g. W_base + Δ̂), and set_delta_provider() adds a separate term x·Δ̂ᵀ to every
// linear layer's output (dense decoder linears; Mixtral expert linears take no delta).
// bind_weight() points a weight at caller-owned memory without copying it, so that several
// variants of one MoE model can share expert blocks (meswitch/moe.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/tensor.h"

namespace meswitch {

// ---------------------------------------------------------------------------------- config

enum class ModelArch : std::uint8_t { llama = 0, mistral = 1, qwen2 = 2, mixtral = 3 };
const char* arch_name(ModelArch arch);  // "LlamaForCausalLM", ...

struct RopeScaling {
    enum class Type : std::uint8_t { none, linear, llama3 };
    Type type = Type::none;
    double factor = 1.0;
    double low_freq_factor = 1.0;                          // llama3
    double high_freq_factor = 4.0;                         // llama3
    std::int64_t original_max_position_embeddings = 8192;  // llama3
};

struct ModelConfig {
    ModelArch arch = ModelArch::llama;
    std::string model_type;  // config's "model_type" ("llama", "mistral", ...)
    std::int64_t hidden_size = 0;
    std::int64_t intermediate_size = 0;
    std::int64_t num_hidden_layers = 0;
    std::int64_t num_attention_heads = 0;
    std::int64_t num_key_value_heads = 0;  // default: num_attention_heads
    std::int64_t head_dim = 0;             // default: hidden_size / num_attention_heads
    std::int64_t vocab_size = 0;
    std::int64_t max_position_embeddings = 2048;
    double rms_norm_eps = 1e-6;
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    bool tie_word_embeddings = false;
    bool attention_qkv_bias = false;  // q/k/v projections have biases (Qwen2, Llama attention_bias)
    bool attention_out_bias = false;  // o_proj has a bias (Llama attention_bias)
    bool mlp_bias = false;            // gate/up/down have biases (Llama mlp_bias)
    // Sliding-window attention: a query at position i sees keys j with i - j < window.
    std::optional<std::int64_t> sliding_window;
    std::int64_t max_window_layers = 0;  // Qwen2: layers >= this use the window
    std::optional<std::int32_t> bos_token_id;
    std::vector<std::int32_t> eos_token_ids;  // may be several
    std::string torch_dtype;                  // "float32", "bfloat16", "" when absent
    // Mixtral (MoE)
    std::int64_t num_local_experts = 0;
    std::int64_t num_experts_per_tok = 0;
    double router_aux_loss_coef = 0.0;
    double router_jitter_noise = 0.0;
    bool output_router_logits = false;

    std::int64_t q_dim() const { return num_attention_heads * head_dim; }
    std::int64_t kv_dim() const { return num_key_value_heads * head_dim; }
    // The sliding window that applies to `layer`, if any.
    std::optional<std::int64_t> window_for_layer(std::int64_t layer) const;
};

// Parses and validates a config.json. Errors (Error(format) for malformed or invalid
// values, Error(unsupported) for valid but unsupported ones) name the file and the field,
// e.g. "config.json: rope_scaling type 'yarn' is not supported".
ModelConfig parse_model_config(const std::filesystem::path& config_json);
// Same from text; `source` names the file in messages.
ModelConfig parse_model_config_text(std::string_view json, std::string_view source = "config.json");

// The tensors a checkpoint for `config` must contain, with the shapes the config implies.
struct ExpectedTensor {
    std::string name;
    std::vector<std::int64_t> shape;
};
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config);

// Compares a checkpoint's tensors (name → shape) with expected_tensors(config); returns one
// line per problem ("missing tensor 'x'", "tensor 'x' has shape [a] but config.json implies
// [b]"), empty when everything is present. Extra tensors are not problems.
std::vector<std::string> check_tensor_shapes(
    const ModelConfig& config,
    const std::function<std::optional<std::vector<std::int64_t>>(const std::string& name)>&
        shape_of);

// ------------------------------------------------------------------------------- KV cache

// Keys and values of every layer for positions [0, size()), float32.
class KvCache {
public:
    KvCache(const ModelConfig& config, std::int64_t capacity);

    std::int64_t size() const { return size_; }
    std::int64_t capacity() const { return capacity_; }
    void clear() { size_ = 0; }
    void truncate(std::int64_t new_size);  // keep the first new_size positions
    std::size_t bytes() const { return keys_.size() * sizeof(float) * 2; }

    // Row of one position in one layer: kv_dim floats (heads × head_dim).
    float* key(std::int64_t layer, std::int64_t pos) { return keys_.data() + offset(layer, pos); }
    float* value(std::int64_t layer, std::int64_t pos) {
        return values_.data() + offset(layer, pos);
    }
    const float* key(std::int64_t layer, std::int64_t pos) const {
        return keys_.data() + offset(layer, pos);
    }
    const float* value(std::int64_t layer, std::int64_t pos) const {
        return values_.data() + offset(layer, pos);
    }
    void set_size(std::int64_t size);  // used by the forward pass after writing rows
    std::int64_t kv_dim() const { return kv_dim_; }
    std::int64_t layers() const { return layers_; }

private:
    std::size_t offset(std::int64_t layer, std::int64_t pos) const {
        return static_cast<std::size_t>((layer * capacity_ + pos) * kv_dim_);
    }
    std::int64_t layers_ = 0, capacity_ = 0, kv_dim_ = 0, size_ = 0;
    std::vector<float> keys_, values_;
};

// ---------------------------------------------------------------------------------- model

enum class LinearKind : std::uint8_t {
    q_proj,
    k_proj,
    v_proj,
    o_proj,
    gate_proj,
    up_proj,
    down_proj
};
const char* linear_kind_name(LinearKind kind);  // "q_proj", ...

struct LinearRef {
    std::int64_t layer = 0;
    LinearKind kind = LinearKind::q_proj;
};
std::string linear_weight_name(LinearRef ref);  // "model.layers.3.self_attn.q_proj.weight"

// Adds a separate term to linear layers' outputs: y += x · Δ̂ᵀ, after every decoder linear
// (the weight W_base stays untouched): the forward pass uses row_adder where a provider has
// one, else add_delta.
class DeltaProvider {
public:
    virtual ~DeltaProvider() = default;
    // x: rows × in_features, y: rows × out_features, both row-major float32.
    virtual void add_delta(LinearRef linear, const float* x, std::int64_t rows,
                           std::int64_t in_features, float* y, std::int64_t out_features) = 0;

    // Optional: returns a function adding rows [r0, r1) of x·Δ̂ᵀ to y, which the forward pass
    // calls from its own pool's threads for disjoint row ranges — for one-row steps right
    // after computing those rows of x·W_baseᵀ (fused with the base product), else after the
    // whole base product; or an empty function (the default) to have add_delta called
    // afterwards instead.
    using RowAdder = std::function<void(std::int64_t r0, std::int64_t r1)>;
    virtual RowAdder row_adder(LinearRef /*linear*/, const float* /*x*/, std::int64_t /*rows*/,
                               std::int64_t /*in_features*/, float* /*y*/,
                               std::int64_t /*out_features*/) {
        return {};
    }
};

// One sequence's expert in a batched forward (Model::forward_batch): every term its delta
// adds to the base, for the rows of the sequences that use it. The serving backends
// implement it over a compressed delta (the base weights stay untouched).
class SequenceDelta {
public:
    virtual ~SequenceDelta() = default;
    // For decoder linear `linear`: a function adding rows [r0, r1) of x·Δ̂ᵀ to y (x: rows ×
    // in_features, y: rows × out_features; called from the model's pool's threads for
    // disjoint ranges), or an empty function when this delta leaves the weight alone. The
    // function is valid until the next call of linear() or head() on this object.
    virtual DeltaProvider::RowAdder linear(LinearRef linear, const float* x, std::int64_t rows,
                                           float* y) const = 0;
    // The same for the output head (lm_head, or the tied embeddings used as the head).
    virtual DeltaProvider::RowAdder head(const float* x, std::int64_t rows, float* y) const = 0;
    // Adds the delta of embedding row `token` to `row` (hidden_size floats).
    virtual void add_embedding(std::int32_t token, float* row) const = 0;
    // A 1-D tensor (norm weight, bias) as this expert has it, widened to f32; nullptr: the
    // base's is unchanged.
    virtual const float* vector(std::string_view weight_name) const = 0;
};

// One sequence of a batched forward step.
struct BatchSequence {
    std::span<const std::int32_t> tokens;  // run at positions cache->size() …
    KvCache* cache = nullptr;
    const SequenceDelta* delta = nullptr;  // nullptr: the model's weights as they are
    bool all_positions = false;            // logits of every token, not only the last
};

// An owned host tensor (row-major), e.g. a working copy of a weight.
struct HostTensor {
    DType dtype = DType::f32;
    std::vector<std::int64_t> shape;
    std::vector<std::byte> data;

    TensorView view() const;
    static HostTensor from_f32(std::vector<std::int64_t> shape, std::span<const float> values,
                               DType dtype = DType::f32);  // converts to dtype (f32/f16/bf16)
};

struct ModelOptions {
    int threads = 0;  // <= 0: std::thread::hardware_concurrency()
    // Model::load: copy the checkpoint's weights into anonymous memory, on huge pages where
    // the kernel gives them, when they take at most half of the available memory; otherwise
    // (or false) they are read in place from the memory-mapped files. Decode streams every
    // weight once per token, and from page-cache pages it ran 7-16 % slower (1b f16 here).
    bool weights_in_memory = true;
};

// Residual stream after decoder layer `layer` (0-based) for `rows` positions of `hidden`
// floats each; layer == num_hidden_layers is the final-norm output (what the head sees).
using HiddenStateFn = std::function<void(std::int64_t layer, const float* states, std::int64_t rows,
                                         std::int64_t hidden)>;

struct ForwardOptions {
    bool all_positions = false;  // return logits of every position (rows × vocab)
    bool compute_logits = true;  // false: run the layers only (e.g. router features)
    HiddenStateFn on_hidden;     // optional
    // Decoder layers [first_layer, last_layer) only (last_layer < 0: to the end, then the final
    // norm and the head). With first_layer > 0, input_states is the residual stream entering
    // that layer (tokens.size() × hidden_size, as on_hidden reported it after the layer
    // before); the tokens then only give the count. A forward that stops before the last layer
    // writes its layers' keys and values but leaves the cache's size and the logits alone
    // (calibration runs a model window by window this way, each layer once).
    std::int64_t first_layer = 0;
    std::int64_t last_layer = -1;
    const float* input_states = nullptr;
};

class Model {
public:
    // Loads config.json and the safetensors weights of a Hugging Face folder (memory-mapped,
    // kept in their dtype). Checks every expected tensor exists with the right shape.
    static Model load(const std::filesystem::path& folder, const ModelOptions& options = {});
    // A model over tensors held in memory (tests, synthetic benchmarks).
    static Model from_tensors(const ModelConfig& config, std::map<std::string, HostTensor> tensors,
                              const ModelOptions& options = {});

    ~Model();
    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;

    const ModelConfig& config() const;
    int threads() const;

    // A cache for up to `capacity` positions (<= 0: max_position_embeddings).
    KvCache make_cache(std::int64_t capacity = 0) const;

    // Runs `tokens` at positions cache.size() … and appends them to the cache. Returns the
    // logits of the last position (vocab floats), or of every position (tokens.size() × vocab)
    // with all_positions. Several tokens run as one batched prefill.
    std::vector<float> forward(std::span<const std::int32_t> tokens, KvCache& cache,
                               const ForwardOptions& options = {});

    // One step for several sequences, each with its own KV cache and its own expert: the
    // base product of every linear runs once for all rows (prompt chunks by GEMM, one-token
    // rows together by gemv_batch, reading each weight once), then each group of sequences
    // sharing a delta adds its own terms. Returns the logits of every sequence, in order
    // (1 or tokens × vocab rows each). A sequence's logits do not depend on the others in
    // the batch: they equal forward_batch on it alone, bit for bit (each row is computed by
    // the same kernels either way), and with no delta they equal forward()'s. The model's
    // DeltaProvider must not be set (Error(invalid_argument)).
    std::vector<float> forward_batch(std::span<const BatchSequence> batch);

    // Weights by Hugging Face name. replace_weight swaps in an owned copy (same shape;
    // f32/f16/bf16) used by every later forward; restore_weight goes back to the original.
    std::vector<std::string> weight_names() const;
    // A model reading its weights in place from the mapped files (ModelOptions::
    // weights_in_memory false, or too big to copy): drops this process's resident pages of
    // them, so that a pass over a model larger than memory does not keep every page counted
    // in its RSS; the next forward reads them back from the page cache. No effect otherwise.
    void release_mapped_pages() const;
    TensorView weight(std::string_view name) const;
    void replace_weight(std::string_view name, HostTensor tensor);
    void restore_weight(std::string_view name);
    // Points `name` at memory the caller owns and keeps alive while bound (same shape,
    // f32/f16/bf16, aligned); no copy. Bind again after changing the bytes of a 1-D tensor
    // (norms keep a widened copy). restore_weight() unbinds.
    void bind_weight(std::string_view name, const TensorView& view);
    void set_delta_provider(DeltaProvider* provider);  // not owned; nullptr clears
    // Bytes of weights one decode step reads (all linears + head + one embedding row).
    std::uint64_t weight_bytes_per_token() const;

private:
    struct Impl;
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// ------------------------------------------------------------------------------ benchmark

// Figures of bench_decode. Each timed run starts on an empty cache: one batched prefill of
// the prompt (as llama-bench's pp test: a fresh context, logits of the last position only),
// then decode_tokens greedy single-token steps after it. Speeds are medians over the runs.
struct BenchDecodeResult {
    int runs = 1;  // timed runs the medians are taken over (after one untimed warm-up)
    double prefill_tokens_per_second = 0;
    double decode_tokens_per_second = 0;
    std::vector<double> prefill_samples;  // tokens/s of each timed run, in run order
    std::vector<double> decode_samples;   // (empty where only the median is known)

    // Decode bound: every weight byte is read once per generated token.
    std::uint64_t weight_bytes_per_token = 0;
    double memory_bandwidth_gbps = 0;              // measured streaming read, same thread count
    double bandwidth_bound_tokens_per_second = 0;  // bandwidth / bytes per token
    double fraction_of_bound = 0;                  // decode / bound

    // Prefill bound: the prompt's floating-point work at the measured f32 FMA peak (the CPU
    // kernels widen f16/bf16 weights to f32 and multiply-add in f32). 0 where not measured.
    double prefill_flops_per_token = 0;  // 2 × multiply-adds of linears, attention, head share
    double peak_gflops = 0;              // f32 FMA loop on the same number of threads
    double compute_bound_prefill_tokens_per_second = 0;  // peak / flops per token
    double prefill_fraction_of_bound = 0;                // prefill / bound

    std::uint64_t total_weight_bytes = 0;
    int threads = 0;
};

// Builds a model of `config`'s shape with random weights of `dtype` in memory, runs one
// untimed warm-up (a prefill and two decode steps) and `runs` timed runs of a prefill of
// prefill_tokens and decode_tokens single-token steps, then measures this machine's memory
// read bandwidth and f32 FMA peak with the same number of threads.
BenchDecodeResult bench_decode(const ModelConfig& config, DType dtype, int prefill_tokens,
                               int decode_tokens, int threads, int runs = 5);
// Same measurement on a loaded model (its weights as stored, its thread count).
BenchDecodeResult bench_decode(Model& model, int prefill_tokens, int decode_tokens, int runs = 5);

}  // namespace meswitch
