// Tiny, deterministic Hugging Face model folders for tests: config.json, safetensors weights
// (one file or shards + index), tokenizer.json and tokenizer_config.json, in the layout of
// Llama, Mistral and Qwen2 checkpoints. Also "experts": copies with perturbed weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "meswitch/tensor.h"

namespace meswitch::test {

struct TinyModelSpec {
    std::string arch = "llama";  // "llama" | "mistral" | "qwen2"
    int hidden = 32, intermediate = 64, layers = 2, heads = 4, kv_heads = 2, vocab = 300;
    DType dtype = DType::f32;  // f32, f16 or bf16
    int shards = 1;            // 1: model.safetensors; more: shards + model.safetensors.index.json
    bool tie_embeddings = false;
    std::uint64_t seed = 1;
    int sliding_window = 64;  // mistral only (config.json "sliding_window")
};

// One weight as the generator means it: exact float values before conversion to the dtype.
struct TinyTensor {
    std::string name;  // Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight"
    std::vector<std::int64_t> shape;
    std::vector<float> values;  // row-major; uniform(-0.1, 0.1), norms in [0.95, 1.05]
};

// The weights write_tiny_model writes, in file order. Throws Error(invalid_argument) for an
// inconsistent spec (unknown arch, heads not dividing hidden, vocab below 259, ...).
std::vector<TinyTensor> tiny_model_tensors(const TinyModelSpec& spec);

// `values` converted to `dtype` (f32/f16/bf16, round to nearest even) as stored on disk.
std::vector<std::byte> encode_values(const std::vector<float>& values, DType dtype);

// The shard file names write_tiny_model uses: {"model.safetensors"} for one shard, else
// "model-00001-of-0000N.safetensors", ...
std::vector<std::string> tiny_model_weight_files(const TinyModelSpec& spec);

// Writes a complete model folder (created if needed; files in it are replaced).
void write_tiny_model(const std::filesystem::path& folder, const TinyModelSpec& spec);

// Copies `base_folder` (a model folder with safetensors weights) to `out_folder`, adding
// delta_scale × N(0, 1) noise (seeded, deterministic) to every float weight; non-weight
// files are copied unchanged and the sharding is kept.
void write_expert_of(const std::filesystem::path& base_folder,
                     const std::filesystem::path& out_folder, double delta_scale,
                     std::uint64_t seed);

// The seeded generator used above, for tests that want their own deterministic data.
std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace meswitch::test
