#include "backend/cuda/device_delta.h"

#include <cuda_runtime_api.h>

#include "backend/cuda/cuda_check.h"
#include "delta/msd/msd_file.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

namespace meswitch::cuda {

DeviceBuffer upload_bytes(DeviceAllocator& alloc, const void* src, std::size_t bytes,
                          const std::string& what) {
    DeviceBuffer buf = alloc.allocate(bytes, what);
    if (bytes > 0) MESWITCH_CUDA_CHECK(cudaMemcpy(buf.get(), src, bytes, cudaMemcpyHostToDevice));
    return buf;
}

LinearDelta::LinearDelta(DeviceAllocator& alloc, const delta::CompressedLinear& c,
                         const std::string& what) {
    c.validate(what);
    const std::int64_t k = c.salient_count();
    // Column map: code index for coded columns, −(s + 1) for salient column s.
    std::vector<std::int32_t> col_src(static_cast<std::size_t>(c.cols));
    std::int32_t code = 0;
    std::size_t s = 0;
    for (std::int64_t col = 0; col < c.cols; ++col) {
        if (s < c.salient_idx.size() && c.salient_idx[s] == col) {
            col_src[static_cast<std::size_t>(col)] = -static_cast<std::int32_t>(s) - 1;
            ++s;
        } else {
            col_src[static_cast<std::size_t>(col)] = code++;
        }
    }
    codes_ = upload_bytes(alloc, c.codes.data(), c.codes.size(), what + " codes");
    scales_ = upload_bytes(alloc, c.scales.data(), c.scales.size() * 2, what + " scales");
    if (c.zero_format != delta::ZeroFormat::midpoint)
        zeros_ = upload_bytes(alloc, c.zeros.data(), c.zeros.size() * 2, what + " zeros");
    if (k > 0) {
        salient_idx_ = upload_bytes(alloc, c.salient_idx.data(), c.salient_idx.size() * 4,
                                    what + " salient indices");
        salient_values_ = upload_bytes(alloc, c.salient_values.data(), c.salient_values.size() * 2,
                                       what + " salient values");
    }
    col_src_ = upload_bytes(alloc, col_src.data(), col_src.size() * 4, what + " column map");

    packed_.rows = c.rows;
    packed_.cols = c.cols;
    packed_.bits = c.bits;
    packed_.row_bytes = c.row_bytes;
    packed_.codes = codes_.as<std::uint8_t>();
    packed_.scales = scales_.as<std::uint16_t>();
    packed_.per_row_scale = c.scales.size() == 1 && c.rows != 1 ? 0 : 1;
    packed_.zero_format = static_cast<int>(c.zero_format);
    packed_.zeros = zeros_.as<std::uint16_t>();
    packed_.salient = k;
    packed_.salient_idx = salient_idx_.as<std::int32_t>();
    packed_.salient_values = salient_values_.as<std::uint16_t>();
    packed_.salient_bf16 = c.salient_dtype == DType::bf16 ? 1 : 0;
    packed_.col_src = col_src_.as<std::int32_t>();
}

std::uint64_t LinearDelta::bytes() const {
    return codes_.size() + scales_.size() + zeros_.size() + salient_idx_.size() +
           salient_values_.size() + col_src_.size();
}

DenseDeltaBuffer::DenseDeltaBuffer(DeviceAllocator& alloc, const delta::DenseDelta& d)
    : shape_(d.shape) {
    numel_ = 1;
    for (std::int64_t s : d.shape) numel_ *= s;
    const std::string what = d.name + " dense delta";
    switch (d.dtype) {
        case DType::f32:
            if (static_cast<std::int64_t>(d.f32.size()) != numel_)
                throw Error(ErrorKind::format, what + ": value count does not match its shape");
            type_ = kernels::WType::f32;
            data_ = upload_bytes(alloc, d.f32.data(), d.f32.size() * 4, what);
            break;
        case DType::f16:
        case DType::bf16:
            if (static_cast<std::int64_t>(d.bits16.size()) != numel_)
                throw Error(ErrorKind::format, what + ": value count does not match its shape");
            type_ = d.dtype == DType::f16 ? kernels::WType::f16 : kernels::WType::bf16;
            data_ = upload_bytes(alloc, d.bits16.data(), d.bits16.size() * 2, what);
            break;
        default:
            throw Error(ErrorKind::unsupported,
                        what + ": dtype " + dtype_name(d.dtype) + " is not F32, F16 or BF16");
    }
}

}  // namespace meswitch::cuda
