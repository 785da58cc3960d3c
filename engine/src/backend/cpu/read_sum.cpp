// Streaming read of a float buffer (sum of all values): the memory-bandwidth probe that
// decode speed is compared against. Same SIMD dispatch as the GEMV kernels.
#include "backend/cpu/read_sum.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

#include "core/thread_pool.h"

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

double measure_read_bandwidth(int threads) {
    using clock_type = std::chrono::steady_clock;
    const std::size_t count = (1ull << 30) / sizeof(float);
    std::unique_ptr<float[]> buf(new float[count]);
    ThreadPool pool(threads);
    pool.parallel_for(count, [&](std::size_t b, std::size_t e) {
        std::fill(buf.get() + b, buf.get() + e, 1.0f);  // fault the pages in
    });
    double best = 0;
    std::atomic<float> sink{0.0f};  // keeps the sums alive
    for (int pass = 0; pass < 4; ++pass) {
        const auto t0 = clock_type::now();
        pool.parallel_for(
            count,
            [&](std::size_t b, std::size_t e) {
                const float s = read_sum(buf.get() + b, e - b);
                sink.fetch_add(s, std::memory_order_relaxed);
            },
            4096);
        const double dt = std::chrono::duration<double>(clock_type::now() - t0).count();
        best = std::max(best, static_cast<double>(count * sizeof(float)) / dt / 1e9);
    }
    return best;
}
}  // namespace meswitch::cpu
#endif
