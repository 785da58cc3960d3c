// Choosing a backend by name: "cpu", "cuda" or "auto".
#include <algorithm>
#include <functional>
#include <string>

#include "meswitch/error.h"
#include "meswitch/system.h"
#include "serve/device_backend.h"

#if defined(MESWITCH_HAVE_CUDA) && __has_include("serve/cuda_backend.h")
#include "serve/cuda_backend.h"
#define MESWITCH_SERVE_HAS_CUDA_BACKEND 1
#endif

namespace meswitch::serve {

namespace {

// Why the CUDA backend cannot run here, or "" when it can.
std::string cuda_unavailable(const BackendOptions& options) {
#ifdef MESWITCH_SERVE_HAS_CUDA_BACKEND
    const DeviceScan scan = scan_devices();
    if (scan.devices.empty())
        return "no CUDA device is usable (" +
               (scan.note.empty() ? std::string("none found") : scan.note) + ")";
    if (options.device_index < 0 || options.device_index >= static_cast<int>(scan.devices.size()))
        return "there is no CUDA device " + std::to_string(options.device_index) + " (found " +
               std::to_string(scan.devices.size()) + ")";
    return {};
#elif defined(MESWITCH_HAVE_CUDA)
    return "this build has the CUDA kernels but not yet the CUDA serving backend "
           "(engine/src/serve/cuda_backend.h)";
#else
    return "this build has no CUDA support (configured with MESWITCH_CUDA=OFF or no CUDA "
           "toolkit found); rebuild with the CUDA toolkit installed to use a GPU";
#endif
}

}  // namespace

void require_device(std::string_view device, const BackendOptions& options) {
    if (device == "cpu" || device == "auto") return;
    if (device != "cuda")
        throw Error(ErrorKind::invalid_argument,
                    "unknown device '" + std::string(device) + "' (use cpu, cuda or auto)");
    const std::string why = cuda_unavailable(options);
    if (!why.empty()) throw Error(ErrorKind::device, "--device cuda: " + why);
}

std::unique_ptr<DeviceBackend> open_backend(std::string_view device, Model host_model,
                                            const BackendOptions& options) {
    if (device == "cpu") return make_cpu_backend(std::move(host_model));
    if (device != "cuda" && device != "auto")
        throw Error(ErrorKind::invalid_argument,
                    "unknown device '" + std::string(device) + "' (use cpu, cuda or auto)");
    const std::string why = cuda_unavailable(options);
    if (!why.empty()) {
        if (device == "auto") return make_cpu_backend(std::move(host_model));
        throw Error(ErrorKind::device, "--device cuda: " + why);
    }
#ifdef MESWITCH_SERVE_HAS_CUDA_BACKEND
    return make_cuda_backend(std::move(host_model), options);
#else
    return make_cpu_backend(std::move(host_model));  // unreachable: why is never empty here
#endif
}

}  // namespace meswitch::serve

namespace meswitch::serve {

// Sequence by sequence: each group of entries sharing a delta runs with that delta active in
// separate mode, and the base is active again afterwards.
std::vector<float> DeviceBackend::forward_batch(std::span<const BatchEntry> batch) {
    bool any_delta = false;
    for (const BatchEntry& e : batch) {
        if (!e.cache || e.tokens.empty())
            throw Error(ErrorKind::invalid_argument,
                        "forward_batch: a sequence has no tokens or no KV cache");
        any_delta = any_delta || e.delta;
    }
    if (any_delta && active())
        throw Error(
            ErrorKind::invalid_argument,
            "forward_batch: sequences with their own deltas need the base active (expert '" +
                active()->name() + "' is active)");
    std::vector<std::size_t> order(batch.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return std::less<const DeviceDelta*>()(batch[a].delta, batch[b].delta);
    });
    std::vector<std::vector<float>> out(batch.size());
    try {
        for (std::size_t i : order) {
            const BatchEntry& e = batch[i];
            if (active() != e.delta) activate(e.delta, DeltaMode::separate);
            out[i] = forward(e.tokens, *e.cache, e.all_positions);
        }
    } catch (...) {
        if (any_delta) activate(nullptr, DeltaMode::merged);
        throw;
    }
    if (any_delta) activate(nullptr, DeltaMode::merged);
    std::vector<float> logits;
    for (const auto& o : out) logits.insert(logits.end(), o.begin(), o.end());
    return logits;
}

bool DeviceBackend::batches_delta(const DeviceDelta&, std::string* why_not) const {
    if (why_not) *why_not = "this device runs one expert at a time";
    return false;
}

}  // namespace meswitch::serve
