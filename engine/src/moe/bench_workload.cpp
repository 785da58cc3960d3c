// The multi-variant serving benchmark: Poisson arrivals, three serving strategies, measured
// service times replayed through FIFO queues.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>

#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/moe.h"
#include "meswitch/tokenizer.h"
#include "moe/moe_internal.h"

namespace meswitch::moe {

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

struct Request {
    double arrival_ms = 0;
    std::size_t variant = 0;
    std::vector<std::int32_t> prompt;
};

struct Served {
    double switch_ms = 0, prefill_ms = 0, total_ms = 0;  // total = switch + generation
};

// Short prompts in the styles of the fixture domains and plain stories.
const char* const prompts[] = {
    "Q: 12+7=? A:",
    "Q: 9*8=? A:",
    "def add(a, b):",
    "for i in range(3):",
    "Tom has a red ball. Q: What color is Tom's ball? A:",
    "Once upon a time",
    "Lily saw a big dog.",
    "Q: 45-17=? A:",
};

// Generation time is the fastest of `repeats` identical runs (greedy, so every run does the
// same work): a shared machine's noise only ever adds time.
Served serve(Model& m, const Tokenizer& tok, const Request& r, int max_new, double switch_ms,
             int repeats) {
    GenerateOptions g;
    g.max_tokens = max_new;
    g.sampling.temperature = 0;
    g.stop_on_eos = false;
    Served s;
    s.switch_ms = switch_ms;
    double best = -1;
    for (int i = 0; i < std::max(1, repeats); ++i) {
        const auto t0 = clock_type::now();
        const GenerateResult out = generate(m, tok, r.prompt, g);
        const double ms = ms_since(t0);
        if (best < 0 || ms < best) {
            best = ms;
            s.prefill_ms = out.prefill_ms;
        }
    }
    s.total_ms = switch_ms + best;
    return s;
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// FIFO replay: one queue per key (one key for a single server).
StrategyResult replay(const std::string& name, const std::vector<Request>& reqs,
                      const std::vector<Served>& served, const std::vector<std::size_t>& queue_of,
                      double slowdown) {
    StrategyResult r;
    r.name = name;
    std::map<std::size_t, double> free_at;
    std::vector<double> turnaround, ttft;
    double service_sum = 0, switch_sum = 0;
    for (std::size_t i = 0; i < reqs.size(); ++i) {
        double& f = free_at[queue_of[i]];
        const double start = std::max(reqs[i].arrival_ms, f);
        const double service = served[i].total_ms * slowdown;
        ttft.push_back(start + (served[i].switch_ms + served[i].prefill_ms) * slowdown -
                       reqs[i].arrival_ms);
        f = start + service;
        turnaround.push_back(f - reqs[i].arrival_ms);
        service_sum += service;
        if (served[i].switch_ms > 0) {
            ++r.switches;
            switch_sum += served[i].switch_ms;
        }
    }
    const double n = static_cast<double>(reqs.size());
    for (double t : turnaround) r.mean_turnaround_ms += t / n;
    for (double t : ttft) r.mean_ttft_ms += t / n;
    r.p50_turnaround_ms = percentile(turnaround, 0.5);
    r.p95_turnaround_ms = percentile(turnaround, 0.95);
    r.p95_ttft_ms = percentile(ttft, 0.95);
    r.mean_service_ms = service_sum / n;
    r.mean_switch_ms = r.switches ? switch_sum / r.switches : 0;
    return r;
}

// A whole variant copied into owned memory (what a reload moves into device memory).
struct LoadedVariant {
    Model model;
    std::vector<HostTensor> copies;
    std::uint64_t bytes = 0;
};

LoadedVariant load_whole(const std::filesystem::path& folder, int threads) {
    LoadedVariant v{detail::load_mixtral(folder, threads), {}, 0};
    const auto names = v.model.weight_names();
    v.copies.reserve(names.size());
    for (const std::string& n : names) {
        const TensorView t = v.model.weight(n);
        HostTensor h;
        h.dtype = t.dtype;
        h.shape = t.shape;
        h.data.assign(t.data, t.data + t.nbytes);
        v.bytes += t.nbytes;
        v.copies.push_back(std::move(h));
        v.model.bind_weight(n, v.copies.back().view());
    }
    return v;
}

}  // namespace

WorkloadResult bench_workload(const std::filesystem::path& base,
                              const std::vector<std::filesystem::path>& variants,
                              const WorkloadOptions& o) {
    if (o.requests < 1 || o.max_new_tokens < 1)
        throw Error(ErrorKind::invalid_argument,
                    "the workload needs at least one request and token");
    const DistanceTable table = expert_distances(base, variants);
    const std::int64_t P = static_cast<std::int64_t>(table.positions.size());
    PlanOptions po;
    po.shared_positions = o.shared_positions >= 0 ? o.shared_positions : P / 2;
    po.shared_expert = o.shared_expert;
    const ConsolidationPlan plan = plan_consolidation(table, po);
    const Tokenizer tok = Tokenizer::from_folder(base);
    const std::size_t V = variants.size();

    WorkloadResult result;
    result.requests = o.requests;
    result.max_new_tokens = o.max_new_tokens;
    result.shared_positions = plan.shared_count();

    // Requests (arrival times filled once the rate is known).
    std::mt19937_64 rng(o.seed);
    std::vector<Request> reqs(static_cast<std::size_t>(o.requests));
    for (Request& r : reqs) {
        r.variant = std::uniform_int_distribution<std::size_t>(0, V - 1)(rng);
        const auto k = std::uniform_int_distribution<std::size_t>(0, std::size(prompts) - 1)(rng);
        r.prompt = tok.encode(prompts[k]);
    }

    // The three servers, measured request by request side by side so that a shared
    // machine's load changes hit all of them alike.
    ReconfigurableMoe family(plan, RuntimeOptions{true, o.threads});  // (a)
    std::optional<LoadedVariant> current;                             // (b)
    std::size_t current_v = V;
    std::uint64_t copied_b = 0, resident_b = 0;
    std::vector<LoadedVariant> all;  // (c)
    std::uint64_t resident_c = 0;
    for (const auto& v : variants) {
        all.push_back(load_whole(v, o.threads));
        resident_c += all.back().bytes;
    }
    for (std::size_t v = 0; v < V; ++v) {  // warm-up: first touch, thread pool, BLAS
        family.activate(v);
        serve(family.model(), tok, reqs.front(), o.max_new_tokens, 0, 1);
        serve(all[v].model, tok, reqs.front(), o.max_new_tokens, 0, 1);
    }
    family.activate(0);
    const std::uint64_t warmup_copied = family.total_bytes_copied();
    std::vector<Served> served_a, served_b, served_c;
    for (const Request& r : reqs) {
        const SwitchStats s = family.activate(r.variant);
        served_a.push_back(serve(family.model(), tok, r, o.max_new_tokens,
                                 s.tensors_rebound ? std::max(s.ms, 1e-6) : 0, o.repeats));
        double switch_ms = 0;
        if (r.variant != current_v) {
            const auto t0 = clock_type::now();
            current.reset();
            current.emplace(load_whole(variants[r.variant], o.threads));
            switch_ms = std::max(ms_since(t0), 1e-6);
            copied_b += current->bytes;
            resident_b = current->bytes;
            current_v = r.variant;
        }
        served_b.push_back(serve(current->model, tok, r, o.max_new_tokens, switch_ms, o.repeats));
        served_c.push_back(serve(all[r.variant].model, tok, r, o.max_new_tokens, 0, o.repeats));
    }

    double mean_service = 0;
    for (const Served& s : served_a) mean_service += s.total_ms / static_cast<double>(reqs.size());
    result.rate_per_second =
        o.rate_per_second > 0 ? o.rate_per_second : 0.7 * 1000.0 / mean_service;
    std::exponential_distribution<double> gap(result.rate_per_second / 1000.0);
    double t = 0;
    for (Request& r : reqs) r.arrival_ms = (t += gap(rng));
    std::vector<std::size_t> one_queue(reqs.size(), 0), per_variant;
    for (const Request& r : reqs) per_variant.push_back(r.variant);

    StrategyResult a = replay("consolidation + reconfiguration", reqs, served_a, one_queue, 1.0);
    a.bytes_copied = family.total_bytes_copied() - warmup_copied;
    a.resident_bytes = family.memory().device_total();
    result.strategies.push_back(a);
    StrategyResult b = replay("reload whole variant", reqs, served_b, one_queue, 1.0);
    b.bytes_copied = copied_b;
    b.resident_bytes = resident_b;
    result.strategies.push_back(b);
    StrategyResult c = replay("static partitioning (simulated slices)", reqs, served_c, per_variant,
                              static_cast<double>(V));
    c.resident_bytes = resident_c;
    result.strategies.push_back(c);
    return result;
}

}  // namespace meswitch::moe
