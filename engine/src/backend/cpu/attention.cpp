// Causal scaled-dot-product attention with grouped-query heads (query head h reads KV head
// h / (heads / kv_heads)) and an optional sliding window, over the KV cache. A task is one
// query position and one KV head with all the query heads of its group, so each key and
// value row is read once per group while it is in L1; dot products and the weighted sum of
// values are SIMD (Highway), the softmax is softmax.cpp's. Tasks are ordered 0, last, 1,
// last-1, … so that every contiguous range the pool hands a thread holds about as many keys
// (causal rows grow with the position); with few tasks (decode) a group is split.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/ops.h"
#include "core/thread_pool.h"

#ifndef MESWITCH_ATTENTION_ONCE
#define MESWITCH_ATTENTION_ONCE
namespace meswitch::cpu {
struct AttentionArgs {
    const float* q;
    std::int64_t rows, pos0;
    const float* keys;
    const float* values;
    std::int64_t kv_stride;
    const AttentionShape* shape;
    float* out;
    std::int64_t parts;  // each group of query heads is split into this many tasks
};
}  // namespace meswitch::cpu
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/attention.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

float Dot(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, std::int64_t d) {
    const hn::ScalableTag<float> df;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
    std::int64_t i = 0;
    for (; i + 2 * n <= d; i += 2 * n) {
        acc0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), acc0);
        acc1 = hn::MulAdd(hn::LoadU(df, a + i + n), hn::LoadU(df, b + i + n), acc1);
    }
    for (; i + n <= d; i += n) acc0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), acc0);
    float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(acc0, acc1)));
    for (; i < d; ++i) s += a[i] * b[i];
    return s;
}

// acc[i] += p · v[i] for i < d.
void Axpy(float p, const float* HWY_RESTRICT v, float* HWY_RESTRICT acc, std::int64_t d) {
    const hn::ScalableTag<float> df;
    const std::int64_t n = static_cast<std::int64_t>(hn::Lanes(df));
    const auto pv = hn::Set(df, p);
    std::int64_t i = 0;
    for (; i + n <= d; i += n)
        hn::StoreU(hn::MulAdd(pv, hn::LoadU(df, v + i), hn::LoadU(df, acc + i)), df, acc + i);
    for (; i < d; ++i) acc[i] += p * v[i];
}

// Query row t with the query heads g0 … g1-1 of KV head kvh's group.
void AttendGroup(const AttentionArgs& a, std::int64_t t, std::int64_t kvh, std::int64_t g0,
                 std::int64_t g1) {
    const AttentionShape& s = *a.shape;
    const std::int64_t d = s.head_dim;
    const std::int64_t group = s.heads / s.kv_heads;
    const std::int64_t q_stride = s.heads * d;
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const std::int64_t pos = a.pos0 + t;
    const std::int64_t first = s.window ? std::max<std::int64_t>(0, pos - *s.window + 1) : 0;
    const std::int64_t count = pos - first + 1;
    thread_local std::vector<float> scores;
    scores.resize(static_cast<std::size_t>(count));
    const float* k0 = a.keys + first * a.kv_stride + kvh * d;
    const float* v0 = a.values + first * a.kv_stride + kvh * d;
    for (std::int64_t g = g0; g < g1; ++g) {
        const std::int64_t h = kvh * group + g;
        const float* qh = a.q + t * q_stride + h * d;
        for (std::int64_t j = 0; j < count; ++j)
            scores[j] = Dot(qh, k0 + j * a.kv_stride, d) * scale;
        softmax(scores.data(), count);
        float* o = a.out + t * q_stride + h * d;
        std::fill_n(o, d, 0.0f);
        for (std::int64_t j = 0; j < count; ++j) Axpy(scores[j], v0 + j * a.kv_stride, o, d);
    }
}

void AttendTasks(const AttentionArgs& a, std::int64_t begin, std::int64_t end) {
    const std::int64_t kv_heads = a.shape->kv_heads;
    const std::int64_t group = a.shape->heads / kv_heads;
    for (std::int64_t task = begin; task < end; ++task) {
        const std::int64_t part = task % a.parts, rest = task / a.parts;
        const std::int64_t i = rest / kv_heads, kvh = rest % kv_heads;
        const std::int64_t t = i % 2 == 0 ? i / 2 : a.rows - 1 - i / 2;
        AttendGroup(a, t, kvh, part * group / a.parts, (part + 1) * group / a.parts);
    }
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {

HWY_EXPORT(AttendTasks);

void attention(const float* q, std::int64_t rows, std::int64_t pos0, const float* keys,
               const float* values, std::int64_t kv_stride, const AttentionShape& s, float* out,
               ThreadPool& pool) {
    if (rows <= 0) return;
    // Few positions × KV heads (decode, or one KV head): split the groups so that every
    // thread gets work.
    const std::int64_t group = s.heads / s.kv_heads;
    const std::int64_t want = 2 * static_cast<std::int64_t>(pool.size());
    const std::int64_t parts =
        std::clamp<std::int64_t>((want + rows * s.kv_heads - 1) / (rows * s.kv_heads), 1, group);
    const AttentionArgs args{q, rows, pos0, keys, values, kv_stride, &s, out, parts};
    pool.parallel_for(static_cast<std::size_t>(rows * s.kv_heads * parts),
                      [&](std::size_t b, std::size_t e) {
                          HWY_DYNAMIC_DISPATCH(AttendTasks)
                          (args, static_cast<std::int64_t>(b), static_cast<std::int64_t>(e));
                      });
}

}  // namespace meswitch::cpu
#endif  // HWY_ONCE
