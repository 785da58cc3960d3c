// CudaModel's internals, shared by cuda_model.cpp (upload, weights, switching) and
// cuda_forward.cpp (the forward pass).
#pragma once

#include <cuda_runtime_api.h>

#include <map>
#include <optional>

#include "backend/cuda/allocator.h"
#include "backend/cuda/cublas_handle.h"
#include "backend/cuda/cuda_model.h"
#include "backend/cuda/device_delta.h"
#include "wtype.cuh"

namespace meswitch::cuda {

struct PinnedHost {
    void* ptr = nullptr;
    PinnedHost() = default;
    PinnedHost(const PinnedHost&) = delete;
    PinnedHost& operator=(const PinnedHost&) = delete;
    ~PinnedHost() {
        if (ptr) cudaFreeHost(ptr);
    }
};

// The CUDA stream of one model, destroyed even when construction fails half way.
struct OwnedStream {
    cudaStream_t stream = nullptr;
    OwnedStream() = default;
    OwnedStream(const OwnedStream&) = delete;
    OwnedStream& operator=(const OwnedStream&) = delete;
    ~OwnedStream() {
        if (stream) {
            cudaStreamSynchronize(stream);
            cudaStreamDestroy(stream);
        }
    }
};

struct DeviceWeight {
    std::string name;
    DType dtype = DType::f32;
    std::vector<std::int64_t> shape;
    std::size_t nbytes = 0;
    DeviceBuffer data;  // stored dtype
    DeviceBuffer f32;   // 1-D tensors: widened copy the kernels read
    bool modified = false;
    DeviceBuffer base_copy;                 // RestoreMode::device_copy
    std::unique_ptr<PinnedHost> host_copy;  // RestoreMode::host_copy

    kernels::WType wtype() const { return static_cast<kernels::WType>(static_cast<int>(dtype)); }
    std::int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
    std::int64_t cols() const { return shape.size() < 2 ? 1 : shape[1]; }
    std::int64_t numel() const {
        std::int64_t n = 1;
        for (std::int64_t s : shape) n *= s;
        return n;
    }
};

struct LinearSlot {
    LinearRef ref;
    DeviceWeight* weight = nullptr;
    DeviceWeight* bias = nullptr;
    const LinearDelta* separate = nullptr;
};

// One Mixtral expert: w1 (gate_proj), w2 (down_proj), w3 (up_proj).
struct ExpertSlots {
    LinearSlot w1, w2, w3;
};

struct LayerSlots {
    DeviceWeight* input_norm = nullptr;
    DeviceWeight* post_norm = nullptr;
    LinearSlot q, k, v, o, gate, up, down;  // gate/up/down: dense models only (else no weight)
    std::int64_t window = 0;                // 0: none
    // Mixtral: the router (its weight keeps a widened f32 copy: the router runs in float32)
    // and every expert of the layer.
    DeviceWeight* router = nullptr;
    std::vector<ExpertSlots> experts;
};

// Host-side routing of one MoE layer, reused between layers and calls.
struct MoeRouting {
    std::vector<float> logits;          // rows × experts, copied from the device
    std::vector<std::int32_t> chosen;   // rows × top_k expert ids
    std::vector<float> chosen_weight;   // rows × top_k renormalised weights
    std::vector<std::int32_t> tokens;   // token rows grouped by expert (ascending per expert)
    std::vector<float> weights;         // their weights
    std::vector<std::int64_t> offsets;  // experts + 1 offsets into tokens/weights
};

struct CudaModel::Impl {
    ModelConfig config;
    CudaModelOptions options;
    int device = 0;
    OwnedStream owned_stream;  // destroyed after every member below
    cudaStream_t stream = nullptr;
    std::shared_ptr<DeviceAllocator> alloc;  // outlives every buffer (shared with them)
    std::unique_ptr<CublasHandle> blas;
    std::map<std::string, DeviceWeight, std::less<>> weights;
    std::vector<LayerSlots> layers;
    DeviceWeight* embed = nullptr;
    DeviceWeight* final_norm = nullptr;
    DeviceWeight* head = nullptr;
    DeviceBuffer inv_freq;
    CudaKvCache own_cache;
    CudaKvCache* kv = &own_cache;  // the cache the current forward call uses
    // workspace, grown on demand
    std::int64_t ws_rows = 0;
    DeviceBuffer x, xn, q, att, tmp, gate, up, xh, logits, ids, delta_scratch;
    std::int64_t delta_scratch_floats = 0;
    // Mixtral workspace: router logits, gathered expert inputs, the block's output, and the
    // routed token rows and weights of every expert.
    DeviceBuffer router_logits, moe_in, moe_out, moe_tokens, moe_weights;
    MoeRouting routing;

    Impl(const Model& model, const CudaModelOptions& o);
    ~Impl();

    DeviceWeight& weight(std::string_view name);
    const DeviceWeight& weight(std::string_view name) const;
    void refresh_f32(DeviceWeight& w);
    void save_base(DeviceWeight& w);
    void restore(DeviceWeight& w);
    void sync();
    CudaKvCache make_cache(std::int64_t capacity);

    // forward (cuda_forward.cpp); the cache is *kv
    std::vector<float> forward(std::span<const std::int32_t> tokens, const ForwardOptions& opt);
    void reserve_workspace(std::int64_t rows);
    // out = in · Wᵀ + bias + the slot's separate delta.
    void linear(const LinearSlot& l, const float* in, std::int64_t rows, float* out);
    // out = in · Wᵀ alone (the activations rounded to W's dtype for cuBLAS).
    void base_product(const DeviceWeight& w, const float* in, std::int64_t rows, float* out);
    // out += in · Δ̂ᵀ from the packed codes (separate computation).
    void delta_product(const kernels::PackedDelta& d, const float* in, std::int64_t rows,
                       float* out);
    // Runs rows tokens whose ids are already in `ids`; the final-norm rows [first, rows) end up
    // in xn; returns the index of the first normed row.
    std::int64_t run_layers(std::int64_t rows, const ForwardOptions& opt);
    void head_logits(const float* in, std::int64_t rows, float* out);
    // out (rows × hidden) = layer ls's sparse MoE block of xn (rows × hidden).
    void moe_block(const LayerSlots& ls, const float* xn, std::int64_t rows, float* out);

    // forward_batch (cuda_forward_batch.cpp): the step's sequences in row order (sorted so
    // that sequences sharing terms are contiguous) and the groups of rows sharing terms.
    struct BatchRun {
        const CudaBatchSequence* seq = nullptr;
        std::int64_t row0 = 0, rows = 0, pos0 = 0;
    };
    struct BatchGroup {
        const SequenceTerms* terms = nullptr;
        std::int64_t row0 = 0, rows = 0;
    };
    std::vector<BatchRun> runs;
    std::vector<BatchGroup> groups;
    std::vector<std::int32_t> batch_ids;  // the step's token ids in row order (host)
    DeviceBuffer bk, bv;                  // the step's keys and values before each cache
    std::int64_t batch_kv_rows = 0;
    std::vector<float> forward_batch(std::span<const CudaBatchSequence> batch);
    // out = in · Wᵀ for all rows + each group's delta + each group's bias.
    void batch_linear(const LinearSlot& l, const float* in, float* out);
    // `fn(values, row0, rows)` over runs of consecutive groups that use the same f32 values
    // of 1-D weight w (a group's own from its terms, else the base's).
    void for_each_vector(const DeviceWeight& w,
                         const std::function<void(const float*, std::int64_t, std::int64_t)>& fn);
};

}  // namespace meswitch::cuda
