// serve::DeviceBackend over cuda::CudaModel. Compiled in every build (the engine globs
// src/**), so everything is inside MESWITCH_HAVE_CUDA.
#ifdef MESWITCH_HAVE_CUDA

#include "serve/cuda_backend.h"

#include <optional>
#include <set>
#include <span>
#include <vector>

#include "backend/cuda/cuda_model.h"
#include "backend/cuda/device_delta.h"
#include "delta/pipeline/apply.h"
#include "meswitch/error.h"

namespace meswitch::serve {

namespace {

class CudaCache final : public DeviceCache {
public:
    explicit CudaCache(cuda::CudaKvCache cache) : cache_(std::move(cache)) {}
    std::int64_t size() const override { return cache_.size; }
    std::int64_t capacity() const override { return cache_.capacity; }
    void clear() override { cache_.size = 0; }
    void truncate(std::int64_t size) override {
        if (size < 0 || size > cache_.size)
            throw Error(ErrorKind::invalid_argument, "truncate: the KV cache holds " +
                                                         std::to_string(cache_.size) +
                                                         " positions, not " + std::to_string(size));
        cache_.size = size;
    }
    std::uint64_t bytes() const override { return cache_.bytes(); }
    cuda::CudaKvCache& kv() { return cache_; }

private:
    cuda::CudaKvCache cache_;
};

class CudaDelta final : public DeviceDelta {
public:
    struct Linear {
        std::string weight;
        std::optional<LinearRef> ref;  // decoder linear (separate computation possible)
        std::unique_ptr<cuda::LinearDelta> data;
    };
    struct Dense {
        std::string weight;
        std::unique_ptr<cuda::DenseDeltaBuffer> data;
    };
    const std::string& name() const override { return name_; }
    std::uint64_t bytes() const override {
        std::uint64_t n = terms.bytes();
        for (const Linear& l : linears) n += l.data->bytes();
        for (const Dense& d : dense) n += d.data->bytes();
        return n;
    }

    std::string name_;
    std::vector<Linear> linears;
    std::vector<Dense> dense;
    cuda::SequenceTerms terms;  // for batched steps (pointing into linears and dense)
    std::string not_batchable;  // why the terms cannot serve this delta ("" when they can)
};

class CudaBackend final : public DeviceBackend {
public:
    CudaBackend(const Model& host, const BackendOptions& options)
        : gpu_(host, make_options(options)) {}

    std::string kind() const override { return "cuda"; }
    std::string device_name() const override { return gpu_.device_name(); }
    std::uint64_t total_memory() const override { return gpu_.memory().total; }
    std::uint64_t free_memory() const override { return gpu_.memory().free; }

    const ModelConfig& config() const override { return gpu_.config(); }
    std::uint64_t base_bytes() const override { return gpu_.weight_bytes(); }

    std::unique_ptr<DeviceCache> make_cache(std::int64_t capacity) override {
        if (capacity <= 0)
            capacity = std::min<std::int64_t>(gpu_.config().max_position_embeddings, 4096);
        return std::make_unique<CudaCache>(gpu_.make_cache(capacity));
    }

    std::vector<float> forward(std::span<const std::int32_t> tokens, DeviceCache& cache,
                               bool all_positions) override {
        auto* c = dynamic_cast<CudaCache*>(&cache);
        if (!c)
            throw Error(ErrorKind::invalid_argument,
                        "forward: the KV cache belongs to another backend");
        ForwardOptions fo;
        fo.all_positions = all_positions;
        return gpu_.forward(tokens, c->kv(), fo);
    }

    std::unique_ptr<DeviceDelta> upload(const HostDelta& host) override {
        auto d = std::make_unique<CudaDelta>();
        d->name_ = host.name;
        std::set<std::string> names;
        const std::vector<std::string> known = gpu_.weight_names();
        const std::set<std::string> weights(known.begin(), known.end());
        auto check_name = [&](const std::string& weight) {
            if (!names.insert(weight).second)
                throw Error(ErrorKind::invalid_argument,
                            "delta '" + host.name + "' holds tensor '" + weight + "' twice");
            if (!weights.count(weight))
                throw Error(ErrorKind::not_found,
                            "delta '" + host.name + "': the base has no tensor '" + weight + "'");
        };
        try {
            for (const delta::NamedLinear& nl : host.linears) {
                const std::string weight = nl.prefix + ".weight";
                check_name(weight);
                auto data = std::make_unique<cuda::LinearDelta>(gpu_.allocator(), nl.linear,
                                                                host.name + ": " + nl.prefix);
                d->linears.push_back(
                    {weight, delta::parse_linear_prefix(nl.prefix), std::move(data)});
            }
            for (const delta::DenseDelta& dd : host.dense) {
                check_name(dd.name);
                d->dense.push_back(
                    {dd.name, std::make_unique<cuda::DenseDeltaBuffer>(gpu_.allocator(), dd)});
            }
            // Shapes: apply checks them too, but a bad artifact should fail at upload.
            for (const CudaDelta::Linear& l : d->linears) {
                const auto shape = gpu_.weight_shape(l.weight);
                if (shape.size() != 2 || shape[0] != l.data->rows() || shape[1] != l.data->cols())
                    throw Error(ErrorKind::invalid_argument,
                                "delta '" + host.name + "': '" + l.weight + "' is " +
                                    std::to_string(l.data->rows()) + "×" +
                                    std::to_string(l.data->cols()) +
                                    " but the base's tensor has another shape");
            }
            for (const CudaDelta::Dense& dn : d->dense)
                if (gpu_.weight_shape(dn.weight) != dn.data->shape())
                    throw Error(ErrorKind::invalid_argument,
                                "delta '" + host.name + "': dense delta for '" + dn.weight +
                                    "' does not match the base's tensor shape");
            build_terms(*d);
        } catch (const Error& e) {
            d.reset();
            if (e.kind() == ErrorKind::out_of_memory) gpu_.allocator().release_cached();
            throw;
        }
        return d;
    }

    // Batched on the device when every delta in the batch can be added per sequence
    // (CudaModel::forward_batch); otherwise sequence by sequence, activating each delta
    // (the default).
    std::vector<float> forward_batch(std::span<const BatchEntry> batch) override {
        if (active_ && mode_ == DeltaMode::separate)
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: expert '" + active_->name() +
                            "' is active in separate mode; batched sequences carry their own "
                            "deltas");
        std::vector<cuda::CudaBatchSequence> seqs;
        seqs.reserve(batch.size());
        bool per_sequence = true;
        for (const BatchEntry& e : batch) {
            if (!e.cache || e.tokens.empty())
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: a sequence has no tokens or no KV cache");
            auto* c = dynamic_cast<CudaCache*>(e.cache);
            if (!c)
                throw Error(ErrorKind::invalid_argument,
                            "forward_batch: a KV cache belongs to another backend");
            const cuda::SequenceTerms* terms = nullptr;
            if (e.delta) {
                const auto* d = dynamic_cast<const CudaDelta*>(e.delta);
                if (!d)
                    throw Error(ErrorKind::invalid_argument, "forward_batch: delta '" +
                                                                 e.delta->name() +
                                                                 "' belongs to another backend");
                if (!d->not_batchable.empty()) per_sequence = false;
                terms = &d->terms;
            }
            seqs.push_back({e.tokens, &c->kv(), terms, e.all_positions});
        }
        if (!per_sequence) return DeviceBackend::forward_batch(batch);
        return gpu_.forward_batch(seqs);
    }

    bool batches_delta(const DeviceDelta& delta, std::string* why_not) const override {
        const auto* d = dynamic_cast<const CudaDelta*>(&delta);
        if (!d) {
            if (why_not) *why_not = "the delta belongs to another backend";
            return false;
        }
        if (why_not) *why_not = d->not_batchable;
        return d->not_batchable.empty();
    }

    void activate(const DeviceDelta* delta, DeltaMode mode) override {
        const auto* next = delta ? dynamic_cast<const CudaDelta*>(delta) : nullptr;
        if (delta && !next)
            throw Error(ErrorKind::invalid_argument,
                        "activate: delta '" + delta->name() + "' belongs to another backend");
        // Weights the next expert rewrites in place are not restored first: apply_delta
        // reads the base from its device copy, so a switch is one pass over them.
        std::set<std::string> rewritten;
        if (next) {
            for (const CudaDelta::Linear& l : next->linears)
                if (mode == DeltaMode::merged || !l.ref) rewritten.insert(l.weight);
            for (const CudaDelta::Dense& dn : next->dense) rewritten.insert(dn.weight);
        }
        deactivate(rewritten);
        if (!next) return;
        try {
            for (const CudaDelta::Linear& l : next->linears) {
                if (mode == DeltaMode::separate && l.ref)
                    gpu_.set_separate_delta(*l.ref, l.data.get());
                else
                    gpu_.apply_delta(l.weight, *l.data);
            }
            for (const CudaDelta::Dense& dn : next->dense)
                gpu_.apply_dense_delta(dn.weight, *dn.data);
            active_ = next;
            mode_ = mode;
        } catch (...) {
            deactivate();
            throw;
        }
    }

    const DeviceDelta* active() const override { return active_; }
    DeltaMode active_mode() const override { return mode_; }
    std::uint64_t restore_overhead_bytes() const override { return gpu_.restore_overhead_bytes(); }
    std::vector<std::byte> read_weight(std::string_view name) const override {
        return gpu_.read_weight(name);
    }

private:
    static cuda::CudaModelOptions make_options(const BackendOptions& options) {
        cuda::CudaModelOptions o;
        o.device = options.device_index;
        o.cache_capacity = 1;  // the backend's caches come from make_cache
        o.restore = cuda::RestoreMode::device_copy;
        return o;
    }

    // The per-sequence terms of a delta, the same split as the CPU backend's
    // (cpu_backend.cpp, build_terms): decoder linears by separate computation, the
    // embeddings and head (compressed or dense) per sequence, 1-D tensors (norms, biases) as
    // base + Δ in float32. Anything else (a Mixtral router or expert, a dense delta of a
    // decoder linear) cannot be added per sequence: not_batchable says which tensor.
    void build_terms(CudaDelta& d) {
        cuda::SequenceTerms& t = d.terms;
        const bool tied = gpu_.config().tie_word_embeddings;
        const std::string embed = "model.embed_tokens.weight", head = "lm_head.weight";
        for (const CudaDelta::Linear& l : d.linears) {
            if (l.ref) {
                t.set_linear(*l.ref, l.data.get());
            } else if (l.weight == embed) {
                t.embedding = l.data.get();
                if (tied) t.head = l.data.get();
            } else if (l.weight == head) {
                t.head = l.data.get();
            } else if (d.not_batchable.empty()) {
                d.not_batchable = "its tensor '" + l.weight + "' is not a decoder linear";
            }
        }
        for (const CudaDelta::Dense& dn : d.dense) {
            const std::vector<std::int64_t> shape = gpu_.weight_shape(dn.weight);
            if (shape.size() == 1) {
                t.vectors.emplace(dn.weight, gpu_.base_vector_f32(dn.weight, dn.data.get()));
            } else if (dn.weight == embed) {
                t.embedding_dense = dn.data.get();
                if (tied) t.head_dense = dn.data.get();
            } else if (dn.weight == head) {
                t.head_dense = dn.data.get();
            } else if (d.not_batchable.empty()) {
                d.not_batchable =
                    "its dense tensor '" + dn.weight + "' is not a norm, bias or embedding";
            }
        }
    }

    // Back to the base, except the weights in `keep` (about to be rewritten from the copy).
    void deactivate(const std::set<std::string>& keep = {}) {
        active_ = nullptr;
        mode_ = DeltaMode::merged;
        gpu_.clear_separate_deltas();
        if (keep.empty()) {
            gpu_.restore_all();
            return;
        }
        for (const std::string& name : gpu_.weight_names())
            if (!keep.count(name) && gpu_.is_modified(name)) gpu_.restore_base(name);
    }

    cuda::CudaModel gpu_;
    const CudaDelta* active_ = nullptr;
    DeltaMode mode_ = DeltaMode::merged;
};

}  // namespace

std::unique_ptr<DeviceBackend> make_cuda_backend(Model host_model, const BackendOptions& options) {
    return std::make_unique<CudaBackend>(host_model, options);
}

}  // namespace meswitch::serve

#endif  // MESWITCH_HAVE_CUDA
