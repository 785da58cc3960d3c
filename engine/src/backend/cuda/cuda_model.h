// A loaded model's forward pass on one CUDA GPU (compiled only when MESWITCH_HAVE_CUDA).
// The weights are uploaded in their stored dtype (f32, f16, bf16); linears run through
// cuBLAS (float32 accumulation), everything else through kernels/; the KV cache lives on
// the device (float32). Expert switching (ME-Switch):
//   - in place: apply_delta(name, delta) writes W ← W_base + Δ̂ (rounded to W's dtype)
//     from the packed form; restore_base(name) puts the base back bit-identically from a
//     copy kept on the device (RestoreMode::device_copy: a switch is one fused pass
//     W = copy + Δ̂) or in pinned host memory (RestoreMode::host_copy: no device memory,
//     a PCIe copy per restore);
//   - separately: set_separate_delta(ref, delta) adds x·Δ̂ᵀ from the packed codes after
//     that linear, the weight untouched;
//   - per sequence: forward_batch runs several sequences in one step, each with its own KV
//     cache and its own expert's SequenceTerms (delta products on that sequence's rows only,
//     its own norms, biases, embedding rows and head delta), the weights untouched.
//
//   cuda::CudaModel gpu(model);                    // model: meswitch::Model (host)
//   std::vector<float> logits = gpu.forward(ids);  // appends to the device KV cache
//
// One thread at a time. This header includes no CUDA headers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/cuda/allocator.h"
#include "backend/cuda/device.h"
#include "meswitch/model.h"

namespace meswitch::cuda {

class LinearDelta;
class DenseDeltaBuffer;

enum class RestoreMode { device_copy, host_copy };

struct CudaModelOptions {
    int device = -1;                  // −1: the device with the most free memory
    std::int64_t cache_capacity = 0;  // <= 0: min(max_position_embeddings, 4096)
    RestoreMode restore = RestoreMode::device_copy;
};

// A KV cache on the device (float32 keys and values of every layer), e.g. one per
// conversation; made by CudaModel::make_cache and used with that model only.
struct CudaKvCache {
    DeviceBuffer keys, values;  // [layer][capacity][kv_dim]
    std::int64_t layers = 0, kv_dim = 0, capacity = 0, size = 0;
    std::uint64_t bytes() const { return keys.size() + values.size(); }
};

// What one expert adds to the base for the sequences that use it in a batched step
// (CudaModel::forward_batch), the counterpart of meswitch::SequenceDelta on the CPU. The
// deltas it points to are owned by the caller (the serving backend's uploaded expert) and
// must outlive its use; members left empty leave the base alone.
struct SequenceTerms {
    // Decoder linears, y += x·Δ̂ᵀ over the group's rows (indexed by layer · 7 + kind).
    std::vector<const LinearDelta*> linears;
    const LinearDelta* embedding = nullptr;             // compressed: rows decoded per token
    const DenseDeltaBuffer* embedding_dense = nullptr;  // dense (vocab × hidden)
    const LinearDelta* head = nullptr;                  // compressed head (or tied embeddings)
    const DenseDeltaBuffer* head_dense = nullptr;       // dense head delta (vocab × hidden)
    // 1-D tensors (norm weights, biases) as this expert has them: base + Δ in float32, made
    // by CudaModel::base_vector_f32.
    std::map<std::string, DeviceBuffer, std::less<>> vectors;

    void set_linear(LinearRef ref, const LinearDelta* delta);
    const LinearDelta* linear(LinearRef ref) const;    // nullptr: none
    const float* vector(std::string_view name) const;  // nullptr: the base's
    std::uint64_t bytes() const;                       // device memory of the vectors
};

// One sequence of CudaModel::forward_batch.
struct CudaBatchSequence {
    std::span<const std::int32_t> tokens;  // run at positions cache->size …
    CudaKvCache* cache = nullptr;          // made by this model's make_cache
    const SequenceTerms* terms = nullptr;  // nullptr: the weights as they are
    bool all_positions = false;            // logits of every token, not only the last
};

class CudaModel {
public:
    // Uploads every weight of `model` (which may be dropped afterwards). Error(device,
    // "no CUDA device: …") without a GPU; Error(out_of_memory) naming the tensor when the
    // device is full (nothing stays allocated).
    explicit CudaModel(const Model& model, const CudaModelOptions& options = {});
    ~CudaModel();
    CudaModel(CudaModel&&) noexcept;
    CudaModel& operator=(CudaModel&&) noexcept;

    const ModelConfig& config() const;
    std::string device_name() const;
    MemoryInfo memory() const;
    DeviceAllocator& allocator();

    // ------------------------------------------------------------------------ KV cache
    // A separate cache of `capacity` positions (Error(out_of_memory) when it does not fit).
    CudaKvCache make_cache(std::int64_t capacity);
    // The model's own cache, used by the forward calls without a cache argument:
    std::int64_t cache_size() const;
    std::int64_t cache_capacity() const;
    void clear_cache();
    void truncate_cache(std::int64_t size);
    std::uint64_t cache_bytes() const;

    // Runs `tokens` at positions cache_size() … (appending them to the cache), like
    // Model::forward: logits of the last position, or of every position with
    // options.all_positions; options.on_hidden gets host copies of the residual stream.
    std::vector<float> forward(std::span<const std::int32_t> tokens,
                               const ForwardOptions& options = {});
    // Same on a cache from make_cache.
    std::vector<float> forward(std::span<const std::int32_t> tokens, CudaKvCache& cache,
                               const ForwardOptions& options = {});
    // One step for several sequences (Model::forward_batch semantics): every linear's base
    // product runs once over all rows (one cuBLAS GEMM), each group of sequences sharing
    // terms adds its delta products on its own contiguous rows; RoPE, the KV append and
    // attention run per sequence on its own cache. Returns every sequence's logits in the
    // caller's order (1 or tokens × vocab rows each). Error(invalid_argument) while a
    // separate delta is set (set_separate_delta), for two sequences sharing a cache, an
    // empty sequence, a bad token id or a full cache (nothing is appended then).
    std::vector<float> forward_batch(std::span<const CudaBatchSequence> batch);
    // Greedy decoding on the device: runs `prompt`, then n − 1 more steps feeding each
    // argmax back without a host round trip for the token; returns the n tokens chosen.
    std::vector<std::int32_t> generate_greedy(std::span<const std::int32_t> prompt, int n);

    // ------------------------------------------------------------------------ weights
    std::vector<std::string> weight_names() const;
    // The stored bytes of a weight as they are on the device now. Error(not_found).
    std::vector<std::byte> read_weight(std::string_view name) const;
    std::vector<std::int64_t> weight_shape(std::string_view name) const;  // Error(not_found)
    std::uint64_t weight_bytes() const;            // device bytes of all weights
    std::uint64_t weight_bytes_per_token() const;  // as Model::weight_bytes_per_token

    // -------------------------------------------------------------- expert switching
    // W ← W_base + Δ̂ in place (restoring W_base first if another delta was applied).
    // Error(invalid_argument) when the shapes differ; Error(not_found) for a bad name.
    void apply_delta(std::string_view weight_name, const LinearDelta& delta);
    void apply_dense_delta(std::string_view weight_name, const DenseDeltaBuffer& delta);
    void restore_base(std::string_view weight_name);  // no-op when unmodified
    void restore_all();
    bool is_modified(std::string_view weight_name) const;
    std::uint64_t restore_overhead_bytes() const;  // device bytes of the base copies
    // A float32 device copy of 1-D weight `name` as the base has it (its pristine value even
    // while a delta is applied in place), plus `delta` when given: the vectors of
    // SequenceTerms. Error(not_found); Error(invalid_argument) for a weight that is not 1-D
    // or a delta of another shape.
    DeviceBuffer base_vector_f32(std::string_view name, const DenseDeltaBuffer* delta = nullptr);
    void release_base_copies();  // restore_all, then free the copies

    // y += x·Δ̂ᵀ after that linear (nullptr clears). The delta must outlive its use.
    void set_separate_delta(LinearRef ref, const LinearDelta* delta);
    void clear_separate_deltas();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The decode benchmark on the GPU: prefill, then greedy decode steps at batch 1 timed on
// the device; memory_bandwidth_gbps is the measured device read bandwidth (1 GiB
// streamed), the bound is that bandwidth over weight_bytes_per_token.
BenchDecodeResult bench_decode_cuda(const Model& model, int prefill_tokens, int decode_tokens,
                                    int device = -1);

}  // namespace meswitch::cuda
