#include "model/moe_block.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/thread_pool.h"

namespace meswitch::model {

void route_top_k(const float* logits, std::int64_t experts, std::int64_t top_k, std::int32_t* ids,
                 float* weights) {
    // Selection on the logits is the same as on the softmax (monotone); ties go to the lower id.
    std::int32_t order[256];
    std::vector<std::int32_t> big;
    std::int32_t* idx = order;
    if (experts > 256) {
        big.resize(static_cast<std::size_t>(experts));
        idx = big.data();
    }
    for (std::int64_t e = 0; e < experts; ++e) idx[e] = static_cast<std::int32_t>(e);
    std::partial_sort(idx, idx + top_k, idx + experts, [&](std::int32_t a, std::int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    const double top = logits[idx[0]];
    double sum = 0;
    double w[256];
    std::vector<double> wbig;
    double* wp = w;
    if (top_k > 256) {
        wbig.resize(static_cast<std::size_t>(top_k));
        wp = wbig.data();
    }
    for (std::int64_t k = 0; k < top_k; ++k) {
        wp[k] = std::exp(static_cast<double>(logits[idx[k]]) - top);
        sum += wp[k];
    }
    for (std::int64_t k = 0; k < top_k; ++k) {
        ids[k] = idx[k];
        weights[k] = static_cast<float>(wp[k] / sum);
    }
}

void sparse_moe_block(const float* xn, std::int64_t rows, std::int64_t hidden,
                      const cpu::Matrix& gate, std::span<const ExpertMatrices> experts,
                      std::int64_t top_k, float* out, MoeWorkspace& ws, ThreadPool& pool) {
    const auto n_experts = static_cast<std::int64_t>(experts.size());
    const auto size = [](std::int64_t n) { return static_cast<std::size_t>(n); };
    ws.router_logits.resize(size(rows * n_experts));
    ws.chosen.resize(size(rows * top_k));
    ws.chosen_weight.resize(size(rows * top_k));
    cpu::matmul(xn, rows, gate, ws.router_logits.data(), pool);
    for (std::int64_t t = 0; t < rows; ++t)
        route_top_k(ws.router_logits.data() + t * n_experts, n_experts, top_k,
                    ws.chosen.data() + t * top_k, ws.chosen_weight.data() + t * top_k);

    std::fill(out, out + rows * hidden, 0.0f);
    for (std::int64_t e = 0; e < n_experts; ++e) {
        ws.token_of.clear();
        ws.slot_weight.clear();
        for (std::int64_t t = 0; t < rows; ++t)
            for (std::int64_t k = 0; k < top_k; ++k)
                if (ws.chosen[size(t * top_k + k)] == e) {
                    ws.token_of.push_back(t);
                    ws.slot_weight.push_back(ws.chosen_weight[size(t * top_k + k)]);
                }
        const auto n = static_cast<std::int64_t>(ws.token_of.size());
        if (n == 0) continue;
        const ExpertMatrices& m = experts[size(e)];
        const std::int64_t inter = m.w1.rows;
        ws.gathered.resize(size(n * hidden));
        ws.act.resize(size(n * inter));
        ws.up.resize(size(n * inter));
        ws.down.resize(size(n * hidden));
        for (std::int64_t i = 0; i < n; ++i)
            std::memcpy(ws.gathered.data() + i * hidden, xn + ws.token_of[size(i)] * hidden,
                        size(hidden) * sizeof(float));
        cpu::matmul(ws.gathered.data(), n, m.w1, ws.act.data(), pool);
        cpu::matmul(ws.gathered.data(), n, m.w3, ws.up.data(), pool);
        cpu::swiglu(ws.act.data(), ws.up.data(), ws.act.data(), size(n * inter));
        cpu::matmul(ws.act.data(), n, m.w2, ws.down.data(), pool);
        for (std::int64_t i = 0; i < n; ++i) {
            float* y = out + ws.token_of[size(i)] * hidden;
            const float* d = ws.down.data() + i * hidden;
            const float w = ws.slot_weight[size(i)];
            for (std::int64_t j = 0; j < hidden; ++j) y[j] += w * d[j];
        }
    }
}

}  // namespace meswitch::model
