// The Hugging Face tensor names and shapes a config implies.
#include "meswitch/model.h"

namespace meswitch {

namespace {

std::string shape_string(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

}  // namespace

const char* linear_kind_name(LinearKind kind) {
    switch (kind) {
        case LinearKind::q_proj:
            return "q_proj";
        case LinearKind::k_proj:
            return "k_proj";
        case LinearKind::v_proj:
            return "v_proj";
        case LinearKind::o_proj:
            return "o_proj";
        case LinearKind::gate_proj:
            return "gate_proj";
        case LinearKind::up_proj:
            return "up_proj";
        case LinearKind::down_proj:
            return "down_proj";
    }
    return "unknown";
}

std::string linear_weight_name(LinearRef ref) {
    const bool attention = ref.kind == LinearKind::q_proj || ref.kind == LinearKind::k_proj ||
                           ref.kind == LinearKind::v_proj || ref.kind == LinearKind::o_proj;
    return "model.layers." + std::to_string(ref.layer) + (attention ? ".self_attn." : ".mlp.") +
           linear_kind_name(ref.kind) + ".weight";
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
    std::vector<ExpectedTensor> out;
    const std::int64_t h = c.hidden_size, inter = c.intermediate_size;
    out.push_back({"model.embed_tokens.weight", {c.vocab_size, h}});
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        out.push_back({p + "input_layernorm.weight", {h}});
        const std::pair<const char*, std::int64_t> attn[] = {
            {"q_proj", c.q_dim()}, {"k_proj", c.kv_dim()}, {"v_proj", c.kv_dim()}};
        for (const auto& [name, rows] : attn) {
            out.push_back({p + "self_attn." + name + ".weight", {rows, h}});
            if (c.attention_qkv_bias) out.push_back({p + "self_attn." + name + ".bias", {rows}});
        }
        out.push_back({p + "self_attn.o_proj.weight", {h, c.q_dim()}});
        if (c.attention_out_bias) out.push_back({p + "self_attn.o_proj.bias", {h}});
        out.push_back({p + "post_attention_layernorm.weight", {h}});
        if (c.arch == ModelArch::mixtral) {
            const std::string m = p + "block_sparse_moe.";
            out.push_back({m + "gate.weight", {c.num_local_experts, h}});
            for (std::int64_t e = 0; e < c.num_local_experts; ++e) {
                const std::string x = m + "experts." + std::to_string(e) + ".";
                out.push_back({x + "w1.weight", {inter, h}});
                out.push_back({x + "w2.weight", {h, inter}});
                out.push_back({x + "w3.weight", {inter, h}});
            }
        } else {
            out.push_back({p + "mlp.gate_proj.weight", {inter, h}});
            out.push_back({p + "mlp.up_proj.weight", {inter, h}});
            out.push_back({p + "mlp.down_proj.weight", {h, inter}});
            if (c.mlp_bias) {
                out.push_back({p + "mlp.gate_proj.bias", {inter}});
                out.push_back({p + "mlp.up_proj.bias", {inter}});
                out.push_back({p + "mlp.down_proj.bias", {h}});
            }
        }
    }
    out.push_back({"model.norm.weight", {h}});
    if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", {c.vocab_size, h}});
    return out;
}

std::vector<std::string> check_tensor_shapes(
    const ModelConfig& config,
    const std::function<std::optional<std::vector<std::int64_t>>(const std::string&)>& shape_of) {
    std::vector<std::string> problems;
    for (const ExpectedTensor& t : expected_tensors(config)) {
        auto shape = shape_of(t.name);
        if (!shape) {
            problems.push_back("missing tensor '" + t.name + "'");
        } else if (*shape != t.shape) {
            problems.push_back("tensor '" + t.name + "' has shape " + shape_string(*shape) +
                               " but config.json implies " + shape_string(t.shape));
        }
    }
    return problems;
}

}  // namespace meswitch
