// Peak f32 FMA loop: twelve independent accumulator chains (enough to cover the FMA latency
// on two FMA ports), no memory traffic. Same SIMD dispatch as the GEMM kernels, so the
// figure is what those kernels could reach on this CPU.
#include "backend/cpu/fma_peak.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/fma_peak.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

float FmaChains(std::size_t iterations, double* flops) {
    const hn::ScalableTag<float> df;
    constexpr int chains = 12;
    // x <- x * a + b with a just below 1 stays bounded (no overflow, no denormals). Named
    // accumulators, not an array: GCC keeps an array of vectors in memory, which would add
    // a store-to-load round trip to every chain.
    const auto a = hn::Set(df, 0.9999999f);
    const auto b = hn::Set(df, 1e-7f);
    auto x0 = hn::Set(df, 1.00f), x1 = hn::Set(df, 1.01f), x2 = hn::Set(df, 1.02f);
    auto x3 = hn::Set(df, 1.03f), x4 = hn::Set(df, 1.04f), x5 = hn::Set(df, 1.05f);
    auto x6 = hn::Set(df, 1.06f), x7 = hn::Set(df, 1.07f), x8 = hn::Set(df, 1.08f);
    auto x9 = hn::Set(df, 1.09f), x10 = hn::Set(df, 1.10f), x11 = hn::Set(df, 1.11f);
    for (std::size_t i = 0; i < iterations; ++i) {
        x0 = hn::MulAdd(x0, a, b), x1 = hn::MulAdd(x1, a, b), x2 = hn::MulAdd(x2, a, b);
        x3 = hn::MulAdd(x3, a, b), x4 = hn::MulAdd(x4, a, b), x5 = hn::MulAdd(x5, a, b);
        x6 = hn::MulAdd(x6, a, b), x7 = hn::MulAdd(x7, a, b), x8 = hn::MulAdd(x8, a, b);
        x9 = hn::MulAdd(x9, a, b), x10 = hn::MulAdd(x10, a, b), x11 = hn::MulAdd(x11, a, b);
    }
    const auto sum = hn::Add(hn::Add(hn::Add(hn::Add(x0, x1), hn::Add(x2, x3)),
                                     hn::Add(hn::Add(x4, x5), hn::Add(x6, x7))),
                             hn::Add(hn::Add(x8, x9), hn::Add(x10, x11)));
    *flops = 2.0 * static_cast<double>(iterations) * chains * static_cast<double>(hn::Lanes(df));
    return hn::GetLane(hn::SumOfLanes(df, sum));
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {
HWY_EXPORT(FmaChains);
float fma_chains(std::size_t iterations, double* flops) {
    return HWY_DYNAMIC_DISPATCH(FmaChains)(iterations, flops);
}
}  // namespace meswitch::cpu
#endif
