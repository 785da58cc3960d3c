// The CPU backend: the base is a meswitch::Model in host memory; "device" memory is host RAM.
//
// In place ("merged"): the memory-mapped or in-memory weights stay as loaded; a delta writes
// working = round(base + Δ̂) for each 2-D weight it touches in one SIMD pass over the loaded
// weight (apply_from_base, inplace_delta.h) into a working copy the backend owns (allocated
// on first use, reused) and binds the model to it (Model::bind_weight). Going back to the
// base unbinds (Model::restore_weight): exact by construction and free, so a switch costs one
// pass, as on the GPU, which keeps a device copy of each touched base weight for the same
// reason. 1-D tensors (norms, biases: the model keeps a widened copy of them) are replaced
// by a new tensor and restored with Model::restore_weight.
// Separate: a DeltaProvider adds x·Δ̂ᵀ from the packed codes (cpu::add_delta_product).
#include <unistd.h>

#include <map>
#include <new>
#include <optional>
#include <set>

#include <hwy/aligned_allocator.h>

#include "backend/cpu/delta_product.h"
#include "core/thread_pool.h"
#include "delta/pipeline/apply.h"
#include "meswitch/error.h"
#include "meswitch/system.h"
#include "serve/delta_rows.h"
#include "serve/device_backend.h"

namespace meswitch::serve {

namespace {

class CpuCache final : public DeviceCache {
public:
    explicit CpuCache(KvCache cache) : cache_(std::move(cache)) {}
    std::int64_t size() const override { return cache_.size(); }
    std::int64_t capacity() const override { return cache_.capacity(); }
    void clear() override { cache_.clear(); }
    void truncate(std::int64_t size) override { cache_.truncate(size); }
    std::uint64_t bytes() const override { return cache_.bytes(); }
    KvCache& kv() { return cache_; }

private:
    KvCache cache_;
};

class CpuDelta;

// The terms one expert adds to the base for its own sequences in a batched step
// (Model::forward_batch): decoder linears and the head from the packed codes, embedding rows
// decoded one by one, 1-D tensors (norms, biases) as base + delta in f32.
class CpuSequenceTerms final : public SequenceDelta {
public:
    std::map<std::int64_t, const cpu::PackedDelta*> linears;  // key(ref)
    const cpu::PackedDelta* head_packed = nullptr;  // compressed head (or tied embeddings)
    DeltaRowFn head_rows;                           // dense head delta rows, else empty
    std::int64_t head_out = 0, hidden = 0;
    DeltaRowFn embedding_rows;  // rows of the embedding delta; empty: none
    std::map<std::string, std::vector<float>, std::less<>> vectors;
    // The rounded activations of the product linear() or head() prepared last: a batched
    // step prepares one product per expert group and linear, so one store per expert suffices.
    mutable cpu::DeltaActsStore store;

    static std::int64_t key(LinearRef ref) { return ref.layer * 16 + static_cast<int>(ref.kind); }

    DeltaProvider::RowAdder linear(LinearRef ref, const float* x, std::int64_t rows,
                                   float* y) const override {
        const auto it = linears.find(key(ref));
        if (it == linears.end()) return {};
        return product(*it->second, x, rows, y);
    }
    DeltaProvider::RowAdder head(const float* x, std::int64_t rows, float* y) const override {
        if (head_packed) return product(*head_packed, x, rows, y);
        if (!head_rows) return {};
        // A dense head delta: each output row decoded, then dotted with every activation row.
        return [this, x, rows, y](std::int64_t r0, std::int64_t r1) {
            std::vector<float> d(static_cast<std::size_t>(hidden));
            for (std::int64_t r = r0; r < r1; ++r) {
                head_rows(r, d.data());
                for (std::int64_t t = 0; t < rows; ++t) {
                    const float* xt = x + t * hidden;
                    float s = 0;
                    for (std::int64_t i = 0; i < hidden; ++i) s += xt[i] * d[i];
                    y[t * head_out + r] += s;
                }
            }
        };
    }
    void add_embedding(std::int32_t token, float* row) const override {
        if (!embedding_rows) return;
        std::vector<float> d(static_cast<std::size_t>(hidden));
        embedding_rows(token, d.data());
        for (std::int64_t i = 0; i < hidden; ++i) row[i] += d[i];
    }
    const float* vector(std::string_view name) const override {
        const auto it = vectors.find(name);
        return it == vectors.end() ? nullptr : it->second.data();
    }

private:
    DeltaProvider::RowAdder product(const cpu::PackedDelta& d, const float* x, std::int64_t rows,
                                    float* y) const {
        const cpu::DeltaProduct p = cpu::prepare_product(d, x, rows, y, store);
        return [p](std::int64_t r0, std::int64_t r1) { p.add_rows(r0, r1); };
    }
};

class CpuDelta final : public DeviceDelta {
public:
    struct Linear {
        std::string weight;            // HF weight name
        std::optional<LinearRef> ref;  // set for decoder linears
        delta::CompressedLinear data;
        cpu::PackedDelta packed;  // separate computation's view of `data` (decoder linears)
    };
    std::string name_;
    std::vector<Linear> linears;
    std::vector<delta::DenseDelta> dense;
    std::uint64_t bytes_ = 0;
    CpuSequenceTerms terms;     // for batched steps
    std::string not_batchable;  // why the terms cannot serve this delta ("" when they can)

    const std::string& name() const override { return name_; }
    std::uint64_t bytes() const override { return bytes_; }
};

// y += x·Δ̂ᵀ for the active delta's decoder linears, from the packed codes (the forward pass
// runs row_adder on the model's pool; add_delta is the one-thread fallback of the interface).
class SeparateProvider final : public DeltaProvider {
public:
    void clear() { layers_.clear(); }
    bool empty() const { return layers_.empty(); }
    void set(LinearRef ref, const cpu::PackedDelta* l) { layers_[key(ref)] = l; }
    void add_delta(LinearRef ref, const float* x, std::int64_t rows, std::int64_t in, float* y,
                   std::int64_t out) override {
        const auto it = layers_.find(key(ref));
        if (it == layers_.end()) return;
        cpu::prepare_product(*it->second, x, rows, y).add_rows(0, out);  // one thread
    }
    RowAdder row_adder(LinearRef ref, const float* x, std::int64_t rows, std::int64_t in, float* y,
                       std::int64_t out) override {
        const auto it = layers_.find(key(ref));
        if (it == layers_.end()) return {};
        const cpu::DeltaProduct product = cpu::prepare_product(*it->second, x, rows, y);
        return [product](std::int64_t r0, std::int64_t r1) { product.add_rows(r0, r1); };
    }

private:
    static std::int64_t key(LinearRef ref) { return ref.layer * 16 + static_cast<int>(ref.kind); }
    std::map<std::int64_t, const cpu::PackedDelta*> layers_;
};

class CpuBackend final : public DeviceBackend {
public:
    explicit CpuBackend(Model model) : model_(std::move(model)), pool_(model_.threads()) {
        for (const std::string& n : model_.weight_names()) base_bytes_ += model_.weight(n).nbytes;
    }
    ~CpuBackend() override {
        try {
            deactivate();
        } catch (...) {  // the model goes away with us
        }
    }

    std::string kind() const override { return "cpu"; }
    std::string device_name() const override {
        return "CPU (" + std::to_string(model_.threads()) + " threads)";
    }
    std::uint64_t total_memory() const override {
        const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? static_cast<std::uint64_t>(pages) * size : 0;
    }
    std::uint64_t free_memory() const override { return host_memory_available(); }

    const ModelConfig& config() const override { return model_.config(); }
    std::uint64_t base_bytes() const override { return base_bytes_; }

    std::unique_ptr<DeviceCache> make_cache(std::int64_t capacity) override {
        return std::make_unique<CpuCache>(model_.make_cache(capacity));
    }

    std::vector<float> forward(std::span<const std::int32_t> tokens, DeviceCache& cache,
                               bool all_positions) override {
        auto* c = dynamic_cast<CpuCache*>(&cache);
        if (!c)
            throw Error(ErrorKind::invalid_argument,
                        "forward: the KV cache belongs to another backend");
        ForwardOptions fo;
        fo.all_positions = all_positions;
        return model_.forward(tokens, c->kv(), fo);
    }

    std::unique_ptr<DeviceDelta> upload(const HostDelta& host) override {
        auto d = std::make_unique<CpuDelta>();
        d->name_ = host.name;
        std::set<std::string> names;
        auto check_name = [&](const std::string& weight) {
            if (!names.insert(weight).second)
                throw Error(ErrorKind::invalid_argument,
                            "delta '" + host.name + "' holds tensor '" + weight + "' twice");
            model_.weight(weight);  // Error(not_found) naming it
        };
        try {
            for (const delta::NamedLinear& nl : host.linears) {
                const std::string weight = nl.prefix + ".weight";
                check_name(weight);
                nl.linear.validate(host.name + ": " + nl.prefix);
                const TensorView w = model_.weight(weight);
                if (w.shape.size() != 2 || w.shape[0] != nl.linear.rows ||
                    w.shape[1] != nl.linear.cols)
                    throw Error(ErrorKind::invalid_argument,
                                "delta '" + host.name + "': '" + weight + "' is " +
                                    std::to_string(nl.linear.rows) + "×" +
                                    std::to_string(nl.linear.cols) + " but the base's tensor is " +
                                    w.shape_string());
                d->linears.push_back(
                    {weight, delta::parse_linear_prefix(nl.prefix), nl.linear, {}});
            }
            // After the vector is complete: a PackedDelta points into its linear's codes.
            for (CpuDelta::Linear& l : d->linears)
                if (l.ref) l.packed = cpu::prepare_delta(l.data);
            for (const delta::DenseDelta& dd : host.dense) {
                check_name(dd.name);
                const TensorView w = model_.weight(dd.name);
                std::int64_t numel = 1;
                for (auto s : dd.shape) numel *= s;
                const auto stored = static_cast<std::int64_t>(
                    dd.dtype == DType::f32 ? dd.f32.size() : dd.bits16.size());
                if (dd.shape != w.shape || stored != numel)
                    throw Error(ErrorKind::invalid_argument,
                                "delta '" + host.name + "': dense delta for '" + dd.name +
                                    "' does not match the base's tensor " + w.shape_string());
                d->dense.push_back(dd);
            }
        } catch (const std::bad_alloc&) {
            throw Error(ErrorKind::out_of_memory, "not enough host memory to hold the delta of '" +
                                                      host.name + "' (" +
                                                      std::to_string(host.bytes() >> 20) + " MiB)");
        }
        d->bytes_ = host.bytes();
        build_terms(*d);
        return d;
    }

    std::vector<float> forward_batch(std::span<const BatchEntry> batch) override {
        if (active_ && mode_ == DeltaMode::separate)
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: expert '" + active_->name() +
                            "' is active in separate mode; batched sequences carry their own "
                            "deltas");
        std::vector<BatchSequence> seqs;
        seqs.reserve(batch.size());
        for (const BatchEntry& e : batch) {
            auto* c = dynamic_cast<CpuCache*>(e.cache);
            if (!c)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: a KV cache belongs to another backend");
            const CpuSequenceTerms* terms = nullptr;
            if (e.delta) {
                const auto* d = dynamic_cast<const CpuDelta*>(e.delta);
                if (!d)
                    throw Error(ErrorKind::invalid_argument, "forward_batch: delta '" +
                                                                 e.delta->name() +
                                                                 "' belongs to another backend");
                if (!d->not_batchable.empty())
                    throw Error(ErrorKind::unsupported,
                                "expert '" + d->name() +
                                    "' cannot be served in a batch: " + d->not_batchable);
                terms = &d->terms;
            }
            seqs.push_back({e.tokens, &c->kv(), terms, e.all_positions});
        }
        return model_.forward_batch(seqs);
    }

    bool batches_delta(const DeviceDelta& delta, std::string* why_not) const override {
        const auto* d = dynamic_cast<const CpuDelta*>(&delta);
        if (!d) {
            if (why_not) *why_not = "the delta belongs to another backend";
            return false;
        }
        if (why_not) *why_not = d->not_batchable;
        return d->not_batchable.empty();
    }

    Model* host_model() override { return &model_; }

    void activate(const DeviceDelta* delta, DeltaMode mode) override {
        const auto* next = delta ? dynamic_cast<const CpuDelta*>(delta) : nullptr;
        if (delta && !next)
            throw Error(ErrorKind::invalid_argument,
                        "activate: delta '" + delta->name() + "' belongs to another backend");
        deactivate();
        if (!next) return;
        try {
            for (const CpuDelta::Linear& l : next->linears) {
                if (mode == DeltaMode::separate && l.ref) {
                    provider_.set(*l.ref, &l.packed);
                    continue;
                }
                apply_one(l.weight, compressed_rows(l.data));
            }
            for (const delta::DenseDelta& dd : next->dense) {
                const TensorView w = model_.weight(dd.name);
                apply_one(dd.name, dense_rows(dd, w.shape.back()));
            }
            if (!provider_.empty()) model_.set_delta_provider(&provider_);
            active_ = next;
            mode_ = mode;
        } catch (...) {
            deactivate();
            throw;
        }
    }

    const DeviceDelta* active() const override { return active_; }
    DeltaMode active_mode() const override { return mode_; }

    // The working copies (the loaded weights stay as they are; nothing else is kept).
    std::uint64_t restore_overhead_bytes() const override { return working_bytes_; }

    std::vector<std::byte> read_weight(std::string_view name) const override {
        const TensorView v = model_.weight(name);
        return std::vector<std::byte>(v.data, v.data + v.nbytes);
    }

private:
    // The per-sequence terms of a delta (CpuSequenceTerms), after its linears are packed.
    void build_terms(CpuDelta& d) {
        CpuSequenceTerms& t = d.terms;
        const ModelConfig& c = model_.config();
        t.hidden = c.hidden_size;
        t.head_out = c.vocab_size;
        const std::string embed = "model.embed_tokens.weight", head = "lm_head.weight";
        for (CpuDelta::Linear& l : d.linears) {
            if (l.ref) {
                t.linears[CpuSequenceTerms::key(*l.ref)] = &l.packed;
            } else if (l.weight == embed) {
                t.embedding_rows = compressed_rows(l.data);
                if (c.tie_word_embeddings) {
                    l.packed = cpu::prepare_delta(l.data);
                    t.head_packed = &l.packed;
                }
            } else if (l.weight == head) {
                l.packed = cpu::prepare_delta(l.data);
                t.head_packed = &l.packed;
            } else {
                d.not_batchable = "its tensor '" + l.weight + "' is not a decoder linear";
            }
        }
        for (const delta::DenseDelta& dd : d.dense) {
            const TensorView w = model_.weight(dd.name);
            if (w.shape.size() == 1) {
                std::vector<float> v(static_cast<std::size_t>(w.numel())), dv(v.size());
                convert_to_f32(w.dtype, w.data, v.data(), v.size());
                dense_rows(dd, w.shape.back())(0, dv.data());
                for (std::size_t i = 0; i < v.size(); ++i) v[i] += dv[i];
                t.vectors[dd.name] = std::move(v);
            } else if (dd.name == embed) {
                t.embedding_rows = dense_rows(dd, w.shape.back());
                if (c.tie_word_embeddings) t.head_rows = t.embedding_rows;
            } else if (dd.name == head) {
                t.head_rows = dense_rows(dd, w.shape.back());
            } else {
                d.not_batchable =
                    "its dense tensor '" + dd.name + "' is not a norm, bias or embedding";
            }
        }
    }

    // A 2-D weight's working copy and the loaded (pristine) weight it is computed from.
    struct Working {
        TensorView base;
        hwy::AlignedFreeUniquePtr<std::byte[]> data;  // aligned for non-temporal stores
    };

    // The working copy of a 2-D weight, allocated on first use. Only called while the model
    // reads the loaded weight (nothing bound), so `base` is the pristine tensor.
    Working& working(const std::string& name) {
        auto it = working_.find(name);
        if (it != working_.end()) return it->second;
        const TensorView v = model_.weight(name);
        Working w;
        w.base = v;
        w.data = hwy::AllocateAligned<std::byte>(v.nbytes);
        if (!w.data) {
            throw Error(ErrorKind::out_of_memory, "not enough host memory for a working copy of '" +
                                                      name + "' (" +
                                                      std::to_string(v.nbytes >> 20) + " MiB)");
        }
        working_bytes_ += v.nbytes;
        return working_.emplace(name, std::move(w)).first->second;
    }

    // Merges one tensor of the delta. 2-D: working = round(base + Δ̂) in one pass over the
    // loaded weight, then the model reads the working copy (bind_weight). 1-D (norms,
    // biases: the model widens them anyway): a replaced tensor.
    void apply_one(const std::string& name, const DeltaRowFn& rows) {
        const TensorView v = model_.weight(name);
        applied_.reserve(applied_.size() + 1);  // the pushes below cannot throw
        if (v.shape.size() == 1) {
            std::vector<float> values(static_cast<std::size_t>(v.numel())), d(values.size());
            convert_to_f32(v.dtype, v.data, values.data(), values.size());
            rows(0, d.data());
            for (std::size_t i = 0; i < values.size(); ++i) values[i] += d[i];
            model_.replace_weight(name, HostTensor::from_f32(v.shape, values, v.dtype));
            applied_.push_back(name);
            return;
        }
        if (v.shape.size() != 2)
            throw Error(ErrorKind::unsupported, "cpu backend: cannot apply a delta to '" + name +
                                                    "' of shape " + v.shape_string());
        Working& w = working(name);
        apply_from_base({v.dtype, v.shape[0], v.shape[1], w.data.get()}, w.base.data, rows, &pool_);
        TensorView bound = w.base;
        bound.data = w.data.get();
        model_.bind_weight(name, bound);
        applied_.push_back(name);
    }

    // Back to the base, exactly: the model reads the loaded tensors again.
    void deactivate() {
        model_.set_delta_provider(nullptr);
        provider_.clear();
        while (!applied_.empty()) {
            model_.restore_weight(applied_.back());
            applied_.pop_back();
        }
        active_ = nullptr;
        mode_ = DeltaMode::merged;
    }

    Model model_;
    ThreadPool pool_;
    std::uint64_t base_bytes_ = 0;
    std::map<std::string, Working> working_;
    std::uint64_t working_bytes_ = 0;
    std::vector<std::string> applied_;  // tensors bound or replaced, in order
    SeparateProvider provider_;
    const CpuDelta* active_ = nullptr;
    DeltaMode mode_ = DeltaMode::merged;
};

}  // namespace

std::unique_ptr<DeviceBackend> make_cpu_backend(Model model) {
    return std::make_unique<CpuBackend>(std::move(model));
}

}  // namespace meswitch::serve
