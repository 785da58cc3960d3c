// Compressed deltas copied to the device: one linear's packed codes, step sizes, zero
// points and salient columns (plus the column map the kernels decode with), or a dense
// delta tensor. Made from the host forms in delta/quant/quantize.h and delta/msd/msd_file.h.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/cuda/allocator.h"
#include "packed_delta.cuh"
#include "wtype.cuh"

namespace meswitch::delta {
struct CompressedLinear;
struct DenseDelta;
}  // namespace meswitch::delta

namespace meswitch::cuda {

class LinearDelta {
public:
    // Validates `linear` (Error(format)) and uploads it; Error(out_of_memory) leaves nothing
    // allocated. `what` names it in messages.
    LinearDelta(DeviceAllocator& alloc, const delta::CompressedLinear& linear,
                const std::string& what);

    const kernels::PackedDelta& packed() const { return packed_; }
    std::int64_t rows() const { return packed_.rows; }
    std::int64_t cols() const { return packed_.cols; }
    std::uint64_t bytes() const;  // device memory held

private:
    kernels::PackedDelta packed_;
    DeviceBuffer codes_, scales_, zeros_, salient_idx_, salient_values_, col_src_;
};

class DenseDeltaBuffer {
public:
    // f32, f16 or bf16 values (Error(unsupported) otherwise).
    DenseDeltaBuffer(DeviceAllocator& alloc, const delta::DenseDelta& dense);

    const void* data() const { return data_.get(); }
    kernels::WType type() const { return type_; }
    std::int64_t numel() const { return numel_; }
    const std::vector<std::int64_t>& shape() const { return shape_; }
    std::uint64_t bytes() const { return data_.size(); }

private:
    DeviceBuffer data_;
    kernels::WType type_ = kernels::WType::f32;
    std::int64_t numel_ = 0;
    std::vector<std::int64_t> shape_;
};

// Host → device copy of `bytes` into a new buffer (synchronous).
DeviceBuffer upload_bytes(DeviceAllocator& alloc, const void* src, std::size_t bytes,
                          const std::string& what);

}  // namespace meswitch::cuda
