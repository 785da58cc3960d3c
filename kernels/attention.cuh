// Causal grouped-query attention over a device KV cache, for prefill (many query rows) and
// decode (one row), with an optional sliding window. CPU reference:
// engine/src/backend/cpu/attention.cpp (cpu::attention), same layout and semantics.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace meswitch::kernels {

inline constexpr int attention_max_head_dim = 256;

struct AttentionArgs {
    const float* q = nullptr;  // rows × heads·head_dim; query t at position pos0 + t
    int rows = 0;
    std::int64_t pos0 = 0;
    // Positions 0 … pos0 + rows − 1, one row of kv_heads·head_dim floats every kv_stride.
    const float* keys = nullptr;
    const float* values = nullptr;
    std::int64_t kv_stride = 0;
    int heads = 0;
    int kv_heads = 0;         // divides heads; query head h reads KV head h / (heads / kv_heads)
    int head_dim = 0;         // even, at most attention_max_head_dim
    std::int64_t window = 0;  // > 0: a query at i sees keys j with i − j < window
    float* out = nullptr;     // rows × heads·head_dim
};

// cudaErrorInvalidValue for shapes outside the limits above.
cudaError_t attention_f32(const AttentionArgs& args, cudaStream_t stream);

}  // namespace meswitch::kernels
