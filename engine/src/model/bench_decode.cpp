// Synthetic decode benchmark: a random model of a given shape in memory (or a loaded one),
// one untimed warm-up, then timed prefill and decode runs reported as medians, each beside
// the bound it cannot beat: decode reads every weight byte once per token (memory
// bandwidth), prefill does the prompt's multiply-adds (f32 FMA peak).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <numeric>

#include "backend/cpu/fma_peak.h"
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

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Best of a few passes of FMA chains on `threads` threads, in GFLOP/s. Each pass is many
// short chunks handed out dynamically, so a thread that starts late does not idle the rest.
double measure_fma_peak_gflops(int threads) {
    constexpr std::size_t iterations = 200000;  // ~1 ms per chunk with AVX-512
    const std::size_t chunks = static_cast<std::size_t>(threads) * 16;
    ThreadPool pool(threads);
    std::atomic<float> sink{0.0f};
    double best = 0;
    for (int pass = 0; pass < 5; ++pass) {
        std::atomic<double> flops{0.0};
        const auto t0 = clock_type::now();
        pool.parallel_for(chunks, [&](std::size_t b, std::size_t e) {
            for (std::size_t c = b; c < e; ++c) {
                double f = 0;
                sink.fetch_add(cpu::fma_chains(iterations, &f), std::memory_order_relaxed);
                flops.fetch_add(f, std::memory_order_relaxed);
            }
        });
        best = std::max(best, flops.load() / seconds_since(t0) / 1e9);
    }
    return best;
}

// Floating-point operations per prompt token of one prefill of `tokens` on a fresh cache:
// 2 per multiply-add of every decoder linear (a token uses top-k of a layer's experts),
// attention over the positions before it (q·k and the weighted sum of values), and the
// head's share (logits of the last position only).
double prefill_flops_per_token(const Model& model, int tokens) {
    const ModelConfig& c = model.config();
    double linear = 0;
    for (const auto& name : model.weight_names()) {
        if (name.rfind("model.layers.", 0) != 0) continue;
        const TensorView w = model.weight(name);
        if (w.shape.size() != 2) continue;
        double macs = static_cast<double>(w.numel());
        if (name.find(".experts.") != std::string::npos && c.num_local_experts > 0)
            macs *= static_cast<double>(c.num_experts_per_tok) / c.num_local_experts;
        linear += 2 * macs;
    }
    const double attention = 2.0 * static_cast<double>(c.q_dim()) * (tokens + 1) *
                             static_cast<double>(c.num_hidden_layers);
    const double head = 2.0 * static_cast<double>(c.hidden_size) * c.vocab_size / tokens;
    return linear + attention + head;
}

std::int32_t argmax(const std::vector<float>& logits) {
    return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) -
                                     logits.begin());
}

}  // namespace

BenchDecodeResult bench_decode(Model& model, int prefill_tokens, int decode_tokens, int runs) {
    const ModelConfig& config = model.config();
    if (prefill_tokens < 1 || decode_tokens < 1)
        throw Error(ErrorKind::invalid_argument,
                    "bench_decode: prefill_tokens and decode_tokens must be at least 1");
    if (runs < 1) throw Error(ErrorKind::invalid_argument, "bench_decode: runs must be at least 1");
    if (prefill_tokens + decode_tokens > config.max_position_embeddings)
        throw Error(ErrorKind::invalid_argument,
                    "bench_decode: prefill + decode tokens exceed max_position_embeddings (" +
                        std::to_string(config.max_position_embeddings) + ")");
    BenchDecodeResult r;
    r.runs = runs;
    r.threads = model.threads();
    for (const auto& name : model.weight_names()) r.total_weight_bytes += model.weight(name).nbytes;
    r.weight_bytes_per_token = model.weight_bytes_per_token();

    std::vector<std::int32_t> prompt(static_cast<std::size_t>(prefill_tokens));
    for (std::size_t i = 0; i < prompt.size(); ++i)
        prompt[i] = static_cast<std::int32_t>((i * 7919 + 13) %
                                              static_cast<std::size_t>(config.vocab_size));
    KvCache cache = model.make_cache(prefill_tokens + decode_tokens + 1);

    // One run: prefill on an empty cache, then `steps` greedy single-token steps.
    // Returns {prefill seconds, decode seconds}.
    auto run = [&](int steps) {
        cache.clear();
        auto t0 = clock_type::now();
        std::vector<float> logits = model.forward(prompt, cache);
        const double prefill_s = seconds_since(t0);
        std::int32_t next = argmax(logits);
        t0 = clock_type::now();
        for (int i = 0; i < steps; ++i) {
            const std::int32_t one[1] = {next};
            logits = model.forward(one, cache);
            next = argmax(logits);
        }
        return std::pair{prefill_s, seconds_since(t0)};
    };
    // Warm-up, untimed: faults in memory-mapped weights, starts the pool's threads, and runs
    // the prefill and decode code paths once.
    run(std::min(decode_tokens, 2));
    for (int i = 0; i < runs; ++i) {
        const auto [prefill_s, decode_s] = run(decode_tokens);
        r.prefill_samples.push_back(prefill_tokens / prefill_s);
        r.decode_samples.push_back(decode_tokens / decode_s);
    }
    r.prefill_tokens_per_second = median(r.prefill_samples);
    r.decode_tokens_per_second = median(r.decode_samples);

    r.memory_bandwidth_gbps = cpu::measure_read_bandwidth(r.threads);
    r.bandwidth_bound_tokens_per_second =
        r.memory_bandwidth_gbps * 1e9 / static_cast<double>(r.weight_bytes_per_token);
    r.fraction_of_bound = r.decode_tokens_per_second / r.bandwidth_bound_tokens_per_second;

    r.prefill_flops_per_token = prefill_flops_per_token(model, prefill_tokens);
    r.peak_gflops = measure_fma_peak_gflops(r.threads);
    r.compute_bound_prefill_tokens_per_second = r.peak_gflops * 1e9 / r.prefill_flops_per_token;
    r.prefill_fraction_of_bound =
        r.prefill_tokens_per_second / r.compute_bound_prefill_tokens_per_second;
    return r;
}

BenchDecodeResult bench_decode(const ModelConfig& config, DType dtype, int prefill_tokens,
                               int decode_tokens, int threads, int runs) {
    if (threads <= 0) threads = ThreadPool::default_threads();
    ModelOptions mo;
    mo.threads = threads;
    Model model =
        Model::from_tensors(config, model::random_weights(config, dtype, 20240607, threads), mo);
    return bench_decode(model, prefill_tokens, decode_tokens, runs);
}

}  // namespace meswitch
