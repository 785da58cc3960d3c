// Serving many experts beside one base: what the expert pool holds, and how many experts
// fit in a given memory before anything is loaded.
//
//   ModelConfig c = ...;                                   // e.g. Mistral-7B's shape
//   MemoryEstimate e = estimate_expert_capacity(
//       80ull << 30, model_weight_bytes(c, DType::bf16),
//       compressed_delta_bytes(c, 2), serving_reserve_bytes(c, 4096, true));
//   e.experts_fit;                                         // 2-bit experts beside the base
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "meswitch/model.h"
#include "meswitch/tensor.h"

namespace meswitch {

// -------------------------------------------------------------------------- estimates

// Bytes of every weight of a model of this shape stored in `dtype`.
std::uint64_t model_weight_bytes(const ModelConfig& config, DType dtype);

// Bytes a compressed delta of this shape stores (what the pool keeps per expert): every
// decoder linear quantized to `bits` and the embeddings/head to `embedding_bits` (0: the
// compressor's default, min(4, bits + 2)), with `salient_fraction` of the input channels
// kept in 16 bits, u8 zero points and f16 step sizes per row, norms as dense f16.
std::uint64_t compressed_delta_bytes(const ModelConfig& config, int bits,
                                     double salient_fraction = 0.005, int embedding_bits = 0);

// Memory the serving loop needs beside the weights: a KV cache of `context` positions
// (f16 on a GPU, f32 on the CPU), activations for a prefill of 512 tokens, the logits, and
// on a GPU 1 GiB for the CUDA context and the cuBLAS workspace.
std::uint64_t serving_reserve_bytes(const ModelConfig& config, std::int64_t context, bool gpu);

struct MemoryEstimate {
    std::uint64_t memory_bytes = 0;     // the memory considered (device or budget)
    std::uint64_t base_bytes = 0;       // the resident base
    std::uint64_t reserve_bytes = 0;    // KV cache, activations, runtime
    std::uint64_t expert_bytes = 0;     // one compressed expert
    std::uint64_t available_bytes = 0;  // memory − base − reserve (0 when negative)
    std::int64_t experts_fit = 0;       // whole experts in available_bytes
    bool base_fits = false;             // base + reserve fit at all

    // One line, e.g. "80.0 GiB: base 13.5 GiB + reserve 1.8 GiB leaves 64.7 GiB = 33 experts
    // of 1.96 GiB".
    std::string summary() const;
};

// How many experts of `expert_bytes` fit beside a base of `base_bytes` in `memory_bytes`,
// keeping `reserve_bytes` free. expert_bytes 0 gives experts_fit 0.
MemoryEstimate estimate_expert_capacity(std::uint64_t memory_bytes, std::uint64_t base_bytes,
                                        std::uint64_t expert_bytes, std::uint64_t reserve_bytes);

// The Mistral-7B shape (7.24 B parameters), for estimates and synthetic benchmarks.
ModelConfig mistral_7b_shape();

// ------------------------------------------------------------------------- pool status

// One expert known to the pool.
struct ExpertResidency {
    std::string name;
    std::uint64_t bytes = 0;      // its compressed delta
    bool resident = false;        // held in device memory (else only in host memory)
    bool active = false;          // the expert answering now
    std::uint64_t last_used = 0;  // pool clock tick of its last activation (LRU order)
};

struct PoolStatus {
    std::string device;  // "CPU (8 threads)", "NVIDIA H100 (cuda:0)"
    std::uint64_t device_total_bytes = 0;
    std::uint64_t device_free_bytes = 0;
    std::uint64_t base_bytes = 0;
    std::uint64_t budget_bytes = 0;            // for resident deltas
    std::uint64_t resident_bytes = 0;          // deltas on the device now
    std::uint64_t restore_overhead_bytes = 0;  // exact-restore bookkeeping on the device
    std::string active;                        // "" = the base alone
    std::string active_mode;                   // "in-place" or "separate" ("" for the base)
    std::vector<ExpertResidency> experts;      // in load order
};

}  // namespace meswitch
