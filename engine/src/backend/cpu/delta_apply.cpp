// CPU reference of the in-place delta apply: out = round(W_base + Δ̂) in W's dtype, with
// Δ̂ reconstructed from the packed form (delta::reconstruct) and the sum taken in float32,
// rounded to nearest even. The CUDA kernel (kernels/delta_apply.cu) matches it bit for bit.
#include <string>
#include <vector>

#include "backend/cpu/ops.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

namespace meswitch::cpu {

namespace {

float load(DType dtype, const void* p, std::size_t i) {
    switch (dtype) {
        case DType::f32:
            return static_cast<const float*>(p)[i];
        case DType::f16:
            return f16_to_f32(static_cast<const std::uint16_t*>(p)[i]);
        default:
            return bf16_to_f32(static_cast<const std::uint16_t*>(p)[i]);
    }
}

void store(DType dtype, void* p, std::size_t i, float v) {
    switch (dtype) {
        case DType::f32:
            static_cast<float*>(p)[i] = v;
            break;
        case DType::f16:
            static_cast<std::uint16_t*>(p)[i] = f32_to_f16(v);
            break;
        default:
            static_cast<std::uint16_t*>(p)[i] = f32_to_bf16(v);
            break;
    }
}

void require_weight_dtype(DType dtype, const char* what) {
    if (dtype != DType::f32 && dtype != DType::f16 && dtype != DType::bf16)
        throw Error(
            ErrorKind::unsupported,
            std::string(what) + ": weights must be F32, F16 or BF16, not " + dtype_name(dtype));
}

}  // namespace

void apply_delta(const delta::CompressedLinear& linear, DType dtype, const void* base, void* out) {
    require_weight_dtype(dtype, "apply_delta");
    std::vector<float> rec(static_cast<std::size_t>(linear.rows * linear.cols));
    delta::reconstruct(linear, rec.data());
    for (std::size_t i = 0; i < rec.size(); ++i) {
        const float w = load(dtype, base, i);
        const float sum = w + rec[i];
        store(dtype, out, i, sum);
    }
}

void apply_dense_delta(DType dtype, const void* base, void* out, DType delta_dtype,
                       const void* delta, std::size_t count) {
    require_weight_dtype(dtype, "apply_dense_delta");
    require_weight_dtype(delta_dtype, "apply_dense_delta");
    for (std::size_t i = 0; i < count; ++i) {
        const float sum = load(dtype, base, i) + load(delta_dtype, delta, i);
        store(dtype, out, i, sum);
    }
}

}  // namespace meswitch::cpu
