// CudaModel: upload of a host model, device weights, and exact in-place switching.
#include <cuda_runtime_api.h>

#include "backend/cpu/ops.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_model_impl.h"
#include "convert.cuh"
#include "delta_apply.cuh"
#include "meswitch/error.h"

namespace meswitch::cuda {

namespace {

constexpr std::int64_t default_cache_positions = 4096;

}  // namespace

CudaModel::Impl::Impl(const Model& model, const CudaModelOptions& o)
    : config(model.config()), options(o) {
    const ModelConfig& c = config;
    device = select_device(o.device);
    if (c.head_dim > 256 || c.head_dim % 2 != 0)
        throw Error(ErrorKind::unsupported, "CUDA backend: head_dim " + std::to_string(c.head_dim) +
                                                " is not supported (even, at most 256)");
    MESWITCH_CUDA_CHECK(cudaStreamCreateWithFlags(&owned_stream.stream, cudaStreamNonBlocking));
    stream = owned_stream.stream;
    alloc = DeviceAllocator::create();
    blas = std::make_unique<CublasHandle>(stream);

    for (const std::string& name : model.weight_names()) {
        const TensorView v = model.weight(name);
        if (v.dtype != DType::f32 && v.dtype != DType::f16 && v.dtype != DType::bf16)
            throw Error(ErrorKind::unsupported, "CUDA backend: weight '" + name + "' has dtype " +
                                                    dtype_name(v.dtype) +
                                                    " (F32, F16 or BF16 only)");
        DeviceWeight w;
        w.name = name;
        w.dtype = v.dtype;
        w.shape = v.shape;
        w.nbytes = v.nbytes;
        w.data = upload_bytes(*alloc, v.data, v.nbytes, "weight " + name);
        if (v.shape.size() == 1) {
            w.f32 = alloc->allocate(static_cast<std::size_t>(w.numel()) * 4, "weight " + name);
            refresh_f32(w);
        }
        weights.emplace(name, std::move(w));
    }

    auto lin = [&](std::int64_t l, LinearKind kind, bool bias) {
        LinearSlot s;
        s.ref = {l, kind};
        const std::string name = linear_weight_name(s.ref);
        s.weight = &weight(name);
        if (bias) s.bias = &weight(name.substr(0, name.size() - 6) + "bias");
        return s;
    };
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        LayerSlots ls;
        ls.input_norm = &weight(p + "input_layernorm.weight");
        ls.post_norm = &weight(p + "post_attention_layernorm.weight");
        ls.q = lin(l, LinearKind::q_proj, c.attention_qkv_bias);
        ls.k = lin(l, LinearKind::k_proj, c.attention_qkv_bias);
        ls.v = lin(l, LinearKind::v_proj, c.attention_qkv_bias);
        ls.o = lin(l, LinearKind::o_proj, c.attention_out_bias);
        if (c.arch == ModelArch::mixtral) {
            const std::string m = p + "block_sparse_moe.";
            DeviceWeight& router = weight(m + "gate.weight");
            if (router.shape.size() != 2 || router.rows() != c.num_local_experts ||
                router.cols() != c.hidden_size)
                throw Error(ErrorKind::invalid_argument,
                            "CUDA backend: " + router.name + " is not " +
                                std::to_string(c.num_local_experts) + "×" +
                                std::to_string(c.hidden_size) + " (experts × hidden)");
            if (!router.f32) {  // the router runs in float32 whatever the stored dtype
                router.f32 = alloc->allocate(static_cast<std::size_t>(router.numel()) * 4,
                                             "weight " + router.name);
                refresh_f32(router);
            }
            ls.router = &router;
            for (std::int64_t e = 0; e < c.num_local_experts; ++e) {
                const std::string x = m + "experts." + std::to_string(e) + ".";
                ExpertSlots es;
                es.w1.weight = &weight(x + "w1.weight");
                es.w2.weight = &weight(x + "w2.weight");
                es.w3.weight = &weight(x + "w3.weight");
                ls.experts.push_back(es);
            }
        } else {
            ls.gate = lin(l, LinearKind::gate_proj, c.mlp_bias);
            ls.up = lin(l, LinearKind::up_proj, c.mlp_bias);
            ls.down = lin(l, LinearKind::down_proj, c.mlp_bias);
        }
        ls.window = c.window_for_layer(l).value_or(0);
        layers.push_back(ls);
    }
    embed = &weight("model.embed_tokens.weight");
    final_norm = &weight("model.norm.weight");
    head = c.tie_word_embeddings ? embed : &weight("lm_head.weight");
    const std::vector<float> inv = cpu::rope_inv_freq(c.head_dim, c.rope_theta, c.rope_scaling);
    inv_freq = upload_bytes(*alloc, inv.data(), inv.size() * 4, "RoPE frequencies");

    own_cache = make_cache(o.cache_capacity > 0
                               ? o.cache_capacity
                               : std::min(c.max_position_embeddings, default_cache_positions));
    sync();
}

CudaKvCache CudaModel::Impl::make_cache(std::int64_t capacity) {
    if (capacity <= 0)
        throw Error(ErrorKind::invalid_argument,
                    "KV cache capacity must be positive, not " + std::to_string(capacity));
    CudaKvCache cache;
    cache.layers = config.num_hidden_layers;
    cache.kv_dim = config.kv_dim();
    cache.capacity = capacity;
    const std::size_t floats = static_cast<std::size_t>(cache.layers * capacity * cache.kv_dim);
    const std::string what = "a KV cache of " + std::to_string(capacity) + " positions";
    cache.keys = alloc->allocate(floats * 4, what);
    cache.values = alloc->allocate(floats * 4, what);
    return cache;
}

CudaModel::Impl::~Impl() {
    if (stream) cudaStreamSynchronize(stream);
    // Buffers go back to the allocator's cache (it lives on while caches or deltas made by
    // this model still hold buffers).
    x.reset(), xn.reset(), q.reset(), att.reset(), tmp.reset(), gate.reset(), up.reset();
    xh.reset(), logits.reset(), ids.reset(), delta_scratch.reset();
    router_logits.reset(), moe_in.reset(), moe_out.reset(), moe_tokens.reset();
    moe_weights.reset(), bk.reset(), bv.reset();
    own_cache.keys.reset(), own_cache.values.reset(), inv_freq.reset();
    weights.clear();
    blas.reset();
    alloc.reset();
}

void CudaModel::Impl::sync() {
    MESWITCH_CUDA_CHECK(cudaStreamSynchronize(stream));
}

DeviceWeight& CudaModel::Impl::weight(std::string_view name) {
    const auto it = weights.find(name);
    if (it == weights.end())
        throw Error(ErrorKind::not_found,
                    "CUDA model: no weight named '" + std::string(name) + "'");
    return it->second;
}

const DeviceWeight& CudaModel::Impl::weight(std::string_view name) const {
    return const_cast<Impl*>(this)->weight(name);
}

void CudaModel::Impl::refresh_f32(DeviceWeight& w) {
    if (!w.f32) return;
    MESWITCH_CUDA_CHECK(
        kernels::convert_to_f32(w.data.get(), w.wtype(), w.f32.as<float>(), w.numel(), stream));
}

// Keeps what is needed to put the base back exactly, and makes sure w holds the base.
void CudaModel::Impl::save_base(DeviceWeight& w) {
    if (options.restore == RestoreMode::device_copy) {
        if (!w.base_copy) {
            w.base_copy = alloc->allocate(w.nbytes, "base copy of " + w.name);
            MESWITCH_CUDA_CHECK(cudaMemcpyAsync(w.base_copy.get(), w.data.get(), w.nbytes,
                                                cudaMemcpyDeviceToDevice, stream));
        }
        return;  // the apply kernels read the copy, so w need not hold the base
    }
    if (!w.host_copy) {
        auto pinned = std::make_unique<PinnedHost>();
        const cudaError_t err = cudaMallocHost(&pinned->ptr, w.nbytes);
        if (err != cudaSuccess) {
            cudaGetLastError();
            throw Error(ErrorKind::out_of_memory, "could not pin " + format_mib(w.nbytes) +
                                                      " of host memory for the base copy of " +
                                                      w.name);
        }
        MESWITCH_CUDA_CHECK(
            cudaMemcpyAsync(pinned->ptr, w.data.get(), w.nbytes, cudaMemcpyDeviceToHost, stream));
        w.host_copy = std::move(pinned);
    } else if (w.modified) {
        restore(w);
    }
}

void CudaModel::Impl::restore(DeviceWeight& w) {
    if (!w.modified) return;
    if (w.base_copy)
        MESWITCH_CUDA_CHECK(cudaMemcpyAsync(w.data.get(), w.base_copy.get(), w.nbytes,
                                            cudaMemcpyDeviceToDevice, stream));
    else if (w.host_copy)
        MESWITCH_CUDA_CHECK(cudaMemcpyAsync(w.data.get(), w.host_copy->ptr, w.nbytes,
                                            cudaMemcpyHostToDevice, stream));
    else
        throw Error(ErrorKind::device,
                    "CUDA model: " + w.name + " is modified but has no base copy");
    w.modified = false;
    refresh_f32(w);
}

// ------------------------------------------------------------------------------ public

CudaModel::CudaModel(const Model& model, const CudaModelOptions& options)
    : impl_(std::make_unique<Impl>(model, options)) {}
CudaModel::~CudaModel() = default;
CudaModel::CudaModel(CudaModel&&) noexcept = default;
CudaModel& CudaModel::operator=(CudaModel&&) noexcept = default;

const ModelConfig& CudaModel::config() const {
    return impl_->config;
}
std::string CudaModel::device_name() const {
    return cuda::device_name();
}
MemoryInfo CudaModel::memory() const {
    return memory_info();
}
DeviceAllocator& CudaModel::allocator() {
    return *impl_->alloc;
}

CudaKvCache CudaModel::make_cache(std::int64_t capacity) {
    return impl_->make_cache(capacity);
}
std::int64_t CudaModel::cache_size() const {
    return impl_->own_cache.size;
}
std::int64_t CudaModel::cache_capacity() const {
    return impl_->own_cache.capacity;
}
void CudaModel::clear_cache() {
    impl_->own_cache.size = 0;
}
void CudaModel::truncate_cache(std::int64_t size) {
    if (size < 0 || size > impl_->own_cache.size)
        throw Error(ErrorKind::invalid_argument, "truncate_cache: " + std::to_string(size) +
                                                     " is outside [0, " +
                                                     std::to_string(impl_->own_cache.size) + "]");
    impl_->own_cache.size = size;
}
std::uint64_t CudaModel::cache_bytes() const {
    return impl_->own_cache.bytes();
}

std::vector<std::string> CudaModel::weight_names() const {
    std::vector<std::string> out;
    for (const auto& [name, w] : impl_->weights) out.push_back(name);
    return out;
}

std::vector<std::byte> CudaModel::read_weight(std::string_view name) const {
    const DeviceWeight& w = impl_->weight(name);
    std::vector<std::byte> out(w.nbytes);
    impl_->sync();
    MESWITCH_CUDA_CHECK(cudaMemcpy(out.data(), w.data.get(), w.nbytes, cudaMemcpyDeviceToHost));
    return out;
}

std::vector<std::int64_t> CudaModel::weight_shape(std::string_view name) const {
    return impl_->weight(name).shape;
}

std::uint64_t CudaModel::weight_bytes() const {
    std::uint64_t n = 0;
    for (const auto& [name, w] : impl_->weights) n += w.nbytes;
    return n;
}

std::uint64_t CudaModel::weight_bytes_per_token() const {
    std::uint64_t bytes = 0;
    for (const LayerSlots& ls : impl_->layers) {
        for (const LinearSlot* l : {&ls.q, &ls.k, &ls.v, &ls.o, &ls.gate, &ls.up, &ls.down})
            if (l->weight) bytes += l->weight->nbytes;
        if (ls.router && !ls.experts.empty()) {
            // The router plus top-k experts (all experts of a layer have the same size).
            bytes += ls.router->nbytes;
            const ExpertSlots& e = ls.experts.front();
            bytes += static_cast<std::uint64_t>(impl_->config.num_experts_per_tok) *
                     (e.w1.weight->nbytes + e.w2.weight->nbytes + e.w3.weight->nbytes);
        }
    }
    bytes += impl_->head->nbytes;
    bytes += static_cast<std::uint64_t>(impl_->embed->cols()) * dtype_size(impl_->embed->dtype);
    return bytes;
}

void CudaModel::apply_delta(std::string_view name, const LinearDelta& delta) {
    DeviceWeight& w = impl_->weight(name);
    if (w.shape.size() != 2 || w.rows() != delta.rows() || w.cols() != delta.cols())
        throw Error(ErrorKind::invalid_argument,
                    "delta for " + w.name + " is " + std::to_string(delta.rows()) + "×" +
                        std::to_string(delta.cols()) + " but the weight is " +
                        std::to_string(w.rows()) + "×" + std::to_string(w.cols()));
    impl_->save_base(w);
    const void* base = w.base_copy ? w.base_copy.get() : w.data.get();
    MESWITCH_CUDA_CHECK(
        kernels::delta_apply(delta.packed(), base, w.data.get(), w.wtype(), impl_->stream));
    w.modified = true;
    impl_->refresh_f32(w);
    impl_->sync();
}

void CudaModel::apply_dense_delta(std::string_view name, const DenseDeltaBuffer& delta) {
    DeviceWeight& w = impl_->weight(name);
    if (delta.shape() != w.shape)
        throw Error(ErrorKind::invalid_argument,
                    "dense delta for " + w.name + " does not have the weight's shape");
    impl_->save_base(w);
    const void* base = w.base_copy ? w.base_copy.get() : w.data.get();
    MESWITCH_CUDA_CHECK(kernels::dense_delta_apply(base, w.data.get(), w.wtype(), delta.data(),
                                                   delta.type(), w.numel(), impl_->stream));
    w.modified = true;
    impl_->refresh_f32(w);
    impl_->sync();
}

void CudaModel::restore_base(std::string_view name) {
    impl_->restore(impl_->weight(name));
    impl_->sync();
}

void CudaModel::restore_all() {
    for (auto& [name, w] : impl_->weights) impl_->restore(w);
    impl_->sync();
}

bool CudaModel::is_modified(std::string_view name) const {
    return impl_->weight(name).modified;
}

std::uint64_t CudaModel::restore_overhead_bytes() const {
    std::uint64_t n = 0;
    for (const auto& [name, w] : impl_->weights) n += w.base_copy.size();
    return n;
}

DeviceBuffer CudaModel::base_vector_f32(std::string_view name, const DenseDeltaBuffer* delta) {
    Impl& m = *impl_;
    DeviceWeight& w = m.weight(name);
    if (w.shape.size() != 1)
        throw Error(ErrorKind::invalid_argument,
                    "base_vector_f32: " + w.name + " is not a 1-D tensor");
    if (delta && delta->shape() != w.shape)
        throw Error(ErrorKind::invalid_argument,
                    "base_vector_f32: the dense delta for " + w.name + " has another shape");
    const std::int64_t n = w.numel();
    DeviceBuffer out = m.alloc->allocate(static_cast<std::size_t>(n) * 4, "f32 copy of " + w.name);
    // The pristine base: the weight itself, or its copy while a delta is applied in place.
    const void* src = w.data.get();
    DeviceBuffer staged;
    if (w.modified) {
        if (w.base_copy) {
            src = w.base_copy.get();
        } else if (w.host_copy) {
            staged = m.alloc->allocate(w.nbytes, "staged base of " + w.name);
            MESWITCH_CUDA_CHECK(cudaMemcpyAsync(staged.get(), w.host_copy->ptr, w.nbytes,
                                                cudaMemcpyHostToDevice, m.stream));
            src = staged.get();
        } else {
            throw Error(ErrorKind::device,
                        "CUDA model: " + w.name + " is modified but has no base copy");
        }
    }
    MESWITCH_CUDA_CHECK(kernels::convert_to_f32(src, w.wtype(), out.as<float>(), n, m.stream));
    if (delta)
        MESWITCH_CUDA_CHECK(kernels::dense_delta_apply(out.get(), out.get(), kernels::WType::f32,
                                                       delta->data(), delta->type(), n, m.stream));
    m.sync();
    return out;
}

void CudaModel::release_base_copies() {
    restore_all();
    for (auto& [name, w] : impl_->weights) {
        w.base_copy.reset();
        w.host_copy.reset();
    }
}

void CudaModel::set_separate_delta(LinearRef ref, const LinearDelta* delta) {
    if (ref.layer < 0 || ref.layer >= static_cast<std::int64_t>(impl_->layers.size()))
        throw Error(ErrorKind::invalid_argument,
                    "separate delta: layer " + std::to_string(ref.layer) + " does not exist");
    LayerSlots& ls = impl_->layers[static_cast<std::size_t>(ref.layer)];
    LinearSlot* slots[] = {&ls.q, &ls.k, &ls.v, &ls.o, &ls.gate, &ls.up, &ls.down};
    LinearSlot& s = *slots[static_cast<int>(ref.kind)];
    if (!s.weight)
        throw Error(ErrorKind::unsupported,
                    "separate delta: layer " + std::to_string(ref.layer) +
                        " has no dense MLP linear of that kind (a Mixtral layer has experts)");
    if (delta && (delta->rows() != s.weight->rows() || delta->cols() != s.weight->cols()))
        throw Error(ErrorKind::invalid_argument,
                    "separate delta for " + s.weight->name + " is " +
                        std::to_string(delta->rows()) + "×" + std::to_string(delta->cols()) +
                        " but the weight is " + std::to_string(s.weight->rows()) + "×" +
                        std::to_string(s.weight->cols()));
    s.separate = delta;
}

void CudaModel::clear_separate_deltas() {
    for (LayerSlots& ls : impl_->layers)
        for (LinearSlot* s : {&ls.q, &ls.k, &ls.v, &ls.o, &ls.gate, &ls.up, &ls.down})
            s->separate = nullptr;
}

}  // namespace meswitch::cuda
