// Widening f16/bf16 buffers to float32 (SIMD), used to turn weight tiles into sgemm input
// and embedding rows into activations.
#include <cstring>

#include "backend/cpu/ops.h"
#include "meswitch/error.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/widen.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void WidenBf16(const std::uint16_t* src, float* dst, std::size_t count) {
    const hn::ScalableTag<float> df;
    const hn::RebindToUnsigned<decltype(df)> du32;
    const hn::Rebind<std::uint16_t, decltype(df)> du16;
    const std::size_t n = hn::Lanes(df);
    std::size_t i = 0;
    for (; i + n <= count; i += n) {
        const auto wide = hn::PromoteTo(du32, hn::LoadU(du16, src + i));
        hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(wide)), df, dst + i);
    }
    for (; i < count; ++i) {
        const std::uint32_t u = static_cast<std::uint32_t>(src[i]) << 16;
        std::memcpy(dst + i, &u, sizeof(float));
    }
}

void WidenF16(const std::uint16_t* src, float* dst, std::size_t count) {
    const hn::ScalableTag<float> df;
    const hn::Rebind<hwy::float16_t, decltype(df)> dh;
    const std::size_t n = hn::Lanes(df);
    const hwy::float16_t* h = reinterpret_cast<const hwy::float16_t*>(src);
    std::size_t i = 0;
    for (; i + n <= count; i += n) hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, h + i)), df, dst + i);
    for (; i < count; ++i) dst[i] = f16_to_f32(src[i]);
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {

HWY_EXPORT(WidenBf16);
HWY_EXPORT(WidenF16);

void widen_to_f32(DType dtype, const void* src, float* dst, std::size_t count) {
    switch (dtype) {
        case DType::f32:
            std::memcpy(dst, src, count * sizeof(float));
            return;
        case DType::bf16:
            HWY_DYNAMIC_DISPATCH(WidenBf16)(static_cast<const std::uint16_t*>(src), dst, count);
            return;
        case DType::f16:
            HWY_DYNAMIC_DISPATCH(WidenF16)(static_cast<const std::uint16_t*>(src), dst, count);
            return;
        default:
            throw Error(ErrorKind::unsupported, std::string("widening ") + dtype_name(dtype) +
                                                    " to F32 is not supported (F32, F16, BF16)");
    }
}

}  // namespace meswitch::cpu
#endif  // HWY_ONCE
