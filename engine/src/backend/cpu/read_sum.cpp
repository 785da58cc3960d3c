// Streaming read of a float buffer (sum of all values): the memory-bandwidth probe that
// decode speed is compared against. Same SIMD dispatch as the GEMV kernels.
#include "backend/cpu/read_sum.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/read_sum.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Four concurrent streams (quarters of the range), like the four weight rows the GEMV
// reads at once: several streams per core keep more prefetches in flight than one.
float ReadSum(const float* p, std::size_t count) {
    const hn::ScalableTag<float> df;
    const std::size_t n = hn::Lanes(df);
    const std::size_t quarter = count / 4 / n * n;
    const float* q0 = p;
    const float* q1 = p + quarter;
    const float* q2 = p + 2 * quarter;
    const float* q3 = p + 3 * quarter;
    auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
    for (std::size_t i = 0; i < quarter; i += n) {
        a0 = hn::Add(a0, hn::LoadU(df, q0 + i));
        a1 = hn::Add(a1, hn::LoadU(df, q1 + i));
        a2 = hn::Add(a2, hn::LoadU(df, q2 + i));
        a3 = hn::Add(a3, hn::LoadU(df, q3 + i));
    }
    float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3))));
    for (std::size_t i = 4 * quarter; i < count; ++i) s += p[i];
    return s;
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {
HWY_EXPORT(ReadSum);
float read_sum(const float* data, std::size_t count) {
    return HWY_DYNAMIC_DISPATCH(ReadSum)(data, count);
}
}  // namespace meswitch::cpu
#endif
