// SwiGLU feed-forward activation: silu(gate) · up, silu(g) = g / (1 + e^-g). SIMD with
// Highway's exp (max error a few ULP); e^-g is computed at min(-g, 88) because Highway's
// exp is valid up to ~88.72, which leaves silu(g) for g < -88 at g / (1 + e^88) ≈ 0, as
// the exact value is.
#include <cmath>

#include "backend/cpu/ops.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/swiglu.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// after highway.h (a separate include block, so include sorting keeps it there)
#include <hwy/contrib/math/math-inl.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void Swiglu(const float* gate, const float* up, float* out, std::size_t count) {
    const hn::ScalableTag<float> df;
    const std::size_t n = hn::Lanes(df);
    const auto one = hn::Set(df, 1.0f);
    const auto limit = hn::Set(df, 88.0f);
    std::size_t i = 0;
    for (; i + n <= count; i += n) {
        const auto g = hn::LoadU(df, gate + i);
        const auto e = hn::Exp(df, hn::Min(hn::Neg(g), limit));
        const auto silu = hn::Div(g, hn::Add(one, e));
        hn::StoreU(hn::Mul(silu, hn::LoadU(df, up + i)), df, out + i);
    }
    for (; i < count; ++i) {
        const float g = gate[i];
        out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {

HWY_EXPORT(Swiglu);

void swiglu(const float* gate, const float* up, float* out, std::size_t n) {
    HWY_DYNAMIC_DISPATCH(Swiglu)(gate, up, out, n);
}

}  // namespace meswitch::cpu
#endif  // HWY_ONCE
