// Memory estimates for serving: weight and delta bytes of a shape, the serving reserve, and
// how many experts fit beside the base.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "delta/quant/packing.h"
#include "meswitch/error.h"
#include "meswitch/pool.h"

namespace meswitch {

namespace {

std::string gib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
    return buf;
}

std::uint64_t numel(const std::vector<std::int64_t>& shape) {
    std::uint64_t n = 1;
    for (auto d : shape) n *= static_cast<std::uint64_t>(std::max<std::int64_t>(d, 0));
    return n;
}

}  // namespace

std::uint64_t model_weight_bytes(const ModelConfig& config, DType dtype) {
    std::uint64_t n = 0;
    for (const ExpectedTensor& t : expected_tensors(config)) n += numel(t.shape);
    return n * dtype_size(dtype);
}

std::uint64_t compressed_delta_bytes(const ModelConfig& config, int bits, double salient_fraction,
                                     int embedding_bits) {
    if (bits < 1 || bits > 4)
        throw Error(ErrorKind::invalid_argument,
                    "compressed_delta_bytes: bits must be 1 to 4, got " + std::to_string(bits));
    if (!(salient_fraction >= 0 && salient_fraction <= 1))
        throw Error(ErrorKind::invalid_argument,
                    "compressed_delta_bytes: the salient fraction must be in [0, 1]");
    if (embedding_bits == 0) embedding_bits = std::min(4, bits + 2);
    if (embedding_bits < 1 || embedding_bits > 4)
        throw Error(ErrorKind::invalid_argument,
                    "compressed_delta_bytes: embedding bits must be 1 to 4, got " +
                        std::to_string(embedding_bits));
    std::uint64_t bytes = 0;
    for (const ExpectedTensor& t : expected_tensors(config)) {
        if (t.shape.size() != 2) {
            bytes += numel(t.shape) * 2;  // dense f16
            continue;
        }
        const std::int64_t rows = t.shape[0], cols = t.shape[1];
        const bool embedding = t.name == "model.embed_tokens.weight" || t.name == "lm_head.weight";
        const int b = embedding ? embedding_bits : bits;
        const auto k = static_cast<std::int64_t>(std::llround(salient_fraction * cols));
        // codes + f16 scale + u8 zero per row, salient f16 values per row, i32 indices
        bytes += static_cast<std::uint64_t>(rows * (delta::packed_bytes(cols - k, b) + 3 + 2 * k) +
                                            4 * k);
    }
    return bytes;
}

std::uint64_t serving_reserve_bytes(const ModelConfig& config, std::int64_t context, bool gpu) {
    const std::uint64_t kv_elem = gpu ? 2 : 4;
    const auto ctx = static_cast<std::uint64_t>(std::max<std::int64_t>(context, 0));
    const std::uint64_t kv = 2 * static_cast<std::uint64_t>(config.num_hidden_layers) * ctx *
                             static_cast<std::uint64_t>(config.kv_dim()) * kv_elem;
    const std::uint64_t prefill = 512;
    const std::uint64_t activations =
        prefill *
        static_cast<std::uint64_t>(4 * config.hidden_size + 2 * config.intermediate_size +
                                   config.vocab_size) *
        4;
    return kv + activations + (gpu ? (1ull << 30) : 0);
}

MemoryEstimate estimate_expert_capacity(std::uint64_t memory_bytes, std::uint64_t base_bytes,
                                        std::uint64_t expert_bytes, std::uint64_t reserve_bytes) {
    MemoryEstimate e;
    e.memory_bytes = memory_bytes;
    e.base_bytes = base_bytes;
    e.expert_bytes = expert_bytes;
    e.reserve_bytes = reserve_bytes;
    const std::uint64_t needed = base_bytes + reserve_bytes;
    e.base_fits = needed <= memory_bytes;
    e.available_bytes = e.base_fits ? memory_bytes - needed : 0;
    e.experts_fit =
        expert_bytes > 0 ? static_cast<std::int64_t>(e.available_bytes / expert_bytes) : 0;
    return e;
}

std::string MemoryEstimate::summary() const {
    if (!base_fits)
        return gib(memory_bytes) + ": the base (" + gib(base_bytes) + ") and the reserve (" +
               gib(reserve_bytes) + ") do not fit";
    return gib(memory_bytes) + ": base " + gib(base_bytes) + " + reserve " + gib(reserve_bytes) +
           " leaves " + gib(available_bytes) + " = " + std::to_string(experts_fit) +
           " expert(s) of " + gib(expert_bytes);
}

ModelConfig mistral_7b_shape() {
    ModelConfig c;
    c.arch = ModelArch::mistral;
    c.model_type = "mistral";
    c.hidden_size = 4096;
    c.intermediate_size = 14336;
    c.num_hidden_layers = 32;
    c.num_attention_heads = 32;
    c.num_key_value_heads = 8;
    c.head_dim = 128;
    c.vocab_size = 32000;
    c.max_position_embeddings = 32768;
    c.rms_norm_eps = 1e-5;
    c.rope_theta = 10000.0;
    c.torch_dtype = "bfloat16";
    return c;
}

}  // namespace meswitch
