// Element types, 16-bit float conversions and bulk widening to float.
// The bulk conversion is compiled for every SIMD target Highway knows (foreach_target) and
// dispatched at run time, so weights widen at memory speed on AVX2/AVX-512 machines without
// the build needing -march flags.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/tensor.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <cstdint>
#include <cstring>

#include "meswitch/tensor.h"

HWY_BEFORE_NAMESPACE();
namespace meswitch::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Loads and stores go through byte pointers with unaligned ops: a tensor inside a
// memory-mapped file is not guaranteed to be aligned to its element size.

void widen_bf16(const std::uint8_t* src, float* dst, std::size_t count) {
    const hn::ScalableTag<float> df;
    const hn::RebindToSigned<decltype(df)> di;
    const hn::Rebind<std::uint16_t, decltype(df)> du16;
    const std::size_t lanes = hn::Lanes(df);
    std::size_t i = 0;
    for (; i + lanes <= count; i += lanes) {
        const auto bits16 = hn::LoadU(du16, reinterpret_cast<const std::uint16_t*>(src + 2 * i));
        const auto bits32 = hn::ShiftLeft<16>(hn::PromoteTo(di, bits16));
        hn::StoreU(hn::BitCast(df, bits32), df, dst + i);
    }
    for (; i < count; ++i) {
        std::uint16_t half = 0;
        std::memcpy(&half, src + 2 * i, 2);
        dst[i] = bf16_to_f32(half);
    }
}

void widen_f16(const std::uint8_t* src, float* dst, std::size_t count) {
    const hn::ScalableTag<float> df;
    const hn::RebindToSigned<decltype(df)> di;
    const hn::RebindToUnsigned<decltype(df)> du;
    const hn::Rebind<std::uint16_t, decltype(df)> du16;
    const std::size_t lanes = hn::Lanes(df);
    std::size_t i = 0;
#if HWY_TARGET < HWY_SSE4
    // AVX2 and newer imply F16C: the hardware conversion is exact for every input.
    const hn::Rebind<hwy::float16_t, decltype(df)> df16;
    for (; i + lanes <= count; i += lanes) {
        const auto bits16 = hn::LoadU(du16, reinterpret_cast<const std::uint16_t*>(src + 2 * i));
        hn::StoreU(hn::PromoteTo(df, hn::BitCast(df16, bits16)), df, dst + i);
    }
#else
    // Highway 1.0's emulated PromoteTo mishandles inf and NaN, so do the bit work here.
    const auto exp_mask = hn::Set(du, 0x7C00u);
    const auto rebias = hn::Set(du, (127u - 15u) << 23);
    const auto inf_nan_extra = hn::Set(du, (128u - 16u) << 23);
    const auto subnormal_scale = hn::Set(df, 1.0f / 16777216.0f);  // 2^-24
    for (; i + lanes <= count; i += lanes) {
        const auto bits16 = hn::LoadU(du16, reinterpret_cast<const std::uint16_t*>(src + 2 * i));
        const auto bits = hn::PromoteTo(du, bits16);
        const auto sign = hn::ShiftLeft<16>(hn::And(bits, hn::Set(du, 0x8000u)));
        const auto exp = hn::And(bits, exp_mask);
        const auto magnitude = hn::And(bits, hn::Set(du, 0x7FFFu));
        auto normal = hn::Add(hn::ShiftLeft<13>(magnitude), rebias);
        normal = hn::IfThenElse(hn::Eq(exp, exp_mask), hn::Add(normal, inf_nan_extra), normal);
        const auto mantissa = hn::And(bits, hn::Set(du, 0x3FFu));
        const auto subnormal =
            hn::BitCast(du, hn::Mul(hn::ConvertTo(df, hn::BitCast(di, mantissa)), subnormal_scale));
        const auto result = hn::IfThenElse(hn::Eq(exp, hn::Zero(du)), subnormal, normal);
        hn::StoreU(hn::BitCast(df, hn::Or(result, sign)), df, dst + i);
    }
#endif
    (void)di;
    (void)du;
    for (; i < count; ++i) {
        std::uint16_t half = 0;
        std::memcpy(&half, src + 2 * i, 2);
        dst[i] = f16_to_f32(half);
    }
}

}  // namespace meswitch::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

#include <string>

#include "meswitch/error.h"

namespace meswitch {

HWY_EXPORT(widen_bf16);
HWY_EXPORT(widen_f16);

std::size_t dtype_size(DType dtype) {
    switch (dtype) {
        case DType::f32:
            return 4;
        case DType::f16:
            return 2;
        case DType::bf16:
            return 2;
        case DType::i8:
            return 1;
        case DType::u8:
            return 1;
        case DType::i32:
            return 4;
        case DType::i64:
            return 8;
        case DType::f64:
            return 8;
    }
    return 0;
}

const char* dtype_name(DType dtype) {
    switch (dtype) {
        case DType::f32:
            return "F32";
        case DType::f16:
            return "F16";
        case DType::bf16:
            return "BF16";
        case DType::i8:
            return "I8";
        case DType::u8:
            return "U8";
        case DType::i32:
            return "I32";
        case DType::i64:
            return "I64";
        case DType::f64:
            return "F64";
    }
    return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
    static constexpr DType all[] = {DType::f32, DType::f16, DType::bf16, DType::i8,
                                    DType::u8,  DType::i32, DType::i64,  DType::f64};
    for (DType d : all)
        if (name == dtype_name(d)) return d;
    return std::nullopt;
}

float bf16_to_f32(std::uint16_t bits) {
    const std::uint32_t wide = std::uint32_t(bits) << 16;
    float out;
    std::memcpy(&out, &wide, 4);
    return out;
}

std::uint16_t f32_to_bf16(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, 4);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
        // NaN: keep sign and top payload bits, force the quiet bit so it cannot become inf.
        return std::uint16_t((bits >> 16) | 0x0040u);
    }
    // Round to nearest, ties to even; overflow rounds to inf as it should.
    const std::uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
    return std::uint16_t((bits + rounding) >> 16);
}

float f16_to_f32(std::uint16_t bits) {
    // Same algorithm as the vector loop of widen_f16 on targets without F16C.
    const std::uint32_t sign = std::uint32_t(bits & 0x8000u) << 16;
    const std::uint32_t exp = bits & 0x7C00u;
    std::uint32_t out = 0;
    if (exp == 0) {
        const float subnormal = float(bits & 0x3FFu) * (1.0f / 16777216.0f);  // m × 2^-24
        std::memcpy(&out, &subnormal, 4);
    } else {
        out = (std::uint32_t(bits & 0x7FFFu) << 13) + ((127u - 15u) << 23);
        if (exp == 0x7C00u) out += (128u - 16u) << 23;  // inf / NaN keep their payload
    }
    out |= sign;
    float result;
    std::memcpy(&result, &out, 4);
    return result;
}

std::uint16_t f32_to_f16(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, 4);
    const std::uint16_t sign = std::uint16_t((bits >> 16) & 0x8000u);
    const std::uint32_t abs = bits & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) {
        // NaN: keep the top payload bits and make sure the result is a quiet NaN.
        return std::uint16_t(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
    }
    if (abs >= 0x477FF000u) {
        // 65520 and above (incl. inf) round to inf: 65504 is the largest finite half and
        // 65520 is the midpoint to the next (unrepresentable) step, which rounds to even.
        return std::uint16_t(sign | 0x7C00u);
    }
    const int exp = int(abs >> 23) - 127;
    if (exp >= -14) {
        // Normal half: drop 13 mantissa bits with round to nearest even.
        const std::uint32_t rebiased = abs - ((127u - 15u) << 23);
        const std::uint32_t rounded = rebiased + 0xFFFu + ((rebiased >> 13) & 1u);
        return std::uint16_t(sign | (rounded >> 13));
    }
    if (exp < -25) return sign;  // below half the smallest subnormal: rounds to ±0
    // Subnormal half: value = m × 2^-24 with m = round(mantissa_with_hidden_bit >> shift).
    const std::uint32_t mantissa = (abs & 0x7FFFFFu) | 0x800000u;
    const int shift = -exp - 1;  // 14..24
    const std::uint32_t kept = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    const std::uint32_t half_way = 1u << (shift - 1);
    std::uint32_t m = kept;
    if (rest > half_way || (rest == half_way && (kept & 1u))) ++m;
    return std::uint16_t(sign | m);  // m may carry into the exponent: that is correct
}

std::int64_t TensorView::numel() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) {
        if (d < 0 || __builtin_mul_overflow(n, d, &n))
            throw Error(ErrorKind::invalid_argument,
                        "tensor shape " + shape_string() + " has no valid element count");
    }
    return n;
}

std::string TensorView::shape_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

void convert_to_f32(DType dtype, const void* src, float* dst, std::size_t count) {
    if (count == 0) return;
    const auto* bytes = static_cast<const std::uint8_t*>(src);
    switch (dtype) {
        case DType::f32:
            std::memmove(dst, src, count * sizeof(float));
            return;
        case DType::bf16:
            HWY_DYNAMIC_DISPATCH(widen_bf16)(bytes, dst, count);
            return;
        case DType::f16:
            HWY_DYNAMIC_DISPATCH(widen_f16)(bytes, dst, count);
            return;
        default:
            break;
    }
    throw Error(ErrorKind::unsupported,
                std::string("cannot convert ") + dtype_name(dtype) +
                    " elements to F32: only F32, F16 and BF16 tensors hold float weights");
}

}  // namespace meswitch

#endif  // HWY_ONCE
