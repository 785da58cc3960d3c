// Causal scaled-dot-product attention with grouped-query heads (query head h reads KV head
// h / (heads / kv_heads)) and an optional sliding window, over the KV cache. Work is split
// across (position, head) pairs.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/ops.h"
#include "core/thread_pool.h"

namespace meswitch::cpu {

void attention(const float* q, std::int64_t rows, std::int64_t pos0, const float* keys,
               const float* values, std::int64_t kv_stride, const AttentionShape& s, float* out,
               ThreadPool& pool) {
    const std::int64_t d = s.head_dim;
    const std::int64_t group = s.heads / s.kv_heads;
    const std::int64_t q_stride = s.heads * d;
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    pool.parallel_for(static_cast<std::size_t>(rows * s.heads), [&](std::size_t b, std::size_t e) {
        thread_local std::vector<float> scores;
        thread_local std::vector<float> acc;
        acc.resize(static_cast<std::size_t>(d));
        for (std::size_t task = b; task < e; ++task) {
            const std::int64_t t = static_cast<std::int64_t>(task) / s.heads;
            const std::int64_t h = static_cast<std::int64_t>(task) % s.heads;
            const std::int64_t kvh = h / group;
            const std::int64_t pos = pos0 + t;
            const std::int64_t first =
                s.window ? std::max<std::int64_t>(0, pos - *s.window + 1) : 0;
            const std::int64_t count = pos - first + 1;
            const float* qh = q + t * q_stride + h * d;
            scores.resize(static_cast<std::size_t>(count));
            for (std::int64_t j = 0; j < count; ++j) {
                const float* k = keys + (first + j) * kv_stride + kvh * d;
                float dot = 0.0f;
                for (std::int64_t i = 0; i < d; ++i) dot += qh[i] * k[i];
                scores[j] = dot * scale;
            }
            softmax(scores.data(), count);
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (std::int64_t j = 0; j < count; ++j) {
                const float* v = values + (first + j) * kv_stride + kvh * d;
                const float p = scores[j];
                for (std::int64_t i = 0; i < d; ++i) acc[i] += p * v[i];
            }
            std::copy(acc.begin(), acc.end(), out + t * q_stride + h * d);
        }
    });
}

}  // namespace meswitch::cpu
