// Synthetic decode benchmark: a random model of a given shape in memory, timed prefill and
// decode, and the memory-bandwidth bound decode cannot beat (every weight byte is read once
// per token).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <numeric>

#include "backend/cpu/read_sum.h"
#include "core/thread_pool.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "model/synthetic.h"

namespace meswitch {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Best of a few streaming passes over 1 GiB, split across `threads` like the GEMV rows.
double measure_read_bandwidth(int threads) {
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
                const float s = cpu::read_sum(buf.get() + b, e - b);
                sink.fetch_add(s, std::memory_order_relaxed);
            },
            4096);
        const double dt = seconds_since(t0);
        best = std::max(best, static_cast<double>(count * sizeof(float)) / dt / 1e9);
    }
    return best;
}

}  // namespace

BenchDecodeResult bench_decode(Model& model, int prefill_tokens, int decode_tokens) {
    const ModelConfig& config = model.config();
    if (prefill_tokens < 1 || decode_tokens < 1)
        throw Error(ErrorKind::invalid_argument,
                    "bench_decode: prefill_tokens and decode_tokens must be at least 1");
    if (prefill_tokens + decode_tokens > config.max_position_embeddings)
        throw Error(ErrorKind::invalid_argument,
                    "bench_decode: prefill + decode tokens exceed max_position_embeddings (" +
                        std::to_string(config.max_position_embeddings) + ")");
    BenchDecodeResult r;
    r.threads = model.threads();
    for (const auto& name : model.weight_names()) r.total_weight_bytes += model.weight(name).nbytes;
    r.weight_bytes_per_token = model.weight_bytes_per_token();

    std::vector<std::int32_t> prompt(static_cast<std::size_t>(prefill_tokens));
    for (std::size_t i = 0; i < prompt.size(); ++i)
        prompt[i] = static_cast<std::int32_t>((i * 7919 + 13) %
                                              static_cast<std::size_t>(config.vocab_size));
    KvCache cache = model.make_cache(prefill_tokens + decode_tokens + 1);

    auto t0 = clock_type::now();
    std::vector<float> logits = model.forward(prompt, cache);
    r.prefill_tokens_per_second = prefill_tokens / seconds_since(t0);

    std::int32_t next = static_cast<std::int32_t>(
        std::max_element(logits.begin(), logits.end()) - logits.begin());
    t0 = clock_type::now();
    for (int i = 0; i < decode_tokens; ++i) {
        const std::int32_t one[1] = {next};
        logits = model.forward(one, cache);
        next = static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) -
                                         logits.begin());
    }
    r.decode_tokens_per_second = decode_tokens / seconds_since(t0);
    r.memory_bandwidth_gbps = measure_read_bandwidth(r.threads);
    r.bandwidth_bound_tokens_per_second =
        r.memory_bandwidth_gbps * 1e9 / static_cast<double>(r.weight_bytes_per_token);
    r.fraction_of_bound = r.decode_tokens_per_second / r.bandwidth_bound_tokens_per_second;
    return r;
}

BenchDecodeResult bench_decode(const ModelConfig& config, DType dtype, int prefill_tokens,
                               int decode_tokens, int threads) {
    if (threads <= 0) threads = ThreadPool::default_threads();
    ModelOptions mo;
    mo.threads = threads;
    Model model = Model::from_tensors(config, model::random_weights(config, dtype, 20240607, threads), mo);
    return bench_decode(model, prefill_tokens, decode_tokens);
}

}  // namespace meswitch
