// CudaModel::forward_batch: one step for several sequences, each with its own KV cache and its
// own expert terms, the graph of Model::forward_batch (engine/src/model/model.cpp) on the
// device. Sequences sharing terms take consecutive rows; every linear's base product is one
// cuBLAS GEMM over all rows, then each group adds x·Δ̂ᵀ on its own rows (delta_matmul, the
// kernel of separate computation) and its own bias; norms use each group's own weights;
// embedding delta rows are added per token and the head delta per group. RoPE, the KV append
// and attention run per sequence (its own position offset and cache). The MoE block (Mixtral)
// runs once over all rows: routing is per token and a batchable delta never touches the
// router or the experts.
#include <cuda_runtime_api.h>

#include <algorithm>

#include "add.cuh"
#include "attention.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_model_impl.h"
#include "convert.cuh"
#include "delta_apply.cuh"
#include "embedding.cuh"
#include "meswitch/error.h"
#include "rmsnorm.cuh"
#include "rope.cuh"
#include "swiglu.cuh"

namespace meswitch::cuda {

namespace {

constexpr std::int64_t linear_kinds = 7;  // LinearKind q_proj … down_proj

std::size_t linear_index(LinearRef ref) {
    return static_cast<std::size_t>(ref.layer * linear_kinds + static_cast<int>(ref.kind));
}

// Row r of a packed delta as a one-row delta (the same codes, step size, zero point and
// salient values; the column map is shared by every row).
kernels::PackedDelta packed_row(const kernels::PackedDelta& d, std::int64_t r) {
    kernels::PackedDelta v = d;
    v.rows = 1;
    v.codes = d.codes + r * d.row_bytes;
    if (d.per_row_scale) v.scales = d.scales + r;
    if (d.zeros) v.zeros = d.zeros + r;
    if (d.salient > 0 && d.salient_values) v.salient_values = d.salient_values + r * d.salient;
    return v;
}

}  // namespace

// ------------------------------------------------------------------------- SequenceTerms

void SequenceTerms::set_linear(LinearRef ref, const LinearDelta* delta) {
    if (ref.layer < 0) throw Error(ErrorKind::invalid_argument, "sequence terms: negative layer");
    const std::size_t i = linear_index(ref);
    if (linears.size() <= i) linears.resize(i + 1, nullptr);
    linears[i] = delta;
}

const LinearDelta* SequenceTerms::linear(LinearRef ref) const {
    const std::size_t i = linear_index(ref);
    return ref.layer >= 0 && i < linears.size() ? linears[i] : nullptr;
}

const float* SequenceTerms::vector(std::string_view name) const {
    const auto it = vectors.find(name);
    return it == vectors.end() ? nullptr : it->second.as<float>();
}

std::uint64_t SequenceTerms::bytes() const {
    std::uint64_t n = 0;
    for (const auto& [name, v] : vectors) n += v.size();
    return n;
}

// ------------------------------------------------------------------------- batched step

void CudaModel::Impl::for_each_vector(
    const DeviceWeight& w,
    const std::function<void(const float*, std::int64_t, std::int64_t)>& fn) {
    const float* cur = nullptr;
    std::int64_t row0 = 0, rows = 0;
    for (const BatchGroup& g : groups) {
        const float* own = g.terms ? g.terms->vector(w.name) : nullptr;
        const float* v = own ? own : w.f32.as<float>();
        if (rows > 0 && v != cur) {
            fn(cur, row0, rows);
            rows = 0;
        }
        if (rows == 0) {
            cur = v;
            row0 = g.row0;
        }
        rows += g.rows;
    }
    if (rows > 0) fn(cur, row0, rows);
}

void CudaModel::Impl::batch_linear(const LinearSlot& l, const float* in, float* out) {
    const DeviceWeight& w = *l.weight;
    const std::int64_t n_out = w.rows(), n_in = w.cols();
    std::int64_t rows = 0;
    for (const BatchGroup& g : groups) rows += g.rows;
    base_product(w, in, rows, out);
    for (const BatchGroup& g : groups) {
        const LinearDelta* d = g.terms ? g.terms->linear(l.ref) : nullptr;
        if (!d) continue;
        if (d->rows() != n_out || d->cols() != n_in)
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: the delta for " + w.name + " is " +
                            std::to_string(d->rows()) + "×" + std::to_string(d->cols()) +
                            " but the weight is " + std::to_string(n_out) + "×" +
                            std::to_string(n_in));
        delta_product(d->packed(), in + g.row0 * n_in, g.rows, out + g.row0 * n_out);
    }
    if (!l.bias) return;
    for_each_vector(*l.bias, [&](const float* b, std::int64_t row0, std::int64_t n) {
        MESWITCH_CUDA_CHECK(kernels::add_bias_f32(out + row0 * n_out, b, n, n_out, stream));
    });
}

std::vector<float> CudaModel::Impl::forward_batch(std::span<const CudaBatchSequence> batch) {
    const ModelConfig& c = config;
    if (batch.empty()) return {};
    for (const LayerSlots& ls : layers)
        for (const LinearSlot* s : {&ls.q, &ls.k, &ls.v, &ls.o, &ls.gate, &ls.up, &ls.down})
            if (s->separate)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: the model has separate deltas set; batched sequences "
                            "carry their own deltas");

    // Sequences sharing terms take consecutive rows (one delta product per group).
    std::vector<std::size_t> order(batch.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return std::less<const SequenceTerms*>()(batch[a].terms, batch[b].terms);
    });
    runs.clear();
    groups.clear();
    batch_ids.clear();
    std::int64_t rows = 0;
    for (std::size_t i : order) {
        const CudaBatchSequence& s = batch[i];
        if (s.tokens.empty() || !s.cache)
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: a sequence has no tokens or no KV cache");
        const CudaKvCache& cache = *s.cache;
        if (cache.layers != c.num_hidden_layers || cache.kv_dim != c.kv_dim())
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: a KV cache was made for another model shape");
        const auto n = static_cast<std::int64_t>(s.tokens.size());
        if (cache.size + n > cache.capacity)
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: the context is full (" + std::to_string(cache.size) +
                            " + " + std::to_string(n) + " tokens exceed the KV cache capacity of " +
                            std::to_string(cache.capacity) + ")");
        for (std::size_t t = 0; t < s.tokens.size(); ++t)
            if (s.tokens[t] < 0 || s.tokens[t] >= c.vocab_size)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: token id " + std::to_string(s.tokens[t]) +
                                " at position " + std::to_string(t) +
                                " is outside the vocabulary (" + std::to_string(c.vocab_size) +
                                " tokens)");
        runs.push_back({&s, rows, n, cache.size});
        if (groups.empty() || groups.back().terms != s.terms) groups.push_back({s.terms, rows, 0});
        groups.back().rows += n;
        batch_ids.insert(batch_ids.end(), s.tokens.begin(), s.tokens.end());
        rows += n;
    }
    for (std::size_t a = 0; a < runs.size(); ++a)
        for (std::size_t b = a + 1; b < runs.size(); ++b)
            if (runs[a].seq->cache == runs[b].seq->cache)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: two sequences share one KV cache");
    if (rows > 65535)
        throw Error(
            ErrorKind::invalid_argument,
            "forward_batch: at most 65535 tokens per step on CUDA, not " + std::to_string(rows));

    const std::int64_t h = c.hidden_size, qd = c.q_dim(), kvd = c.kv_dim(),
                       inter = c.intermediate_size, vocab = c.vocab_size;
    const float eps = static_cast<float>(c.rms_norm_eps);
    reserve_workspace(rows);
    if (rows > batch_kv_rows) {
        bk = alloc->allocate(static_cast<std::size_t>(rows * kvd) * 4, "batched keys");
        bv = alloc->allocate(static_cast<std::size_t>(rows * kvd) * 4, "batched values");
        batch_kv_rows = rows;
    }
    std::int64_t out_rows = 0;
    for (const BatchRun& r : runs) out_rows += r.seq->all_positions ? r.rows : 1;
    if (logits.size() < static_cast<std::size_t>(out_rows * vocab) * 4)
        logits = alloc->allocate(static_cast<std::size_t>(out_rows * vocab) * 4,
                                 "logits of a batched step");

    float* xp = x.as<float>();
    float* xnp = xn.as<float>();
    float* qp = q.as<float>();
    float* attp = att.as<float>();
    float* tmpp = tmp.as<float>();
    float* gatep = gate.as<float>();
    float* upp = up.as<float>();
    float* kp = bk.as<float>();
    float* vp = bv.as<float>();
    const std::int32_t* idp = ids.as<std::int32_t>();

    // Embeddings, then each group's embedding delta rows.
    MESWITCH_CUDA_CHECK(cudaMemcpyAsync(ids.get(), batch_ids.data(), batch_ids.size() * 4,
                                        cudaMemcpyHostToDevice, stream));
    MESWITCH_CUDA_CHECK(kernels::embedding(embed->data.get(), embed->wtype(), h, idp,
                                           static_cast<int>(rows), xp, stream));
    for (const BatchGroup& g : groups) {
        if (!g.terms) continue;
        if (const DenseDeltaBuffer* d = g.terms->embedding_dense) {
            if (d->shape() != embed->shape)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: the dense embedding delta has another shape");
            MESWITCH_CUDA_CHECK(kernels::embedding(d->data(), d->type(), h, idp + g.row0,
                                                   static_cast<int>(g.rows), tmpp + g.row0 * h,
                                                   stream));
            MESWITCH_CUDA_CHECK(
                kernels::add_f32(xp + g.row0 * h, tmpp + g.row0 * h, g.rows * h, stream));
        }
        if (const LinearDelta* d = g.terms->embedding) {
            if (d->rows() != embed->rows() || d->cols() != h)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: the embedding delta has another shape");
            // Row by row: x_t ← x_t + Δ̂[token_t] in float32 (delta_apply over one row, in place).
            for (std::int64_t t = g.row0; t < g.row0 + g.rows; ++t) {
                const kernels::PackedDelta row =
                    packed_row(d->packed(), batch_ids[static_cast<std::size_t>(t)]);
                MESWITCH_CUDA_CHECK(
                    kernels::delta_apply(row, xp + t * h, xp + t * h, kernels::WType::f32, stream));
            }
        }
    }

    auto norm = [&](const DeviceWeight& w, const float* in, float* out) {
        for_each_vector(w, [&](const float* v, std::int64_t row0, std::int64_t n) {
            MESWITCH_CUDA_CHECK(kernels::rmsnorm_f32(in + row0 * h, v, out + row0 * h,
                                                     static_cast<int>(n), static_cast<int>(h), eps,
                                                     stream));
        });
    };

    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
        const LayerSlots& ls = layers[static_cast<std::size_t>(l)];
        norm(*ls.input_norm, xp, xnp);
        batch_linear(ls.q, xnp, qp);
        batch_linear(ls.k, xnp, kp);
        batch_linear(ls.v, xnp, vp);
        for (const BatchRun& r : runs) {
            CudaKvCache& cache = *r.seq->cache;
            const std::size_t layer_off = static_cast<std::size_t>(l * cache.capacity * kvd);
            float* kl = cache.keys.as<float>() + layer_off;
            float* vl = cache.values.as<float>() + layer_off;
            const int n = static_cast<int>(r.rows);
            float* qr = qp + r.row0 * qd;
            float* kr = kp + r.row0 * kvd;
            MESWITCH_CUDA_CHECK(kernels::rope_f32(qr, n, static_cast<int>(c.num_attention_heads),
                                                  static_cast<int>(c.head_dim), qd, r.pos0,
                                                  inv_freq.as<float>(), stream));
            MESWITCH_CUDA_CHECK(kernels::rope_f32(kr, n, static_cast<int>(c.num_key_value_heads),
                                                  static_cast<int>(c.head_dim), kvd, r.pos0,
                                                  inv_freq.as<float>(), stream));
            const std::size_t kv_bytes = static_cast<std::size_t>(r.rows * kvd) * 4;
            MESWITCH_CUDA_CHECK(
                cudaMemcpyAsync(kl + r.pos0 * kvd, kr, kv_bytes, cudaMemcpyDeviceToDevice, stream));
            MESWITCH_CUDA_CHECK(cudaMemcpyAsync(vl + r.pos0 * kvd, vp + r.row0 * kvd, kv_bytes,
                                                cudaMemcpyDeviceToDevice, stream));
            kernels::AttentionArgs a;
            a.q = qr;
            a.rows = n;
            a.pos0 = r.pos0;
            a.keys = kl;
            a.values = vl;
            a.kv_stride = kvd;
            a.heads = static_cast<int>(c.num_attention_heads);
            a.kv_heads = static_cast<int>(c.num_key_value_heads);
            a.head_dim = static_cast<int>(c.head_dim);
            a.window = ls.window;
            a.out = attp + r.row0 * qd;
            MESWITCH_CUDA_CHECK(kernels::attention_f32(a, stream));
        }
        batch_linear(ls.o, attp, tmpp);
        MESWITCH_CUDA_CHECK(kernels::add_f32(xp, tmpp, rows * h, stream));

        norm(*ls.post_norm, xp, xnp);
        if (ls.router) {
            moe_block(ls, xnp, rows, moe_out.as<float>());
            MESWITCH_CUDA_CHECK(kernels::add_f32(xp, moe_out.as<float>(), rows * h, stream));
        } else {
            batch_linear(ls.gate, xnp, gatep);
            batch_linear(ls.up, xnp, upp);
            MESWITCH_CUDA_CHECK(kernels::swiglu_f32(gatep, upp, gatep, rows * inter, stream));
            batch_linear(ls.down, gatep, tmpp);
            MESWITCH_CUDA_CHECK(kernels::add_f32(xp, tmpp, rows * h, stream));
        }
    }

    // The head's rows: the last of each sequence, or all of them, final-normed into xn in
    // the runs' order; the runs and groups are then re-laid over those rows.
    std::vector<BatchRun> head_runs;
    std::vector<BatchGroup> head_groups;
    std::int64_t o = 0;
    for (const BatchRun& r : runs) {
        const std::int64_t n = r.seq->all_positions ? r.rows : 1;
        const float* own = r.seq->terms ? r.seq->terms->vector(final_norm->name) : nullptr;
        MESWITCH_CUDA_CHECK(kernels::rmsnorm_f32(
            xp + (r.row0 + r.rows - n) * h, own ? own : final_norm->f32.as<float>(), xnp + o * h,
            static_cast<int>(n), static_cast<int>(h), eps, stream));
        head_runs.push_back({r.seq, o, n, 0});
        if (head_groups.empty() || head_groups.back().terms != r.seq->terms)
            head_groups.push_back({r.seq->terms, o, 0});
        head_groups.back().rows += n;
        o += n;
    }
    float* lp = logits.as<float>();
    base_product(*head, xnp, out_rows, lp);
    for (const BatchGroup& g : head_groups) {
        if (!g.terms) continue;
        const float* in = xnp + g.row0 * h;
        float* out = lp + g.row0 * vocab;
        if (const LinearDelta* d = g.terms->head) {
            if (d->rows() != vocab || d->cols() != h)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: the head delta has another shape");
            delta_product(d->packed(), in, g.rows, out);
        }
        if (const DenseDeltaBuffer* d = g.terms->head_dense) {
            if (d->shape() != head->shape)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: the dense head delta has another shape");
            // y += x · Dᵀ through cuBLAS, the activations rounded to the delta's dtype.
            const void* xin = in;
            if (d->type() != kernels::WType::f32) {
                MESWITCH_CUDA_CHECK(
                    kernels::convert_from_f32(in, xh.get(), d->type(), g.rows * h, stream));
                xin = xh.get();
            }
            blas->linear(xin, g.rows, d->data(), d->type(), vocab, h, out, 1.0f);
        }
    }
    std::vector<float> logits_rows(static_cast<std::size_t>(out_rows * vocab));
    MESWITCH_CUDA_CHECK(cudaMemcpyAsync(logits_rows.data(), lp, logits_rows.size() * 4,
                                        cudaMemcpyDeviceToHost, stream));
    sync();
    for (const BatchRun& r : runs) r.seq->cache->size = r.pos0 + r.rows;

    // Back to the caller's order.
    std::vector<std::int64_t> offset(batch.size());
    std::int64_t at = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        offset[i] = at;
        at += batch[i].all_positions ? static_cast<std::int64_t>(batch[i].tokens.size()) : 1;
    }
    std::vector<float> out(logits_rows.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
        const BatchRun& r = head_runs[k];
        std::copy_n(logits_rows.data() + r.row0 * vocab, r.rows * vocab,
                    out.data() + offset[order[k]] * vocab);
    }
    return out;
}

std::vector<float> CudaModel::forward_batch(std::span<const CudaBatchSequence> batch) {
    return impl_->forward_batch(batch);
}

}  // namespace meswitch::cuda
