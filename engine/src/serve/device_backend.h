// The device interface the ExpertPool and the engine thread use: one implementation per
// device kind (cpu_backend.cpp here; the CUDA one in cuda_backend.cpp in CUDA builds).
// A backend owns, on its device:
//   - the base model, resident from construction to destruction (forward + KV caches);
//   - compressed deltas uploaded by the pool (DeviceDelta), freed when the pool drops them;
//   - the active expert: none (the base), or one delta applied in place (W ← W_base + Δ̂)
//     or computed separately (y = x·W_baseᵀ + x·Δ̂ᵀ from the packed form).
// Every call is synchronous (the work is finished when it returns) and made from one
// thread (the engine thread); a backend needs no locking of its own.
//
// The one hard promise: restoring the base is exact. After any number of activate()
// calls, activate(nullptr) leaves every base weight bit-identical to what was loaded, in
// every dtype (f32, f16, bf16). How a backend keeps that promise is its own choice; both
// backends here merge from a pristine copy of each touched weight (inplace_delta.h) and go
// back to the base by reading that copy again.
//
// Adding a CUDA backend: create engine/src/serve/cuda_backend.h declaring
//     std::unique_ptr<DeviceBackend> make_cuda_backend(Model host_model,
//                                                      const BackendOptions& options);
// (compiled under MESWITCH_HAVE_CUDA); open_backend() picks it up when that header exists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meswitch/compress.h"
#include "meswitch/model.h"
#include "serve/host_delta.h"

namespace meswitch::serve {

struct BackendOptions {
    int device_index = 0;  // cuda: which GPU
};

// A KV cache on the device, for one conversation.
class DeviceCache {
public:
    virtual ~DeviceCache() = default;
    virtual std::int64_t size() const = 0;      // positions held
    virtual std::int64_t capacity() const = 0;  // positions it can hold
    virtual void clear() = 0;
    // Keeps the first `size` positions (prefix reuse); Error(invalid_argument) beyond size().
    virtual void truncate(std::int64_t size) = 0;
    virtual std::uint64_t bytes() const = 0;  // device memory it holds
};

// A compressed delta resident on the device (made by DeviceBackend::upload).
class DeviceDelta {
public:
    virtual ~DeviceDelta() = default;
    virtual const std::string& name() const = 0;
    virtual std::uint64_t bytes() const = 0;  // device memory it holds
};

// One sequence of a batched step (DeviceBackend::forward_batch).
struct BatchEntry {
    std::span<const std::int32_t> tokens;  // run at positions cache->size() …
    DeviceCache* cache = nullptr;
    // Added by separate computation for this sequence alone (decoder linears, embeddings,
    // head and norms all of this expert); nullptr: the weights as they are (the base, or the
    // expert merged in place).
    const DeviceDelta* delta = nullptr;
    bool all_positions = false;
};

class DeviceBackend {
public:
    virtual ~DeviceBackend() = default;

    // ------------------------------------------------------------------------- device
    virtual std::string kind() const = 0;         // "cpu" or "cuda"
    virtual std::string device_name() const = 0;  // "CPU (16 threads)", "NVIDIA H100 (cuda:0)"
    virtual std::uint64_t total_memory() const = 0;
    virtual std::uint64_t free_memory() const = 0;  // now, as the device reports it

    // ---------------------------------------------------------------------- the base
    virtual const ModelConfig& config() const = 0;
    virtual std::uint64_t base_bytes() const = 0;  // device memory of the resident weights
    // Error(out_of_memory) when the device cannot hold `capacity` positions.
    virtual std::unique_ptr<DeviceCache> make_cache(std::int64_t capacity) = 0;
    // Runs `tokens` at positions cache.size() … and appends them to the cache; returns the
    // logits of the last position (vocab floats), or of every position with all_positions,
    // on the host. `cache` must come from this backend's make_cache.
    virtual std::vector<float> forward(std::span<const std::int32_t> tokens, DeviceCache& cache,
                                       bool all_positions = false) = 0;

    // One step for several sequences, each with its own cache and expert (Model::forward_batch
    // semantics): returns every sequence's logits in order, 1 or tokens × vocab rows each. A
    // sequence's logits do not depend on the other sequences. Entries with a delta need no
    // delta active in separate mode (Error(invalid_argument)); with a merged delta active,
    // they run on top of it. The default runs sequence by sequence, activating each entry's
    // delta in separate mode (grouped by delta) and restoring the previous expert after.
    virtual std::vector<float> forward_batch(std::span<const BatchEntry> batch);
    // Whether forward_batch adds `delta` per sequence without touching the weights; false
    // where it must activate it (the default forward_batch), or the delta holds tensors
    // that cannot be added per sequence (e.g. a Mixtral router) — why_not says why.
    virtual bool batches_delta(const DeviceDelta& delta, std::string* why_not = nullptr) const;
    // The host model the backend runs on, when the base lives in host memory (the CPU
    // backend); nullptr on a GPU. Used by the router to read the base's hidden states without
    // a second copy of the base (only while no delta is merged in place).
    virtual Model* host_model() { return nullptr; }

    // ---------------------------------------------------------------------- deltas
    // Copies a delta to the device. Error(out_of_memory) when the device cannot hold it
    // (nothing is left allocated); Error(invalid_argument) naming the tensor when a shape
    // does not fit the base.
    virtual std::unique_ptr<DeviceDelta> upload(const HostDelta& delta) = 0;

    // Makes `delta` the active expert (nullptr: the base alone), first restoring the base
    // exactly from the previous one.
    //   DeltaMode::merged   — in place: W ← W_base + Δ̂ (rounded to W's dtype) for every
    //                          tensor the delta holds;
    //   DeltaMode::separate — decoder linears add x·Δ̂ᵀ from the packed form; the delta's
    //                          other tensors (embeddings, norms, head) are merged in place.
    // On an error the base alone is active (exactly restored) and the error is rethrown.
    // `delta` must outlive its activation (the pool deactivates before freeing it).
    virtual void activate(const DeviceDelta* delta, DeltaMode mode) = 0;
    virtual const DeviceDelta* active() const = 0;
    virtual DeltaMode active_mode() const = 0;
    // Device memory the exact restore uses now, beyond base_bytes() (correction lists,
    // working copies, ...), for the pool's budget and the memory estimate.
    virtual std::uint64_t restore_overhead_bytes() const = 0;

    // The stored bytes of one weight as they are on the device now (tests compare them
    // with the original bits). Error(not_found) for an unknown name.
    virtual std::vector<std::byte> read_weight(std::string_view name) const = 0;
};

// The CPU backend over a loaded model (it takes ownership).
std::unique_ptr<DeviceBackend> make_cpu_backend(Model model);

// Throws Error(device) saying why `device` ("cpu", "cuda", "auto") cannot be used here,
// before anything is loaded (e.g. "this build has no CUDA support ...").
void require_device(std::string_view device, const BackendOptions& options = {});

// "cpu", "cuda", or "auto" (cuda when this build has the CUDA backend and a GPU is
// present, else cpu). Error(device) says why "cuda" is not available (not compiled in, no
// device, no driver).
std::unique_ptr<DeviceBackend> open_backend(std::string_view device, Model host_model,
                                            const BackendOptions& options = {});

}  // namespace meswitch::serve
