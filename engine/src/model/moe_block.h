// The sparse mixture-of-experts block of HF MixtralForCausalLM (MixtralSparseMoeBlock):
// router logits = gate(h) in float32, softmax over the experts, keep the top k and
// renormalise (= softmax over the selected logits), output = Σ weight · w2(silu(w1 h) ⊙ w3 h).
// Tokens are grouped by expert so that each expert runs one batched matmul per call.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/cpu/ops.h"

namespace meswitch {
class ThreadPool;
}

namespace meswitch::model {

struct ExpertMatrices {
    cpu::Matrix w1;  // gate_proj [inter, hidden]
    cpu::Matrix w2;  // down_proj [hidden, inter]
    cpu::Matrix w3;  // up_proj   [inter, hidden]
};

// Buffers reused between calls.
struct MoeWorkspace {
    std::vector<float> router_logits;            // rows × experts
    std::vector<std::int32_t> chosen;            // rows × top_k expert ids
    std::vector<float> chosen_weight;            // rows × top_k renormalised weights
    std::vector<std::int64_t> token_of;          // tokens routed to the current expert
    std::vector<float> slot_weight;              // their weights
    std::vector<float> gathered, act, up, down;  // per-expert batches
};

// Picks the top_k of `experts` logits (highest first; ties to the lower id) and their
// renormalised softmax weights, computed in double from the float32 logits.
void route_top_k(const float* logits, std::int64_t experts, std::int64_t top_k, std::int32_t* ids,
                 float* weights);

// out (rows × hidden) = the block's output for xn (rows × hidden, post-attention-normed).
void sparse_moe_block(const float* xn, std::int64_t rows, std::int64_t hidden,
                      const cpu::Matrix& gate, std::span<const ExpertMatrices> experts,
                      std::int64_t top_k, float* out, MoeWorkspace& ws, ThreadPool& pool);

}  // namespace meswitch::model
