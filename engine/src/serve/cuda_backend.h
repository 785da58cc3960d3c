// The CUDA implementation of serve::DeviceBackend (CUDA builds only: backend_factory.cpp
// includes this header under MESWITCH_HAVE_CUDA). The base lives on the GPU as a
// cuda::CudaModel; deltas are uploaded packed; DeltaMode::merged applies them in place with
// the fused kernel W = W_base + Δ̂ reading a device copy of each touched base weight (made on
// first use, reported by restore_overhead_bytes), so that a switch is one pass and the
// restore an exact device copy; DeltaMode::separate adds x·Δ̂ᵀ from the packed codes.
// forward_batch runs several sequences in one step (cuda::CudaModel::forward_batch), each
// expert's terms added to its own sequences' rows only; a delta holding a tensor that cannot
// be added per sequence (batches_delta says which) falls back to sequence by sequence.
#pragma once

#include <memory>

#include "meswitch/model.h"
#include "serve/device_backend.h"

namespace meswitch::serve {

// Error(device, "no CUDA device: …") without a usable GPU; Error(out_of_memory) when the base
// does not fit.
std::unique_ptr<DeviceBackend> make_cuda_backend(Model host_model, const BackendOptions& options);

}  // namespace meswitch::serve
