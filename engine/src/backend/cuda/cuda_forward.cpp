// CudaModel's forward pass, the same graph as the CPU's (engine/src/model/model.cpp):
// per layer x += o(attn(rope(q(n1(x))), rope(k(n1(x))), v(n1(x)))); x += down(silu(gate(n2(x)))
// · up(n2(x))), with every op on the device and the linears through cuBLAS. Mixtral: x +=
// the sparse MoE block of n2(x): the router logits (float32) come to the host, which picks
// each token's top-k experts and weights exactly like the CPU (model/moe_block.h); each
// expert then runs its tokens (gathered into one batch) through w2(silu(w1 h) ⊙ w3 h) and
// its outputs are added back weighted, expert by expert in id order as on the CPU.
#include <cuda_runtime_api.h>

#include <algorithm>

#include "add.cuh"
#include "argmax.cuh"
#include "attention.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_model_impl.h"
#include "convert.cuh"
#include "delta_matmul.cuh"
#include "embedding.cuh"
#include "gather_rows.cuh"
#include "meswitch/error.h"
#include "model/moe_block.h"
#include "rmsnorm.cuh"
#include "rope.cuh"
#include "scatter_add.cuh"
#include "swiglu.cuh"

namespace meswitch::cuda {

void CudaModel::Impl::reserve_workspace(std::int64_t rows) {
    if (rows <= ws_rows) return;
    const ModelConfig& c = config;
    const std::int64_t h = c.hidden_size, qd = c.q_dim(), inter = c.intermediate_size;
    const std::int64_t widest = std::max({h, qd, inter});
    auto floats = [&](std::int64_t n, const char* what) {
        return alloc->allocate(static_cast<std::size_t>(n) * 4, what);
    };
    x = floats(rows * h, "activations");
    xn = floats(rows * h, "activations");
    q = floats(rows * qd, "queries");
    att = floats(rows * qd, "attention output");
    tmp = floats(rows * h, "activations");
    gate = floats(rows * inter, "MLP activations");
    up = floats(rows * inter, "MLP activations");
    xh = alloc->allocate(static_cast<std::size_t>(rows * widest) * 2, "half activations");
    if (!logits) logits = floats(c.vocab_size, "logits");  // more rows only on demand
    ids = alloc->allocate(static_cast<std::size_t>(rows) * 4, "token ids");
    if (c.arch == ModelArch::mixtral) {
        const std::int64_t routed = rows * c.num_experts_per_tok;
        router_logits = floats(rows * c.num_local_experts, "router logits");
        moe_in = floats(rows * h, "expert inputs");
        moe_out = floats(rows * h, "MoE block output");
        moe_tokens = alloc->allocate(static_cast<std::size_t>(routed) * 4, "routed token rows");
        moe_weights = floats(routed, "routing weights");
    }
    ws_rows = rows;
}

void CudaModel::Impl::base_product(const DeviceWeight& w, const float* in, std::int64_t rows,
                                   float* out) {
    const std::int64_t n_out = w.rows(), n_in = w.cols();
    const void* xin = in;
    if (w.dtype != DType::f32) {
        MESWITCH_CUDA_CHECK(
            kernels::convert_from_f32(in, xh.get(), w.wtype(), rows * n_in, stream));
        xin = xh.get();
    }
    blas->linear(xin, rows, w.data.get(), w.wtype(), n_out, n_in, out);
}

void CudaModel::Impl::delta_product(const kernels::PackedDelta& d, const float* in,
                                    std::int64_t rows, float* out) {
    if (rows <= 0) return;
    const std::int64_t need = kernels::delta_scratch_floats(d, static_cast<int>(rows));
    if (need > delta_scratch_floats) {
        // The old scratch may still be read by queued kernels: its block goes back to the
        // allocator's cache only, and every later use is ordered after them on this stream.
        delta_scratch = alloc->allocate(static_cast<std::size_t>(need) * 4, "delta scratch");
        delta_scratch_floats = need;
    }
    MESWITCH_CUDA_CHECK(kernels::delta_matmul(d, in, static_cast<int>(rows), out,
                                              delta_scratch.as<float>(), stream));
}

void CudaModel::Impl::linear(const LinearSlot& l, const float* in, std::int64_t rows, float* out) {
    base_product(*l.weight, in, rows, out);
    if (l.bias)
        MESWITCH_CUDA_CHECK(
            kernels::add_bias_f32(out, l.bias->f32.as<float>(), rows, l.weight->rows(), stream));
    if (l.separate) delta_product(l.separate->packed(), in, rows, out);
}

std::int64_t CudaModel::Impl::run_layers(std::int64_t rows, const ForwardOptions& opt) {
    const ModelConfig& c = config;
    const std::int64_t h = c.hidden_size, kvd = c.kv_dim(), inter = c.intermediate_size;
    const std::int64_t pos0 = kv->size;
    const float eps = static_cast<float>(c.rms_norm_eps);
    float* xp = x.as<float>();
    float* xnp = xn.as<float>();
    float* qp = q.as<float>();
    float* attp = att.as<float>();
    float* tmpp = tmp.as<float>();
    float* gatep = gate.as<float>();
    float* upp = up.as<float>();
    const int r = static_cast<int>(rows);
    std::vector<float> host_states;
    auto report = [&](std::int64_t layer, const float* states, std::int64_t n) {
        host_states.resize(static_cast<std::size_t>(n * h));
        MESWITCH_CUDA_CHECK(cudaMemcpyAsync(host_states.data(), states, host_states.size() * 4,
                                            cudaMemcpyDeviceToHost, stream));
        sync();
        opt.on_hidden(layer, host_states.data(), n, h);
    };

    MESWITCH_CUDA_CHECK(kernels::embedding(embed->data.get(), embed->wtype(), h,
                                           ids.as<std::int32_t>(), r, xp, stream));
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
        const LayerSlots& ls = layers[static_cast<std::size_t>(l)];
        const std::size_t layer_off = static_cast<std::size_t>(l * kv->capacity * kvd);
        float* kl = kv->keys.as<float>() + layer_off;
        float* vl = kv->values.as<float>() + layer_off;
        float* kp = kl + pos0 * kvd;
        float* vp = vl + pos0 * kvd;
        MESWITCH_CUDA_CHECK(kernels::rmsnorm_f32(xp, ls.input_norm->f32.as<float>(), xnp, r,
                                                 static_cast<int>(h), eps, stream));
        linear(ls.q, xnp, rows, qp);
        linear(ls.k, xnp, rows, kp);
        linear(ls.v, xnp, rows, vp);
        MESWITCH_CUDA_CHECK(kernels::rope_f32(qp, r, static_cast<int>(c.num_attention_heads),
                                              static_cast<int>(c.head_dim), c.q_dim(), pos0,
                                              inv_freq.as<float>(), stream));
        MESWITCH_CUDA_CHECK(kernels::rope_f32(kp, r, static_cast<int>(c.num_key_value_heads),
                                              static_cast<int>(c.head_dim), kvd, pos0,
                                              inv_freq.as<float>(), stream));
        kernels::AttentionArgs a;
        a.q = qp;
        a.rows = r;
        a.pos0 = pos0;
        a.keys = kl;
        a.values = vl;
        a.kv_stride = kvd;
        a.heads = static_cast<int>(c.num_attention_heads);
        a.kv_heads = static_cast<int>(c.num_key_value_heads);
        a.head_dim = static_cast<int>(c.head_dim);
        a.window = ls.window;
        a.out = attp;
        MESWITCH_CUDA_CHECK(kernels::attention_f32(a, stream));
        linear(ls.o, attp, rows, tmpp);
        MESWITCH_CUDA_CHECK(kernels::add_f32(xp, tmpp, rows * h, stream));

        MESWITCH_CUDA_CHECK(kernels::rmsnorm_f32(xp, ls.post_norm->f32.as<float>(), xnp, r,
                                                 static_cast<int>(h), eps, stream));
        if (ls.router) {
            moe_block(ls, xnp, rows, moe_out.as<float>());
            MESWITCH_CUDA_CHECK(kernels::add_f32(xp, moe_out.as<float>(), rows * h, stream));
        } else {
            linear(ls.gate, xnp, rows, gatep);
            linear(ls.up, xnp, rows, upp);
            MESWITCH_CUDA_CHECK(kernels::swiglu_f32(gatep, upp, gatep, rows * inter, stream));
            linear(ls.down, gatep, rows, tmpp);
            MESWITCH_CUDA_CHECK(kernels::add_f32(xp, tmpp, rows * h, stream));
        }
        if (opt.on_hidden) report(l, xp, rows);
    }
    kv->size = pos0 + rows;

    const bool all_rows = opt.all_positions || static_cast<bool>(opt.on_hidden);
    const std::int64_t first = all_rows ? 0 : rows - 1;
    MESWITCH_CUDA_CHECK(kernels::rmsnorm_f32(xp + first * h, final_norm->f32.as<float>(),
                                             xnp + first * h, static_cast<int>(rows - first),
                                             static_cast<int>(h), eps, stream));
    if (opt.on_hidden) report(c.num_hidden_layers, xnp + first * h, rows - first);
    return first;
}

void CudaModel::Impl::moe_block(const LayerSlots& ls, const float* xn, std::int64_t rows,
                                float* out) {
    const ModelConfig& c = config;
    const std::int64_t h = c.hidden_size, inter = c.intermediate_size;
    const std::int64_t n_experts = static_cast<std::int64_t>(ls.experts.size());
    const std::int64_t top_k = c.num_experts_per_tok;
    const auto size = [](std::int64_t n) { return static_cast<std::size_t>(n); };
    MoeRouting& r = routing;

    // Router logits in float32 (the weight's widened copy), then to the host.
    blas->linear(xn, rows, ls.router->f32.get(), kernels::WType::f32, n_experts, h,
                 router_logits.as<float>());
    r.logits.resize(size(rows * n_experts));
    MESWITCH_CUDA_CHECK(cudaMemcpyAsync(r.logits.data(), router_logits.get(), r.logits.size() * 4,
                                        cudaMemcpyDeviceToHost, stream));
    sync();
    r.chosen.resize(size(rows * top_k));
    r.chosen_weight.resize(size(rows * top_k));
    for (std::int64_t t = 0; t < rows; ++t)
        model::route_top_k(r.logits.data() + t * n_experts, n_experts, top_k,
                           r.chosen.data() + t * top_k, r.chosen_weight.data() + t * top_k);

    // Token rows grouped by expert (each expert's in ascending token order, as on the CPU).
    r.offsets.assign(size(n_experts + 1), 0);
    for (const std::int32_t e : r.chosen) ++r.offsets[size(e) + 1];
    for (std::int64_t e = 0; e < n_experts; ++e) r.offsets[size(e + 1)] += r.offsets[size(e)];
    r.tokens.resize(size(rows * top_k));
    r.weights.resize(size(rows * top_k));
    std::vector<std::int64_t> fill(r.offsets.begin(), r.offsets.end() - 1);
    for (std::int64_t t = 0; t < rows; ++t)
        for (std::int64_t k = 0; k < top_k; ++k) {
            const std::int32_t e = r.chosen[size(t * top_k + k)];
            const std::int64_t at = fill[size(e)]++;
            r.tokens[size(at)] = static_cast<std::int32_t>(t);
            r.weights[size(at)] = r.chosen_weight[size(t * top_k + k)];
        }
    // Pageable host memory: the copies have taken the data when the calls return.
    MESWITCH_CUDA_CHECK(cudaMemcpyAsync(moe_tokens.get(), r.tokens.data(), r.tokens.size() * 4,
                                        cudaMemcpyHostToDevice, stream));
    MESWITCH_CUDA_CHECK(cudaMemcpyAsync(moe_weights.get(), r.weights.data(), r.weights.size() * 4,
                                        cudaMemcpyHostToDevice, stream));

    MESWITCH_CUDA_CHECK(cudaMemsetAsync(out, 0, size(rows * h) * 4, stream));
    float* inp = moe_in.as<float>();
    float* gatep = gate.as<float>();
    float* upp = up.as<float>();
    float* downp = tmp.as<float>();
    for (std::int64_t e = 0; e < n_experts; ++e) {
        const std::int64_t off = r.offsets[size(e)];
        const std::int64_t n = r.offsets[size(e + 1)] - off;
        if (n == 0) continue;
        const ExpertSlots& x = ls.experts[size(e)];
        const std::int32_t* token_rows = moe_tokens.as<std::int32_t>() + off;
        MESWITCH_CUDA_CHECK(kernels::gather_rows_f32(xn, h, token_rows, n, inp, stream));
        linear(x.w1, inp, n, gatep);
        linear(x.w3, inp, n, upp);
        MESWITCH_CUDA_CHECK(kernels::swiglu_f32(gatep, upp, gatep, n * inter, stream));
        linear(x.w2, gatep, n, downp);
        MESWITCH_CUDA_CHECK(kernels::scatter_add_weighted_f32(
            out, h, token_rows, moe_weights.as<float>() + off, downp, n, stream));
    }
}

void CudaModel::Impl::head_logits(const float* in, std::int64_t rows, float* out) {
    LinearSlot s;
    s.weight = head;
    linear(s, in, rows, out);
}

std::vector<float> CudaModel::Impl::forward(std::span<const std::int32_t> tokens,
                                            const ForwardOptions& options) {
    Impl& m = *this;
    const ModelConfig& c = m.config;
    const std::int64_t rows = static_cast<std::int64_t>(tokens.size());
    if (rows == 0) throw Error(ErrorKind::invalid_argument, "forward: no tokens to run");
    if (rows > 65535)
        throw Error(ErrorKind::invalid_argument, "forward: at most 65535 tokens per call on CUDA");
    if (m.kv->layers != c.num_hidden_layers || m.kv->kv_dim != c.kv_dim())
        throw Error(ErrorKind::invalid_argument,
                    "forward: the KV cache was made for another model shape");
    if (m.kv->size + rows > m.kv->capacity)
        throw Error(ErrorKind::invalid_argument,
                    "forward: the context is full (" + std::to_string(m.kv->size) + " + " +
                        std::to_string(rows) + " tokens exceed the KV cache capacity of " +
                        std::to_string(m.kv->capacity) + ")");
    for (std::size_t t = 0; t < tokens.size(); ++t)
        if (tokens[t] < 0 || tokens[t] >= c.vocab_size)
            throw Error(ErrorKind::invalid_argument, "token id " + std::to_string(tokens[t]) +
                                                         " at position " + std::to_string(t) +
                                                         " is outside the vocabulary (" +
                                                         std::to_string(c.vocab_size) + " tokens)");
    m.reserve_workspace(rows);
    MESWITCH_CUDA_CHECK(cudaMemcpyAsync(m.ids.get(), tokens.data(), tokens.size() * 4,
                                        cudaMemcpyHostToDevice, m.stream));
    const std::int64_t first = m.run_layers(rows, options);
    if (!options.compute_logits) {
        m.sync();
        return {};
    }
    const std::int64_t h = c.hidden_size;
    const std::int64_t out_rows = options.all_positions ? rows : 1;
    const float* head_in = m.xn.as<float>() + (options.all_positions ? first : rows - 1) * h;
    if (m.logits.size() < static_cast<std::size_t>(out_rows * c.vocab_size) * 4)
        m.logits = m.alloc->allocate(static_cast<std::size_t>(out_rows * c.vocab_size) * 4,
                                     "logits of every position");
    m.head_logits(head_in, out_rows, m.logits.as<float>());
    std::vector<float> out(static_cast<std::size_t>(out_rows * c.vocab_size));
    MESWITCH_CUDA_CHECK(cudaMemcpyAsync(out.data(), m.logits.get(), out.size() * 4,
                                        cudaMemcpyDeviceToHost, m.stream));
    m.sync();
    return out;
}

std::vector<float> CudaModel::forward(std::span<const std::int32_t> tokens,
                                      const ForwardOptions& options) {
    impl_->kv = &impl_->own_cache;
    return impl_->forward(tokens, options);
}

std::vector<float> CudaModel::forward(std::span<const std::int32_t> tokens, CudaKvCache& cache,
                                      const ForwardOptions& options) {
    impl_->kv = &cache;
    try {
        auto out = impl_->forward(tokens, options);
        impl_->kv = &impl_->own_cache;
        return out;
    } catch (...) {
        impl_->kv = &impl_->own_cache;
        throw;
    }
}

std::vector<std::int32_t> CudaModel::generate_greedy(std::span<const std::int32_t> prompt, int n) {
    Impl& m = *impl_;
    if (n < 1) return {};
    if (m.own_cache.size + static_cast<std::int64_t>(prompt.size()) + n - 1 > m.own_cache.capacity)
        throw Error(ErrorKind::invalid_argument, "generate_greedy: the KV cache is too small");
    std::vector<std::int32_t> out(static_cast<std::size_t>(n));
    ForwardOptions none;
    none.compute_logits = false;
    forward(prompt, none);  // validates ids, fills the cache, leaves the last row normed in xn
    const std::int64_t h = m.config.hidden_size, vocab = m.config.vocab_size;
    const float* last = m.xn.as<float>() + (static_cast<std::int64_t>(prompt.size()) - 1) * h;
    // One device int per step so that the host reads them all once at the end.
    DeviceBuffer chosen = m.alloc->allocate(static_cast<std::size_t>(n) * 4, "generated tokens");
    std::int32_t* chosen_p = chosen.as<std::int32_t>();
    for (int i = 0; i < n; ++i) {
        m.head_logits(last, 1, m.logits.as<float>());
        MESWITCH_CUDA_CHECK(
            kernels::argmax_f32(m.logits.as<float>(), vocab, chosen_p + i, m.stream));
        if (i + 1 == n) break;
        MESWITCH_CUDA_CHECK(
            cudaMemcpyAsync(m.ids.get(), chosen_p + i, 4, cudaMemcpyDeviceToDevice, m.stream));
        m.run_layers(1, ForwardOptions{});
        last = m.xn.as<float>();
    }
    MESWITCH_CUDA_CHECK(
        cudaMemcpyAsync(out.data(), chosen_p, out.size() * 4, cudaMemcpyDeviceToHost, m.stream));
    m.sync();
    return out;
}

}  // namespace meswitch::cuda
