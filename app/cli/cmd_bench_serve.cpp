// meswitch bench serve: many clients over many compressed experts, served by the engine
// batched, one request at a time, and one at a time reloading the expert for every request.
#include <cstdio>

#include "cli_context.h"
#include "meswitch/error.h"
#include "serve/bench_serve.h"

namespace meswitch::cli {

namespace {

nlohmann::json run_json(const serve::ServeRunStats& s) {
    return {{"max_batch", s.max_batch},
            {"wall_s", s.wall_s},
            {"generated_tokens", s.generated_tokens},
            {"tokens_per_second", s.tokens_per_second},
            {"decode_tokens_per_second", s.decode_tokens_per_second},
            {"ttft_p50_ms", s.ttft_p50_ms},
            {"ttft_p99_ms", s.ttft_p99_ms},
            {"per_token_p50_ms", s.per_token_p50_ms},
            {"per_token_p99_ms", s.per_token_p99_ms},
            {"queue_p50_ms", s.queue_p50_ms},
            {"queue_p99_ms", s.queue_p99_ms},
            {"max_batch_seen", s.max_batch_seen}};
}

// a ÷ b, or null when b is 0 (a figure the engine did not report).
nlohmann::json ratio(double a, double b) {
    return b > 0 ? nlohmann::json(a / b) : nlohmann::json(nullptr);
}

nlohmann::json ratios_json(const serve::ServeRunStats& a, const serve::ServeRunStats& b) {
    return {
        {"tokens_per_second", ratio(a.tokens_per_second, b.tokens_per_second)},
        {"decode_tokens_per_second", ratio(a.decode_tokens_per_second, b.decode_tokens_per_second)},
        {"wall_s", ratio(a.wall_s, b.wall_s)},
        {"ttft_p50_ms", ratio(a.ttft_p50_ms, b.ttft_p50_ms)},
        {"ttft_p99_ms", ratio(a.ttft_p99_ms, b.ttft_p99_ms)},
        {"per_token_p50_ms", ratio(a.per_token_p50_ms, b.per_token_p50_ms)},
        {"per_token_p99_ms", ratio(a.per_token_p99_ms, b.per_token_p99_ms)}};
}

void print_run(const char* label, const serve::ServeRunStats& s) {
    std::printf(
        "%-34s %7.2f s  %8.2f tokens/s (decode %8.2f)  first token p50 %8.1f / p99 %8.1f ms  "
        "per token p50 %7.2f / p99 %7.2f ms  (largest batch %d)\n",
        label, s.wall_s, s.tokens_per_second, s.decode_tokens_per_second, s.ttft_p50_ms,
        s.ttft_p99_ms, s.per_token_p50_ms, s.per_token_p99_ms, s.max_batch_seen);
}

void print_ratios(const serve::ServeRunStats& a, const serve::ServeRunStats& b, const char* label) {
    const auto q = ratios_json(a, b);
    auto fmt = [&](const char* key) {
        if (q[key].is_null()) return std::string("-");
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", q[key].get<double>());
        return std::string(buf);
    };
    std::printf(
        "%s: tokens/s %s (decode %s), wall %s, first token p50 %s / p99 %s, per token p50 %s / "
        "p99 %s\n",
        label, fmt("tokens_per_second").c_str(), fmt("decode_tokens_per_second").c_str(),
        fmt("wall_s").c_str(), fmt("ttft_p50_ms").c_str(), fmt("ttft_p99_ms").c_str(),
        fmt("per_token_p50_ms").c_str(), fmt("per_token_p99_ms").c_str());
}

void print_workload(const serve::BenchServeOptions& o) {
    char arrivals[64] = "all arriving at once";
    if (o.rate > 0) std::snprintf(arrivals, sizeof arrivals, "Poisson arrivals at %g/s", o.rate);
    std::printf("%d requests of %d prompt + %d generated tokens, %d clients, %s\n", o.requests,
                o.prompt_tokens, o.max_tokens, o.clients, arrivals);
}

void report_moe(const serve::BenchServeOptions& o, bool json) {
    const auto r = serve::bench_serve_moe(o, [json](std::string_view what) {
        if (!json) std::fprintf(stderr, "… %.*s\n", static_cast<int>(what.size()), what.data());
    });
    if (json) {
        print_json({{"device", r.device},
                    {"moe", o.moe.string()},
                    {"variants", r.variants},
                    {"positions", r.positions},
                    {"shared_positions", r.shared_positions},
                    {"expert_bytes", r.expert_bytes},
                    {"expert_bytes_unconsolidated", r.expert_bytes_unconsolidated},
                    {"clients", o.clients},
                    {"rate", o.rate},
                    {"requests", o.requests},
                    {"prompt_tokens", o.prompt_tokens},
                    {"max_tokens", o.max_tokens},
                    {"seed", o.seed},
                    {"consolidated", run_json(r.consolidated)},
                    {"consolidated_one_at_a_time", run_json(r.consolidated_one_at_a_time)},
                    {"restart_per_switch", run_json(r.restart)},
                    {"restarts", r.restarts},
                    {"restart_ms_mean", r.restart_ms_mean},
                    {"consolidated_over_restart", ratios_json(r.consolidated, r.restart)},
                    {"consolidated_over_one_at_a_time",
                     ratios_json(r.consolidated, r.consolidated_one_at_a_time)},
                    {"same_tokens", r.same_tokens},
                    {"mismatched_requests", r.mismatched_requests}});
        return;
    }
    std::printf("device %s, MoE family %s: variants", r.device.c_str(), r.base.string().c_str());
    for (const auto& v : r.variants) std::printf(" %s", v.c_str());
    std::printf(
        "\nplan: %lld of %lld positions shared, expert blocks %.2f MiB instead of %.2f MiB\n",
        static_cast<long long>(r.shared_positions), static_cast<long long>(r.positions),
        r.expert_bytes / 1048576.0, r.expert_bytes_unconsolidated / 1048576.0);
    print_workload(o);
    print_run(("consolidated (max_batch " + std::to_string(o.clients) + ")").c_str(),
              r.consolidated);
    print_run("consolidated, one at a time", r.consolidated_one_at_a_time);
    print_run("restart on full weights per switch", r.restart);
    std::printf("%d restarts, %.1f ms each on average (stop + start on the next variant)\n",
                r.restarts, r.restart_ms_mean);
    print_ratios(r.consolidated, r.restart, "consolidated ÷ restart per switch");
    print_ratios(r.consolidated, r.consolidated_one_at_a_time,
                 "consolidated batched ÷ one at a time");
    if (r.same_tokens)
        std::printf("same tokens consolidated batched and one at a time: yes, every request\n");
    else
        std::printf(
            "same tokens consolidated batched and one at a time: NO, %zu of %d requests differ\n",
            r.mismatched_requests.size(), o.requests);
}

}  // namespace

void register_bench_serve(CLI::App* bench) {
    auto* cmd = bench->add_subcommand(
        "serve",
        "many clients over many 2-bit experts: the engine batched vs one request at a time vs "
        "reloading the expert per request");
    static serve::BenchServeOptions o;
    static std::string dtype_arg = "bf16", mode_arg = "separate";
    static bool json = false;
    cmd->add_option("--clients", o.clients, "requests in flight at most (the batched max_batch)")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    cmd->add_option("--experts", o.experts, "synthetic compressed experts (0: the base alone)")
        ->check(CLI::Range(0, 1024))
        ->capture_default_str();
    cmd->add_option("--rate", o.rate, "Poisson arrivals per second (0: all at once)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    cmd->add_option("--requests", o.requests, "requests in the workload")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    cmd->add_option("--prompt-tokens", o.prompt_tokens, "random prompt tokens per request")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    cmd->add_option("--max-tokens", o.max_tokens, "generated tokens per request (greedy, no EOS)")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    cmd->add_option("--shape", o.shape, "tiny, small (175 M), 1b or mistral7b")
        ->check(CLI::IsMember({"tiny", "small", "1b", "mistral7b"}))
        ->capture_default_str();
    cmd->add_option("--dtype", dtype_arg, "base weight dtype: bf16, f16 or f32")
        ->check(CLI::IsMember({"bf16", "f16", "f32"}))
        ->capture_default_str();
    cmd->add_option("--bits", o.bits, "delta bits (1-4)")
        ->check(CLI::Range(1, 4))
        ->capture_default_str();
    cmd->add_option("--delta-mode", mode_arg,
                    "separate: x·W_base + x·Δ̂ always (batched and single runs compute the same "
                    "thing); merged: the engine may merge an expert that has the whole batch")
        ->check(CLI::IsMember({"separate", "merged"}))
        ->capture_default_str();
    cmd->add_option("--device", o.device, "cpu, cuda or auto")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
        ->capture_default_str();
    cmd->add_option("--seed", o.seed, "seed of the prompts, experts and arrivals")
        ->capture_default_str();
    cmd->add_option("--threads", o.threads, "CPU threads (default: all cores)");
    static std::string moe;
    cmd->add_option("--moe", moe,
                    "a Mixtral family folder (base/ + fine-tuned variant folders, e.g. "
                    "tiny-mixtral): its variants through a consolidation plan vs an engine "
                    "restarted on each variant's full weights per switch (--shape, --dtype, "
                    "--bits, --experts and --delta-mode then do not apply)")
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--moe-shared", o.moe_shared,
                    "--moe: positions (layer, expert) the plan shares (-1: half)")
        ->capture_default_str();
    cmd->add_flag("--json", json, "print one JSON object");
    cmd->callback([] {
        o.dtype = dtype_arg == "f32" ? DType::f32 : dtype_arg == "f16" ? DType::f16 : DType::bf16;
        o.mode = mode_arg == "merged" ? DeltaMode::merged : DeltaMode::separate;
        if (!moe.empty()) {
            o.moe = moe;
            report_moe(o, json);
            return;
        }
        const auto r = serve::bench_serve(o, [](std::string_view what) {
            if (!json) std::fprintf(stderr, "… %.*s\n", static_cast<int>(what.size()), what.data());
        });
        if (json) {
            print_json({{"device", r.device},
                        {"shape", r.shape},
                        {"dtype", dtype_arg},
                        {"bits", o.bits},
                        {"delta_mode", mode_arg},
                        {"parameters", r.parameters},
                        {"base_bytes", r.base_bytes},
                        {"delta_bytes", r.delta_bytes},
                        {"clients", o.clients},
                        {"experts", o.experts},
                        {"rate", o.rate},
                        {"requests", o.requests},
                        {"prompt_tokens", o.prompt_tokens},
                        {"max_tokens", o.max_tokens},
                        {"seed", o.seed},
                        {"batched", run_json(r.batched)},
                        {"one_at_a_time", run_json(r.one_at_a_time)},
                        {"reload_per_request", run_json(r.reload)},
                        {"batched_over_one_at_a_time", ratios_json(r.batched, r.one_at_a_time)},
                        {"same_tokens", r.same_tokens},
                        {"mismatched_requests", r.mismatched_requests},
                        {"reload_same_tokens", r.reload_same_tokens},
                        {"note", r.note}});
            return;
        }
        std::printf(
            "device %s, shape %s (%.1f M parameters, %s), %d experts of %.1f MiB (%d-bit, %s)\n",
            r.device.c_str(), r.shape.c_str(), r.parameters / 1e6, dtype_arg.c_str(), o.experts,
            r.delta_bytes / 1048576.0, o.bits, mode_arg.c_str());
        print_workload(o);
        if (!r.note.empty()) std::printf("note: %s\n", r.note.c_str());
        print_run(("batched (max_batch " + std::to_string(o.clients) + ")").c_str(), r.batched);
        print_run("one at a time (max_batch 1)", r.one_at_a_time);
        print_run("one at a time, reload per request", r.reload);
        print_ratios(r.batched, r.one_at_a_time, "batched ÷ one at a time");
        if (r.same_tokens)
            std::printf("same tokens batched and one at a time: yes, every request\n");
        else
            std::printf("same tokens batched and one at a time: NO, %zu of %d requests differ\n",
                        r.mismatched_requests.size(), o.requests);
        if (!r.reload_same_tokens)
            std::printf("reloading per request changed the tokens of some requests\n");
    });
}

}  // namespace meswitch::cli
