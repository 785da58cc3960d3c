// The Llama-family decoder forward pass on the CPU backend (Llama, Mistral, Qwen2, Mixtral).
// Per layer: x += o(attn(rope(q(n1(x))), rope(k(n1(x))), v(n1(x)))); x += down(silu(gate(n2(x))) ·
// up(n2(x))), or for Mixtral x += the sparse MoE block of n2(x) (model/moe_block.h).
#include <algorithm>

#include "backend/cpu/delta_product.h"
#include "backend/cpu/ops.h"
#include "core/thread_pool.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "model/moe_block.h"
#include "model/weights.h"

namespace meswitch {

namespace {

constexpr std::int64_t default_cache_positions = 4096;

struct LinearSlots {
    LinearRef ref;
    model::WeightSlot* weight = nullptr;
    model::WeightSlot* bias = nullptr;  // optional
};

struct LayerSlots {
    model::WeightSlot* input_norm = nullptr;
    model::WeightSlot* post_norm = nullptr;
    LinearSlots q, k, v, o, gate, up, down;  // gate/up/down: dense models only
    std::optional<std::int64_t> window;
    // Mixtral: the router and every expert's w1 (gate_proj), w2 (down_proj), w3 (up_proj).
    model::WeightSlot* router = nullptr;
    struct Expert {
        model::WeightSlot *w1 = nullptr, *w2 = nullptr, *w3 = nullptr;
    };
    std::vector<Expert> experts;
};

}  // namespace

struct Model::Impl {
    ModelConfig config;
    ThreadPool pool;
    model::WeightStore weights;
    std::vector<LayerSlots> layers;
    model::WeightSlot* embed = nullptr;
    model::WeightSlot* final_norm = nullptr;
    model::WeightSlot* head = nullptr;
    std::vector<float> inv_freq;
    DeltaProvider* delta = nullptr;
    // workspace, reused between calls
    std::vector<float> x, xn, q, att, tmp, gate, up, logits_in;
    model::MoeWorkspace moe;
    std::vector<model::ExpertMatrices> expert_matrices;

    Impl(const ModelConfig& c, model::WeightStore w, int threads)
        : config(c), pool(threads), weights(std::move(w)) {
        bind();
    }

    void bind() {
        auto slot = [&](const std::string& name) { return &weights.slot(name); };
        auto linear = [&](std::int64_t l, LinearKind kind, bool bias) {
            LinearSlots s;
            s.ref = {l, kind};
            const std::string name = linear_weight_name(s.ref);
            s.weight = slot(name);
            if (bias) s.bias = slot(name.substr(0, name.size() - 6) + "bias");
            return s;
        };
        const ModelConfig& c = config;
        for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            LayerSlots ls;
            ls.input_norm = slot(p + "input_layernorm.weight");
            ls.post_norm = slot(p + "post_attention_layernorm.weight");
            ls.q = linear(l, LinearKind::q_proj, c.attention_qkv_bias);
            ls.k = linear(l, LinearKind::k_proj, c.attention_qkv_bias);
            ls.v = linear(l, LinearKind::v_proj, c.attention_qkv_bias);
            ls.o = linear(l, LinearKind::o_proj, c.attention_out_bias);
            if (c.arch == ModelArch::mixtral) {
                const std::string m = p + "block_sparse_moe.";
                ls.router = slot(m + "gate.weight");
                for (std::int64_t e = 0; e < c.num_local_experts; ++e) {
                    const std::string x = m + "experts." + std::to_string(e) + ".";
                    ls.experts.push_back(
                        {slot(x + "w1.weight"), slot(x + "w2.weight"), slot(x + "w3.weight")});
                }
            } else {
                ls.gate = linear(l, LinearKind::gate_proj, c.mlp_bias);
                ls.up = linear(l, LinearKind::up_proj, c.mlp_bias);
                ls.down = linear(l, LinearKind::down_proj, c.mlp_bias);
            }
            ls.window = c.window_for_layer(l);
            layers.push_back(ls);
        }
        embed = slot("model.embed_tokens.weight");
        final_norm = slot("model.norm.weight");
        head = c.tie_word_embeddings ? embed : slot("lm_head.weight");
        inv_freq = cpu::rope_inv_freq(c.head_dim, c.rope_theta, c.rope_scaling);
    }

    void linear(const LinearSlots& l, const float* in, std::int64_t rows, float* out) {
        const cpu::Matrix w = l.weight->matrix();
        // The separate delta runs on this model's pool: for one-row steps inside the base
        // matrix × vector (its rows added while the weights stream), else right after it.
        const DeltaProvider::RowAdder delta_rows =
            delta ? delta->row_adder(l.ref, in, rows, w.cols, out, w.rows)
                  : DeltaProvider::RowAdder{};
        if (delta_rows && rows == 1) {
            cpu::gemv(w, in, out, pool, &delta_rows);
        } else {
            cpu::matmul(in, rows, w, out, pool);
            if (delta_rows)
                pool.parallel_for(
                    static_cast<std::size_t>(w.rows),
                    [&](std::size_t b, std::size_t e) {
                        delta_rows(static_cast<std::int64_t>(b), static_cast<std::int64_t>(e));
                    },
                    8);
        }
        if (l.bias) cpu::add_bias(out, l.bias->vector(), rows, w.rows);
        if (delta && !delta_rows) delta->add_delta(l.ref, in, rows, w.cols, out, w.rows);
    }

    std::vector<float> forward(std::span<const std::int32_t> tokens, KvCache& cache,
                               const ForwardOptions& opt);
    std::vector<float> forward_batch(std::span<const BatchSequence> batch);

    // forward_batch's workspace and plan of one step.
    struct BatchRun {
        const BatchSequence* seq;
        std::int64_t row0, rows, pos0;
    };
    struct BatchGroup {
        const SequenceDelta* delta;
        std::int64_t row0, rows;
    };
    std::vector<BatchRun> runs;
    std::vector<BatchGroup> groups;
    std::vector<float> bk, bv, head_x, batch_logits;
    void batch_linear(const LinearSlots& l, const float* in, std::int64_t in_cols, float* out,
                      std::int64_t out_cols, bool head = false);
};

std::vector<float> Model::Impl::forward(std::span<const std::int32_t> tokens, KvCache& cache,
                                        const ForwardOptions& opt) {
    const ModelConfig& c = config;
    const std::int64_t rows = static_cast<std::int64_t>(tokens.size());
    if (rows == 0) throw Error(ErrorKind::invalid_argument, "forward: no tokens to run");
    if (cache.layers() != c.num_hidden_layers || cache.kv_dim() != c.kv_dim())
        throw Error(ErrorKind::invalid_argument,
                    "forward: the KV cache was made for another model shape");
    const std::int64_t pos0 = cache.size();
    if (pos0 + rows > cache.capacity())
        throw Error(ErrorKind::invalid_argument,
                    "forward: the context is full (" + std::to_string(pos0) + " + " +
                        std::to_string(rows) + " tokens exceed the KV cache capacity of " +
                        std::to_string(cache.capacity()) + ")");
    const std::int64_t h = c.hidden_size, qd = c.q_dim(), kvd = c.kv_dim(),
                       inter = c.intermediate_size;
    auto sized = [&](std::vector<float>& v, std::int64_t n) {
        v.resize(static_cast<std::size_t>(n));
        return v.data();
    };
    float* xp = sized(x, rows * h);
    float* xnp = sized(xn, rows * h);
    float* qp = sized(q, rows * qd);
    float* attp = sized(att, rows * qd);
    float* tmpp = sized(tmp, rows * h);
    const bool moe_layers = c.arch == ModelArch::mixtral;
    float* gatep = moe_layers ? nullptr : sized(gate, rows * inter);
    float* upp = moe_layers ? nullptr : sized(up, rows * inter);
    const float eps = static_cast<float>(c.rms_norm_eps);
    const std::int64_t first_layer = opt.first_layer;
    const std::int64_t last_layer = opt.last_layer < 0 ? c.num_hidden_layers : opt.last_layer;
    if (first_layer < 0 || first_layer > last_layer || last_layer > c.num_hidden_layers)
        throw Error(ErrorKind::invalid_argument,
                    "forward: layer range [" + std::to_string(first_layer) + ", " +
                        std::to_string(last_layer) + ") is outside the model's " +
                        std::to_string(c.num_hidden_layers) + " layers");
    if (first_layer > 0 && !opt.input_states)
        throw Error(ErrorKind::invalid_argument, "forward: starting at layer " +
                                                     std::to_string(first_layer) +
                                                     " needs the residual stream entering it");

    if (first_layer > 0)
        std::copy_n(opt.input_states, rows * h, xp);
    else
        cpu::embedding(embed->matrix(), tokens, xp);
    for (std::int64_t l = first_layer; l < last_layer; ++l) {
        const LayerSlots& ls = layers[static_cast<std::size_t>(l)];
        cpu::rmsnorm(xp, ls.input_norm->vector(), xnp, rows, h, eps);
        float* kp = cache.key(l, pos0);  // rows of this layer are contiguous in the cache
        float* vp = cache.value(l, pos0);
        linear(ls.q, xnp, rows, qp);
        linear(ls.k, xnp, rows, kp);
        linear(ls.v, xnp, rows, vp);
        cpu::rope(qp, rows, c.num_attention_heads, c.head_dim, pos0, inv_freq);
        cpu::rope(kp, rows, c.num_key_value_heads, c.head_dim, pos0, inv_freq);
        cpu::AttentionShape shape{c.num_attention_heads, c.num_key_value_heads, c.head_dim,
                                  ls.window};
        cpu::attention(qp, rows, pos0, cache.key(l, 0), cache.value(l, 0), kvd, shape, attp, pool);
        linear(ls.o, attp, rows, tmpp);
        cpu::add(xp, tmpp, static_cast<std::size_t>(rows * h));

        cpu::rmsnorm(xp, ls.post_norm->vector(), xnp, rows, h, eps);
        if (moe_layers) {
            expert_matrices.clear();
            for (const LayerSlots::Expert& e : ls.experts)
                expert_matrices.push_back({e.w1->matrix(), e.w2->matrix(), e.w3->matrix()});
            model::sparse_moe_block(xnp, rows, h, ls.router->matrix(), expert_matrices,
                                    c.num_experts_per_tok, tmpp, moe, pool);
            cpu::add(xp, tmpp, static_cast<std::size_t>(rows * h));
            if (opt.on_hidden) opt.on_hidden(l, xp, rows, h);
            continue;
        }
        linear(ls.gate, xnp, rows, gatep);
        linear(ls.up, xnp, rows, upp);
        cpu::swiglu(gatep, upp, gatep, static_cast<std::size_t>(rows * inter));
        linear(ls.down, gatep, rows, tmpp);
        cpu::add(xp, tmpp, static_cast<std::size_t>(rows * h));
        if (opt.on_hidden) opt.on_hidden(l, xp, rows, h);
    }
    if (last_layer < c.num_hidden_layers) return {};  // a window of layers: no head
    cache.set_size(pos0 + rows);

    // Final norm: every row when someone needs them, else only the last.
    const bool all_rows = opt.all_positions || static_cast<bool>(opt.on_hidden);
    const std::int64_t first = all_rows ? 0 : rows - 1;
    const std::int64_t n = rows - first;
    cpu::rmsnorm(xp + first * h, final_norm->vector(), xnp, n, h, eps);
    if (opt.on_hidden) opt.on_hidden(c.num_hidden_layers, xnp, n, h);
    if (!opt.compute_logits) return {};
    const std::int64_t out_rows = opt.all_positions ? rows : 1;
    const float* head_in = opt.all_positions ? xnp : xnp + (n - 1) * h;
    std::vector<float> logits(static_cast<std::size_t>(out_rows * c.vocab_size));
    cpu::matmul(head_in, out_rows, head->matrix(), logits.data(), pool);
    return logits;
}

// ----------------------------------------------------------------------- batched forward

// out = in · Wᵀ for every row of the step, + each group's delta, + the bias (per group: the
// expert's own bias where it has one). A sequence with 4 or more rows runs through GEMM on
// its own (a prompt chunk: compute-bound), the others' rows through one gemv_batch (decode:
// each weight row read once for all of them) — the same kernels forward() uses for the same
// row counts, so results do not depend on the batch.
void Model::Impl::batch_linear(const LinearSlots& l, const float* in, std::int64_t in_cols,
                               float* out, std::int64_t out_cols, bool is_head) {
    const cpu::Matrix w = is_head ? head->matrix() : l.weight->matrix();
    // Each group's delta product, prepared once over the group's rows.
    std::vector<DeltaProvider::RowAdder> adders(groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const BatchGroup& gr = groups[g];
        if (!gr.delta) continue;
        const float* x = in + gr.row0 * in_cols;
        float* y = out + gr.row0 * out_cols;
        adders[g] =
            is_head ? gr.delta->head(x, gr.rows, y) : gr.delta->linear(l.ref, x, gr.rows, y);
    }
    std::vector<const float*> xs;
    std::vector<float*> ys;
    for (const BatchRun& r : runs) {
        if (r.rows >= 4) {
            cpu::gemm(in + r.row0 * in_cols, r.rows, w, out + r.row0 * out_cols, pool);
            continue;
        }
        for (std::int64_t t = 0; t < r.rows; ++t) {
            xs.push_back(in + (r.row0 + t) * in_cols);
            ys.push_back(out + (r.row0 + t) * out_cols);
        }
    }
    std::vector<const cpu::RowsHook*> hooks;
    for (const auto& a : adders)
        if (a) hooks.push_back(&a);
    if (!xs.empty()) {
        cpu::gemv_batch(w, xs, ys, pool, hooks);
    } else if (!hooks.empty()) {
        pool.parallel_for(
            static_cast<std::size_t>(w.rows),
            [&](std::size_t b, std::size_t e) {
                for (const cpu::RowsHook* h : hooks)
                    (*h)(static_cast<std::int64_t>(b), static_cast<std::int64_t>(e));
            },
            8);
    }
    if (is_head || !l.bias) return;
    for (const BatchGroup& gr : groups) {
        const float* b = gr.delta ? gr.delta->vector(l.bias->name) : nullptr;
        cpu::add_bias(out + gr.row0 * out_cols, b ? b : l.bias->vector(), gr.rows, w.rows);
    }
}

std::vector<float> Model::Impl::forward_batch(std::span<const BatchSequence> batch) {
    const ModelConfig& c = config;
    if (batch.empty()) return {};
    if (delta)
        throw Error(ErrorKind::invalid_argument,
                    "forward_batch: the model has a delta provider set; batched sequences carry "
                    "their own deltas");
    // Sequences sharing a delta take consecutive rows (one product per group).
    std::vector<std::size_t> order(batch.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return std::less<const SequenceDelta*>()(batch[a].delta, batch[b].delta);
    });
    runs.clear();
    groups.clear();
    std::int64_t rows = 0;
    for (std::size_t i : order) {
        const BatchSequence& s = batch[i];
        if (s.tokens.empty() || !s.cache)
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: a sequence has no tokens or no KV cache");
        KvCache& cache = *s.cache;
        if (cache.layers() != c.num_hidden_layers || cache.kv_dim() != c.kv_dim())
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: a KV cache was made for another model shape");
        const auto n = static_cast<std::int64_t>(s.tokens.size());
        if (cache.size() + n > cache.capacity())
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: the context is full (" + std::to_string(cache.size()) +
                            " + " + std::to_string(n) + " tokens exceed the KV cache capacity of " +
                            std::to_string(cache.capacity()) + ")");
        runs.push_back({&s, rows, n, cache.size()});
        if (groups.empty() || groups.back().delta != s.delta) groups.push_back({s.delta, rows, 0});
        groups.back().rows += n;
        rows += n;
    }
    for (std::size_t a = 0; a < runs.size(); ++a)
        for (std::size_t b = a + 1; b < runs.size(); ++b)
            if (runs[a].seq->cache == runs[b].seq->cache)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: two sequences share one KV cache");

    const std::int64_t h = c.hidden_size, qd = c.q_dim(), kvd = c.kv_dim(),
                       inter = c.intermediate_size;
    auto sized = [&](std::vector<float>& v, std::int64_t n) {
        v.resize(static_cast<std::size_t>(n));
        return v.data();
    };
    float* xp = sized(x, rows * h);
    float* xnp = sized(xn, rows * h);
    float* qp = sized(q, rows * qd);
    float* attp = sized(att, rows * qd);
    float* tmpp = sized(tmp, rows * h);
    float* kp = sized(bk, rows * kvd);
    float* vp = sized(bv, rows * kvd);
    const bool moe_layers = c.arch == ModelArch::mixtral;
    float* gatep = moe_layers ? nullptr : sized(gate, rows * inter);
    float* upp = moe_layers ? nullptr : sized(up, rows * inter);
    const float eps = static_cast<float>(c.rms_norm_eps);

    auto norm = [&](const model::WeightSlot* weight, const float* in, float* out) {
        for (const BatchGroup& g : groups) {
            const float* v = g.delta ? g.delta->vector(weight->name) : nullptr;
            cpu::rmsnorm(in + g.row0 * h, v ? v : weight->vector(), out + g.row0 * h, g.rows, h,
                         eps);
        }
    };

    for (const BatchRun& r : runs) {
        cpu::embedding(embed->matrix(), r.seq->tokens, xp + r.row0 * h);
        if (r.seq->delta)
            for (std::int64_t t = 0; t < r.rows; ++t)
                r.seq->delta->add_embedding(r.seq->tokens[static_cast<std::size_t>(t)],
                                            xp + (r.row0 + t) * h);
    }
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
        const LayerSlots& ls = layers[static_cast<std::size_t>(l)];
        norm(ls.input_norm, xp, xnp);
        batch_linear(ls.q, xnp, h, qp, qd);
        batch_linear(ls.k, xnp, h, kp, kvd);
        batch_linear(ls.v, xnp, h, vp, kvd);
        cpu::AttentionShape shape{c.num_attention_heads, c.num_key_value_heads, c.head_dim,
                                  ls.window};
        for (const BatchRun& r : runs) {
            KvCache& cache = *r.seq->cache;
            cpu::rope(qp + r.row0 * qd, r.rows, c.num_attention_heads, c.head_dim, r.pos0,
                      inv_freq);
            cpu::rope(kp + r.row0 * kvd, r.rows, c.num_key_value_heads, c.head_dim, r.pos0,
                      inv_freq);
            std::copy_n(kp + r.row0 * kvd, r.rows * kvd, cache.key(l, r.pos0));
            std::copy_n(vp + r.row0 * kvd, r.rows * kvd, cache.value(l, r.pos0));
            cpu::attention(qp + r.row0 * qd, r.rows, r.pos0, cache.key(l, 0), cache.value(l, 0),
                           kvd, shape, attp + r.row0 * qd, pool);
        }
        batch_linear(ls.o, attp, qd, tmpp, h);
        cpu::add(xp, tmpp, static_cast<std::size_t>(rows * h));

        norm(ls.post_norm, xp, xnp);
        if (moe_layers) {
            expert_matrices.clear();
            for (const LayerSlots::Expert& e : ls.experts)
                expert_matrices.push_back({e.w1->matrix(), e.w2->matrix(), e.w3->matrix()});
            // Per sequence: the experts' batches (and so their kernels) stay what they are
            // for the sequence alone.
            for (const BatchRun& r : runs)
                model::sparse_moe_block(xnp + r.row0 * h, r.rows, h, ls.router->matrix(),
                                        expert_matrices, c.num_experts_per_tok, tmpp + r.row0 * h,
                                        moe, pool);
            cpu::add(xp, tmpp, static_cast<std::size_t>(rows * h));
            continue;
        }
        batch_linear(ls.gate, xnp, h, gatep, inter);
        batch_linear(ls.up, xnp, h, upp, inter);
        cpu::swiglu(gatep, upp, gatep, static_cast<std::size_t>(rows * inter));
        batch_linear(ls.down, gatep, inter, tmpp, h);
        cpu::add(xp, tmpp, static_cast<std::size_t>(rows * h));
    }
    for (const BatchRun& r : runs) r.seq->cache->set_size(r.pos0 + r.rows);

    // The head's rows: the last of each sequence, or all of them (all_positions), gathered in
    // the runs' order; then the runs and groups are re-laid over those rows.
    std::int64_t out_rows = 0;
    for (const BatchRun& r : runs) out_rows += r.seq->all_positions ? r.rows : 1;
    float* hx = sized(head_x, out_rows * h);
    std::vector<BatchRun> head_runs;
    std::vector<BatchGroup> head_groups;
    std::int64_t o = 0;
    for (const BatchRun& r : runs) {
        const std::int64_t n = r.seq->all_positions ? r.rows : 1;
        const float* v = r.seq->delta ? r.seq->delta->vector(final_norm->name) : nullptr;
        cpu::rmsnorm(xp + (r.row0 + r.rows - n) * h, v ? v : final_norm->vector(), hx + o * h, n, h,
                     eps);
        head_runs.push_back({r.seq, o, n, 0});
        if (head_groups.empty() || head_groups.back().delta != r.seq->delta)
            head_groups.push_back({r.seq->delta, o, 0});
        head_groups.back().rows += n;
        o += n;
    }
    runs.swap(head_runs);
    groups.swap(head_groups);
    std::vector<float>& logits_rows = batch_logits;
    logits_rows.resize(static_cast<std::size_t>(out_rows * c.vocab_size));
    batch_linear(LinearSlots{}, hx, h, logits_rows.data(), c.vocab_size, true);

    // Back to the caller's order.
    std::vector<float> logits(logits_rows.size());
    std::vector<std::int64_t> offset(batch.size());
    {
        std::int64_t at = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            offset[i] = at;
            at += batch[i].all_positions ? static_cast<std::int64_t>(batch[i].tokens.size()) : 1;
        }
    }
    for (std::size_t k = 0; k < order.size(); ++k) {
        const BatchRun& r = runs[k];
        std::copy_n(logits_rows.data() + r.row0 * c.vocab_size, r.rows * c.vocab_size,
                    logits.data() + offset[order[k]] * c.vocab_size);
    }
    return logits;
}

// ----------------------------------------------------------------------------- Model API

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

Model Model::load(const std::filesystem::path& folder, const ModelOptions& options) {
    const ModelConfig config = parse_model_config(folder / "config.json");
    auto weights = model::WeightStore::open(config, folder, options.weights_in_memory);
    return Model(std::make_unique<Impl>(config, std::move(weights), options.threads));
}

Model Model::from_tensors(const ModelConfig& config, std::map<std::string, HostTensor> tensors,
                          const ModelOptions& options) {
    auto weights = model::WeightStore::from_tensors(config, std::move(tensors));
    return Model(std::make_unique<Impl>(config, std::move(weights), options.threads));
}

const ModelConfig& Model::config() const {
    return impl_->config;
}
int Model::threads() const {
    return impl_->pool.size();
}

KvCache Model::make_cache(std::int64_t capacity) const {
    if (capacity <= 0)
        capacity = std::min(impl_->config.max_position_embeddings, default_cache_positions);
    return KvCache(impl_->config, capacity);
}

std::vector<float> Model::forward(std::span<const std::int32_t> tokens, KvCache& cache,
                                  const ForwardOptions& options) {
    return impl_->forward(tokens, cache, options);
}

std::vector<float> Model::forward_batch(std::span<const BatchSequence> batch) {
    return impl_->forward_batch(batch);
}

void Model::release_mapped_pages() const {
    impl_->weights.release_mapped_pages();
}

std::vector<std::string> Model::weight_names() const {
    return impl_->weights.names();
}
TensorView Model::weight(std::string_view name) const {
    return impl_->weights.slot(name).current;
}
void Model::replace_weight(std::string_view name, HostTensor tensor) {
    impl_->weights.replace(name, std::move(tensor));
}
void Model::restore_weight(std::string_view name) {
    impl_->weights.restore(name);
}
void Model::bind_weight(std::string_view name, const TensorView& view) {
    impl_->weights.bind(name, view);
}
void Model::set_delta_provider(DeltaProvider* provider) {
    impl_->delta = provider;
}

std::uint64_t Model::weight_bytes_per_token() const {
    std::uint64_t bytes = 0;
    for (const LayerSlots& ls : impl_->layers) {
        for (const LinearSlots* l : {&ls.q, &ls.k, &ls.v, &ls.o, &ls.gate, &ls.up, &ls.down})
            if (l->weight) bytes += l->weight->current.nbytes;
        if (ls.router) {
            // The router plus top-k experts (all experts of a layer have the same size).
            bytes += ls.router->current.nbytes;
            const LayerSlots::Expert& e = ls.experts.front();
            bytes += static_cast<std::uint64_t>(impl_->config.num_experts_per_tok) *
                     (e.w1->current.nbytes + e.w2->current.nbytes + e.w3->current.nbytes);
        }
    }
    bytes += impl_->head->current.nbytes;
    const cpu::Matrix e = impl_->embed->matrix();
    bytes += e.row_bytes();
    return bytes;
}

}  // namespace meswitch
