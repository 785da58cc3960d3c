// meswitch bench serve: many clients, many experts, batched vs one at a time vs reloading.
#include "serve/bench_serve.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <random>

#include "delta/msd/msd_file.h"
#include "delta/quant/packing.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "meswitch/catalog.h"
#include "meswitch/engine.h"
#include "meswitch/error.h"
#include "meswitch/import.h"
#include "meswitch/moe.h"
#include "meswitch/system.h"
#include "model/synthetic.h"
#include "serve/bench_switch.h"

namespace meswitch::serve {

namespace {

using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

double ms_between(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// ------------------------------------------------------------------ synthetic model files

// A SentencePiece-style byte-fallback BPE: <unk>, <s>, </s>, the 256 byte tokens, then
// "▁t<id>" pieces up to `vocab` (reachable by no merge, but every id decodes to text).
json byte_fallback_tokenizer(std::int64_t vocab) {
    const std::string space = "\xE2\x96\x81";  // ▁
    json pieces = json::object();
    json added = json::array();
    const char* specials[] = {"<unk>", "<s>", "</s>"};
    for (int id = 0; id < 3; ++id) {
        pieces[specials[id]] = id;
        added.push_back({{"id", id},
                         {"content", specials[id]},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    }
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        pieces[buf] = 3 + b;
    }
    for (std::int64_t id = 259; id < vocab; ++id) pieces[space + "t" + std::to_string(id)] = id;
    return {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", added},
            {"normalizer",
             {{"type", "Sequence"},
              {"normalizers",
               {{{"type", "Prepend"}, {"prepend", space}},
                {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space}}}}}},
            {"pre_tokenizer", nullptr},
            {"post_processor",
             {{"type", "TemplateProcessing"},
              {"single",
               {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
              {"pair",
               {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
              {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
            {"decoder",
             {{"type", "Sequence"},
              {"decoders",
               {{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
                {{"type", "ByteFallback"}},
                {{"type", "Fuse"}},
                {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
            {"model",
             {{"type", "BPE"},
              {"dropout", nullptr},
              {"unk_token", "<unk>"},
              {"continuing_subword_prefix", nullptr},
              {"end_of_word_suffix", nullptr},
              {"fuse_unk", true},
              {"byte_fallback", true},
              {"ignore_merges", false},
              {"vocab", pieces},
              {"merges", json::array()}}}};
}

// Expert `index`'s synthetic delta as an .msd file (every linear compressed, norms dense).
void write_synthetic_msd(const std::filesystem::path& file, const ModelConfig& config, int bits,
                         const std::string& base_hash, int index) {
    delta::MsdHeader h;
    h.method = delta::Method::meswitch;
    h.bits = bits;
    h.base_hash = base_hash;
    h.expert_hash = "synthetic-expert-" + std::to_string(index);
    h.base_name = "synthetic base";
    h.expert_name = "expert" + std::to_string(index);
    const HostDelta d = synthetic_delta(config, bits, h.expert_name,
                                        1000 + static_cast<std::uint64_t>(index) * 100003,
                                        0.01f * static_cast<float>(index + 1));
    delta::write_msd(file, h, d.linears, d.dense);
}

// ------------------------------------------------------------------------- the workload

struct WorkItem {
    int expert = 0;
    std::vector<std::int32_t> prompt;
    double arrival_s = 0;  // after the run's start
};

std::vector<WorkItem> make_workload(const BenchServeOptions& o, std::int64_t vocab) {
    std::mt19937_64 rng(o.seed);
    std::uniform_int_distribution<int> expert(0, std::max(0, o.experts - 1));
    std::uniform_int_distribution<std::int32_t> token(3, static_cast<std::int32_t>(vocab - 1));
    std::exponential_distribution<double> gap(o.rate > 0 ? o.rate : 1.0);
    std::vector<WorkItem> w(static_cast<std::size_t>(o.requests));
    double t = 0;
    for (WorkItem& item : w) {
        item.expert = o.experts > 0 ? expert(rng) : -1;  // -1: the base alone
        item.prompt.resize(static_cast<std::size_t>(o.prompt_tokens));
        for (auto& id : item.prompt) id = token(rng);
        item.arrival_s = t;
        if (o.rate > 0) t += gap(rng);
    }
    return w;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

std::string expert_name(int index) {
    return index < 0 ? std::string() : "expert" + std::to_string(index);
}

// Throws a failed outcome (of `what`) as the bench's error.
void check(const RequestOutcome& o, const std::string& what) {
    if (o.ok) return;
    throw Error(o.cancelled ? ErrorKind::cancelled : o.error_kind,
                "bench serve: " + what + " failed: " + o.error);
}

// What the engines' callbacks report, shared with the submitting thread. Declared before the
// engines so that it outlives their threads.
struct Tally {
    std::mutex m;
    std::condition_variable cv;
    int in_flight = 0;
    std::size_t finished = 0;
    std::vector<std::optional<RequestOutcome>> outcomes;  // timed requests, in workload order
    // From the moment a request was due with a client free to its Engine::generate call (an
    // engine restart, a wait for the others to finish): part of its time to first token.
    std::vector<double> offset_ms;
    std::vector<clock_type::time_point> finish;                  // when each timed request finished
    std::vector<std::pair<std::string, RequestOutcome>> failed;  // warm-up, load, unload
    std::vector<std::function<void()>> deferred;                 // to run on the submitting thread
    clock_type::time_point last_finish;

    explicit Tally(std::size_t requests)
        : outcomes(requests), offset_ms(requests), finish(requests) {}

    // Callbacks that only record a failure of `what`.
    RequestCallbacks on_failure(std::string what) {
        RequestCallbacks cb;
        cb.on_finished = [this, what = std::move(what)](const RequestOutcome& out) {
            std::lock_guard lock(m);
            if (!out.ok) failed.emplace_back(what, out);
        };
        return cb;
    }
    // Records timed request i; `then` runs afterwards on the submitting thread.
    RequestCallbacks on_request(std::size_t i, std::function<void()> then = {}) {
        RequestCallbacks cb;
        cb.on_finished = [this, i, then = std::move(then)](const RequestOutcome& out) {
            std::lock_guard lock(m);
            outcomes[i] = out;
            last_finish = clock_type::now();
            finish[i] = last_finish;
            --in_flight;
            ++finished;
            if (then) deferred.push_back(then);
            cv.notify_all();
        };
        return cb;
    }
    void wait_in_flight_at_most(int n) {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return in_flight <= n; });
    }
    void check_failed() {
        std::lock_guard lock(m);
        for (const auto& [what, out] : failed) check(out, what);
    }
};

using SubmitFn = std::function<void(std::size_t request, clock_type::time_point ready)>;

// The timed run: a closed loop of `clients` over the arrivals. submit(i, ready) hands request
// i to an engine (with tally.on_request(i)) once it is due and a client is free (`ready`);
// deferred actions run in between, on this thread. Returns when every request has finished
// and its deferred actions have run; the result is the start time.
clock_type::time_point closed_loop(const std::vector<WorkItem>& work, int clients, Tally& tally,
                                   const SubmitFn& submit) {
    const clock_type::time_point t0 = clock_type::now();
    for (std::size_t next = 0; next < work.size();) {
        const auto due = t0 + std::chrono::duration_cast<clock_type::duration>(
                                  std::chrono::duration<double>(work[next].arrival_s));
        std::vector<std::function<void()>> actions;
        std::optional<clock_type::time_point> ready;
        {
            std::unique_lock lock(tally.m);
            auto can_submit = [&] { return tally.in_flight < clients && clock_type::now() >= due; };
            while (tally.deferred.empty() && !can_submit()) {
                if (clock_type::now() < due)
                    tally.cv.wait_until(lock, due);
                else
                    tally.cv.wait(lock);
            }
            actions.swap(tally.deferred);
            if (can_submit()) {
                ++tally.in_flight;
                ready = clock_type::now();
            }
        }
        // Engine calls outside our lock: an engine may hold its own while calling back.
        for (const auto& action : actions) action();
        if (!ready) continue;
        submit(next, *ready);
        ++next;
    }
    for (;;) {
        std::vector<std::function<void()>> actions;
        bool done = false;
        {
            std::unique_lock lock(tally.m);
            tally.cv.wait(lock,
                          [&] { return tally.finished == work.size() || !tally.deferred.empty(); });
            actions.swap(tally.deferred);
            done = tally.finished == work.size();
        }
        for (const auto& action : actions) action();
        if (done) return t0;
    }
}

ServeRunStats summarize(const std::string& name, int max_batch, Tally& tally,
                        clock_type::time_point t0) {
    std::lock_guard lock(tally.m);
    ServeRunStats r;
    r.name = name;
    r.max_batch = max_batch;
    r.wall_s = ms_between(t0, tally.last_finish) / 1000.0;
    std::vector<double> ttft, per_token, queue;
    for (std::size_t i = 0; i < tally.outcomes.size(); ++i) {
        const RequestOutcome& out = *tally.outcomes[i];
        check(out, "request " + std::to_string(i));
        const GenerateResult& gen = out.generation;
        r.generated_tokens += static_cast<std::int64_t>(gen.tokens.size());
        r.tokens.push_back(gen.tokens);
        ttft.push_back(tally.offset_ms[i] + out.first_token_ms);
        queue.push_back(out.queue_ms);
        if (gen.tokens.size() >= 2)
            per_token.push_back(gen.decode_ms / static_cast<double>(gen.tokens.size() - 1));
        r.max_batch_seen = std::max(r.max_batch_seen, out.max_batch_seen);
    }
    r.tokens_per_second = r.wall_s > 0 ? static_cast<double>(r.generated_tokens) / r.wall_s : 0;
    // Decode intervals [finish − decode_ms, finish], merged.
    std::vector<std::pair<double, double>> spans;
    double decode_steps = 0;
    for (std::size_t i = 0; i < tally.outcomes.size(); ++i) {
        const GenerateResult& gen = tally.outcomes[i]->generation;
        if (gen.tokens.size() < 2) continue;
        const double end = ms_between(t0, tally.finish[i]);
        spans.emplace_back(end - gen.decode_ms, end);
        decode_steps += static_cast<double>(gen.tokens.size() - 1);
    }
    std::sort(spans.begin(), spans.end());
    double busy = 0, open_end = -1e300, open_start = 0;
    for (const auto& [a, b] : spans) {
        if (a > open_end) {
            if (open_end > -1e300) busy += open_end - open_start;
            open_start = a;
            open_end = b;
        } else {
            open_end = std::max(open_end, b);
        }
    }
    if (open_end > -1e300) busy += open_end - open_start;
    r.decode_tokens_per_second = busy > 0 ? decode_steps / (busy / 1000.0) : 0;
    r.ttft_p50_ms = percentile(ttft, 50);
    r.ttft_p99_ms = percentile(ttft, 99);
    r.per_token_p50_ms = percentile(per_token, 50);
    r.per_token_p99_ms = percentile(per_token, 99);
    r.queue_p50_ms = percentile(queue, 50);
    r.queue_p99_ms = percentile(queue, 99);
    return r;
}

GenerateOptions greedy(int max_tokens) {
    GenerateOptions go;
    go.max_tokens = max_tokens;
    go.sampling.temperature = 0.0f;
    go.stop_on_eos = false;
    go.stop_on_bos = false;
    return go;
}

EngineOptions engine_options(const BenchServeOptions& o, int max_batch) {
    EngineOptions eo;
    eo.device = o.device;
    eo.threads = o.threads;
    eo.max_batch = max_batch;
    eo.max_queue = std::max(256, 4 * o.clients + 16);
    return eo;
}

// An untimed request of P seeded tokens and at most 2 generated, for `expert`.
GenerateRequest warm_up_request(const BenchServeOptions& o, std::int64_t vocab,
                                const std::string& expert) {
    std::mt19937_64 rng(o.seed ^ 0x5EED);
    std::uniform_int_distribution<std::int32_t> token(3, static_cast<std::int32_t>(vocab - 1));
    GenerateRequest warm;
    warm.prompt_ids.resize(static_cast<std::size_t>(o.prompt_tokens));
    for (auto& id : warm.prompt_ids) id = token(rng);
    warm.expert = expert;
    warm.mode = o.mode;
    warm.options = greedy(std::min(2, o.max_tokens));
    return warm;
}

std::vector<int> mismatches(const ServeRunStats& a, const ServeRunStats& b) {
    std::vector<int> out;
    for (std::size_t i = 0; i < a.tokens.size(); ++i)
        if (i >= b.tokens.size() || a.tokens[i] != b.tokens[i]) out.push_back(static_cast<int>(i));
    return out;
}

struct RunSetup {
    const BenchServeOptions* options = nullptr;
    std::filesystem::path base;
    std::string base_hash;
    std::vector<std::filesystem::path> msd;  // per expert
    const std::vector<WorkItem>* work = nullptr;
};

// The synthetic workload on a fresh engine. reload: every request loads its expert from the
// .msd under a name of its own first, and unloads it when it has finished.
ServeRunStats run_workload(const RunSetup& s, const std::string& name, int max_batch, bool reload,
                           std::string* device) {
    const BenchServeOptions& o = *s.options;
    const std::vector<WorkItem>& work = *s.work;
    Tally tally(work.size());
    EngineOptions eo = engine_options(o, max_batch);
    eo.base = s.base;
    eo.base_hash = s.base_hash;
    Engine engine(eo);
    engine.wait_ready();
    *device = engine.status().device;
    const std::int64_t vocab = engine.config().vocab_size;

    // Set up and warm up, untimed: the experts loaded and used once (their first use prepares
    // them on the device), or for reloading the base alone.
    if (reload || o.experts == 0) {
        engine.generate(warm_up_request(o, vocab, ""), tally.on_failure("the warm-up request"));
    } else {
        for (int e = 0; e < o.experts; ++e)
            engine.load_expert(expert_name(e), s.msd[static_cast<std::size_t>(e)],
                               tally.on_failure("loading " + expert_name(e)));
        for (int e = 0; e < o.experts; ++e)
            engine.generate(warm_up_request(o, vocab, expert_name(e)),
                            tally.on_failure("the warm-up request of " + expert_name(e)));
    }
    engine.wait_idle();
    tally.check_failed();

    const GenerateOptions go = greedy(o.max_tokens);
    const auto t0 = closed_loop(work, o.clients, tally, [&](std::size_t i, auto ready) {
        const WorkItem& item = work[i];
        GenerateRequest g;
        g.prompt_ids = item.prompt;
        g.expert = expert_name(item.expert);
        g.mode = o.mode;
        g.options = go;
        std::function<void()> then;
        if (reload && item.expert >= 0) {
            g.expert += "-request" + std::to_string(i);
            engine.load_expert(g.expert, s.msd[static_cast<std::size_t>(item.expert)],
                               tally.on_failure("loading " + g.expert));
            then = [&engine, &tally, n = g.expert] {
                engine.unload_expert(n, tally.on_failure("unloading " + n));
            };
        }
        tally.offset_ms[i] = ms_between(ready, clock_type::now());
        engine.generate(g, tally.on_request(i, std::move(then)));
    });
    engine.wait_idle();
    tally.check_failed();
    return summarize(name, max_batch, tally, t0);
}

// ------------------------------------------------------------------------ MoE variants

struct MoeSetup {
    const BenchServeOptions* options = nullptr;
    std::filesystem::path base;
    std::vector<std::filesystem::path> variants;
    std::vector<std::string> names;  // catalog names = folder names
    std::filesystem::path catalog;   // holds the base, the variants and the plan
    std::int64_t vocab = 0;
    const std::vector<WorkItem>* work = nullptr;
};

// The variants served by one engine through the catalog's consolidation plan.
ServeRunStats run_consolidated(const MoeSetup& s, const std::string& name, int max_batch,
                               std::string* device) {
    const BenchServeOptions& o = *s.options;
    const std::vector<WorkItem>& work = *s.work;
    Tally tally(work.size());
    EngineOptions eo = engine_options(o, max_batch);
    eo.base = s.base;
    eo.catalog = s.catalog;
    Engine engine(eo);
    engine.wait_ready();
    *device = engine.status().device;
    for (const std::string& v : s.names)  // untimed: makes the consolidated model resident
        engine.generate(warm_up_request(o, s.vocab, v),
                        tally.on_failure("the warm-up request of " + v));
    engine.wait_idle();
    tally.check_failed();

    const GenerateOptions go = greedy(o.max_tokens);
    const auto t0 = closed_loop(work, o.clients, tally, [&](std::size_t i, auto ready) {
        GenerateRequest g;
        g.prompt_ids = work[i].prompt;
        g.expert = s.names[static_cast<std::size_t>(work[i].expert)];
        g.options = go;
        tally.offset_ms[i] = ms_between(ready, clock_type::now());
        engine.generate(g, tally.on_request(i));
    });
    engine.wait_idle();
    tally.check_failed();
    return summarize(name, max_batch, tally, t0);
}

// One variant's full weights at a time: when the next request wants another variant, the
// requests in flight finish, the engine stops and one starts on that variant's folder.
ServeRunStats run_restarts(const MoeSetup& s, int* restarts, double* restart_ms) {
    const BenchServeOptions& o = *s.options;
    const std::vector<WorkItem>& work = *s.work;
    Tally tally(work.size());
    std::unique_ptr<Engine> engine;
    int current = -1;
    auto start = [&](int variant) {
        engine.reset();
        EngineOptions eo = engine_options(o, o.clients);
        eo.base = s.variants[static_cast<std::size_t>(variant)];
        engine = std::make_unique<Engine>(eo);
        engine->wait_ready();
        current = variant;
    };
    start(work.front().expert);  // untimed, with a warm-up request
    engine->generate(warm_up_request(o, s.vocab, ""), tally.on_failure("the warm-up request"));
    engine->wait_idle();
    tally.check_failed();

    *restarts = 0;
    *restart_ms = 0;
    const GenerateOptions go = greedy(o.max_tokens);
    const auto t0 = closed_loop(work, o.clients, tally, [&](std::size_t i, auto ready) {
        if (work[i].expert != current) {
            tally.wait_in_flight_at_most(1);  // this request alone: the others have finished
            const auto t = clock_type::now();
            start(work[i].expert);
            *restart_ms += ms_between(t, clock_type::now());
            ++*restarts;
        }
        GenerateRequest g;
        g.prompt_ids = work[i].prompt;
        g.expert = "";
        g.options = go;
        tally.offset_ms[i] = ms_between(ready, clock_type::now());
        engine->generate(g, tally.on_request(i));
    });
    engine->wait_idle();
    tally.check_failed();
    return summarize("restart_per_switch", o.clients, tally, t0);
}

void validate(const BenchServeOptions& o) {
    if (o.clients < 1 || o.experts < 0 || o.requests < 1 || o.prompt_tokens < 1 ||
        o.max_tokens < 1 || o.rate < 0 || !std::isfinite(o.rate))
        throw Error(ErrorKind::invalid_argument,
                    "bench serve: clients, requests, prompt tokens and max tokens must be at least "
                    "1, experts at least 0 and the rate 0 or more");
}

void check_context(const BenchServeOptions& o, std::int64_t context) {
    if (o.prompt_tokens + o.max_tokens > context)
        throw Error(ErrorKind::invalid_argument,
                    "bench serve: prompt tokens + max tokens exceed the model's context (" +
                        std::to_string(context) + ")");
}

// A scratch folder of this process, removed with everything in it.
struct ScratchDir {
    std::filesystem::path path;
    explicit ScratchDir(const BenchServeOptions& o)
        : path((o.scratch.empty() ? std::filesystem::temp_directory_path() : o.scratch) /
               ("meswitch-bench-serve-" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(path);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

}  // namespace

std::uint64_t write_synthetic_model(const std::filesystem::path& dir, const ModelConfig& c,
                                    DType dtype, std::uint64_t seed, int threads,
                                    const std::string& label, bool tokenizer) {
    std::filesystem::create_directories(dir);
    std::uint64_t bytes = 0;
    {
        const auto weights = model::random_weights(c, dtype, seed, threads);
        std::vector<io::TensorToWrite> tensors;
        for (const auto& [name, t] : weights) {
            tensors.push_back({name, t.dtype, t.shape, t.data.data(), {}});
            bytes += t.data.size();
        }
        io::write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    }
    if (tokenizer) {
        io::write_file_atomic(dir / "tokenizer.json",
                              byte_fallback_tokenizer(c.vocab_size).dump() + "\n");
        const json config = {{"add_bos_token", true}, {"add_eos_token", false},
                             {"bos_token", "<s>"},    {"eos_token", "</s>"},
                             {"unk_token", "<unk>"},  {"clean_up_tokenization_spaces", false}};
        io::write_file_atomic(dir / "tokenizer_config.json", config.dump(2) + "\n");
    }
    const bool mistral = c.arch == ModelArch::mistral;
    const char* torch_dtype = dtype == DType::bf16  ? "bfloat16"
                              : dtype == DType::f16 ? "float16"
                                                    : "float32";
    const json config = {
        {"architectures", json::array({mistral ? "MistralForCausalLM" : "LlamaForCausalLM"})},
        {"model_type", mistral ? "mistral" : "llama"},
        {"hidden_act", "silu"},
        {"hidden_size", c.hidden_size},
        {"intermediate_size", c.intermediate_size},
        {"num_hidden_layers", c.num_hidden_layers},
        {"num_attention_heads", c.num_attention_heads},
        {"num_key_value_heads", c.num_key_value_heads},
        {"head_dim", c.head_dim},
        {"vocab_size", c.vocab_size},
        {"max_position_embeddings", c.max_position_embeddings},
        {"rms_norm_eps", c.rms_norm_eps},
        {"rope_theta", c.rope_theta},
        {"tie_word_embeddings", c.tie_word_embeddings},
        {"bos_token_id", 1},
        {"eos_token_id", 2},
        {"torch_dtype", torch_dtype},
        {"meswitch_synthetic", "random weights, " + label + ", seed " + std::to_string(seed)}};
    io::write_file_atomic(dir / "config.json", config.dump(2) + "\n");
    return bytes;
}

BenchServeResult bench_serve(const BenchServeOptions& o,
                             const std::function<void(std::string_view)>& progress) {
    auto say = [&](std::string_view what) {
        if (progress) progress(what);
    };
    validate(o);
    BenchServeResult r;
    r.shape = o.shape;
    const ModelConfig config = bench_shape(o.shape);
    check_context(o, config.max_position_embeddings);
    for (const ExpectedTensor& t : expected_tensors(config)) {
        std::int64_t n = 1;
        for (auto d : t.shape) n *= d;
        r.parameters += n;
    }
    // Building the base holds its weights once while writing; each engine holds one copy.
    const std::uint64_t weights = model_weight_bytes(config, o.dtype);
    const std::uint64_t need =
        weights + compressed_delta_bytes(config, o.bits) * (o.experts + o.clients) + (1ull << 30);
    const std::uint64_t available = host_memory_available();
    if (available > 0 && need > available / 10 * 9)
        throw Error(ErrorKind::out_of_memory,
                    "bench serve: the '" + o.shape + "' shape needs about " +
                        std::to_string(need >> 20) + " MiB of host memory here but " +
                        std::to_string(available >> 20) +
                        " MiB are available; use a smaller --shape (small, tiny)");

    const ScratchDir scratch(o);
    RunSetup s;
    s.options = &o;
    s.base = scratch.path / "base";
    s.base_hash = "synthetic-" + o.shape + "-" + dtype_name(o.dtype) + "-seed1";
    say("writing the synthetic base to " + s.base.string());
    r.base_bytes =
        write_synthetic_model(s.base, config, o.dtype, 1, o.threads, "shape " + o.shape, true);
    say("writing " + std::to_string(o.experts) + " synthetic " + std::to_string(o.bits) +
        "-bit deltas (.msd)");
    for (int e = 0; e < o.experts; ++e) {
        s.msd.push_back(scratch.path / (expert_name(e) + ".msd"));
        write_synthetic_msd(s.msd.back(), config, o.bits, s.base_hash, e);
    }
    r.delta_bytes = s.msd.empty() ? 0 : std::filesystem::file_size(s.msd.front());
    const std::vector<WorkItem> work = make_workload(o, config.vocab_size);
    s.work = &work;

    say("batched (max_batch " + std::to_string(o.clients) + ")");
    r.batched = run_workload(s, "batched", o.clients, false, &r.device);
    say("one request at a time (max_batch 1)");
    r.one_at_a_time = run_workload(s, "one_at_a_time", 1, false, &r.device);
    say("one at a time, reloading the expert's .msd before every request");
    r.reload = run_workload(s, "reload_per_request", 1, true, &r.device);

    r.mismatched_requests = mismatches(r.batched, r.one_at_a_time);
    r.same_tokens = r.mismatched_requests.empty();
    r.reload_same_tokens = mismatches(r.reload, r.one_at_a_time).empty();
    if (o.mode == DeltaMode::merged)
        r.note =
            "merged mode: a lone sequence runs on the merged weights W_base + Δ̂, a mixed batch "
            "computes x·W_base + x·Δ̂, so greedy tokens may legitimately differ by rounding";
    return r;
}

BenchServeMoeResult bench_serve_moe(const BenchServeOptions& options,
                                    const std::function<void(std::string_view)>& progress) {
    auto say = [&](std::string_view what) {
        if (progress) progress(what);
    };
    validate(options);
    BenchServeMoeResult r;
    MoeSetup s;
    s.base = options.moe / "base";
    if (!std::filesystem::exists(s.base / "config.json"))
        throw Error(ErrorKind::not_found,
                    "bench serve --moe: " + (s.base / "config.json").string() +
                        " is missing (the folder needs base/ and the "
                        "fine-tuned variants' folders beside it)");
    for (const auto& entry : std::filesystem::directory_iterator(options.moe))
        if (entry.is_directory() && entry.path().filename() != "base" &&
            std::filesystem::exists(entry.path() / "config.json"))
            s.variants.push_back(entry.path());
    std::sort(s.variants.begin(), s.variants.end());
    if (s.variants.empty())
        throw Error(ErrorKind::not_found, "bench serve --moe: " + options.moe.string() +
                                              " has no variant folders beside base/");
    for (const auto& v : s.variants) s.names.push_back(v.filename().string());
    r.base = s.base;
    r.variants = s.names;

    const ScratchDir scratch(options);
    s.catalog = scratch.path / "catalog.sqlite";
    say("importing the base and " + std::to_string(s.variants.size()) +
        " variants into a scratch catalog, planning the consolidation");
    {
        Catalog cat(s.catalog);
        ImportOptions io;
        io.name = "moe-base";
        import_model(cat, s.base, io);
        for (std::size_t v = 0; v < s.variants.size(); ++v) {
            ImportOptions vo;
            vo.name = s.names[v];
            vo.base = "moe-base";
            import_model(cat, s.variants[v], vo);
        }
        const moe::DistanceTable d = moe::expert_distances(s.base, s.variants);
        moe::PlanOptions po;
        const std::int64_t positions = d.config.num_hidden_layers * d.config.num_local_experts;
        po.shared_positions = options.moe_shared >= 0 ? options.moe_shared : positions / 2;
        moe::ConsolidationPlan plan = moe::plan_consolidation(d, po);
        plan.name = "bench-serve";
        moe::save_plan(cat, plan);
        r.positions = plan.positions();
        r.shared_positions = plan.shared_count();
        r.expert_bytes = plan.expert_bytes();
        r.expert_bytes_unconsolidated = plan.expert_bytes_unconsolidated();
        s.vocab = d.config.vocab_size;
        check_context(options, d.config.max_position_embeddings);
    }
    BenchServeOptions o = options;
    o.experts = static_cast<int>(s.variants.size());
    s.options = &o;
    const std::vector<WorkItem> work = make_workload(o, s.vocab);
    s.work = &work;

    say("consolidated, batched (max_batch " + std::to_string(o.clients) + ")");
    r.consolidated = run_consolidated(s, "consolidated", o.clients, &r.device);
    say("consolidated, one request at a time (max_batch 1)");
    r.consolidated_one_at_a_time = run_consolidated(s, "consolidated_one_at_a_time", 1, &r.device);
    say("an engine restarted on the variant's full weights at every switch");
    double restart_ms = 0;
    r.restart = run_restarts(s, &r.restarts, &restart_ms);
    r.restart_ms_mean = r.restarts > 0 ? restart_ms / r.restarts : 0;
    r.mismatched_requests = mismatches(r.consolidated, r.consolidated_one_at_a_time);
    r.same_tokens = r.mismatched_requests.empty();
    return r;
}

}  // namespace meswitch::serve
