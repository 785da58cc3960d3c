// meswitch moe: consolidation plans for several fine-tuned variants of one Mixtral model
// (which expert positions they share), and the multi-variant serving benchmark.
#include <cstdio>

#include "cli_context.h"
#include "meswitch/error.h"
#include "meswitch/moe.h"

namespace meswitch::cli {

namespace {

std::vector<std::filesystem::path> resolve_all(Context& ctx, const std::vector<std::string>& v) {
    std::vector<std::filesystem::path> out;
    for (const auto& s : v) out.push_back(ctx.resolve_model(s));
    return out;
}

nlohmann::json plan_json(const moe::ConsolidationPlan& p) {
    nlohmann::json positions = nlohmann::json::array();
    for (std::int64_t l = 0; l < p.layers; ++l)
        for (std::int64_t e = 0; e < p.experts; ++e) {
            const auto i = static_cast<std::size_t>(l * p.experts + e);
            positions.push_back({{"layer", l},
                                 {"expert", e},
                                 {"shared", static_cast<bool>(p.shared[i])},
                                 {"distance", p.distance[i]},
                                 {"base_distance", p.base_distance[i]}});
        }
    std::vector<std::string> paths;
    for (const auto& v : p.variants) paths.push_back(v.string());
    return {{"id", p.catalog_id ? nlohmann::json(*p.catalog_id) : nlohmann::json(nullptr)},
            {"name", p.name},
            {"base", p.base.string()},
            {"variants", p.variant_names},
            {"variant_paths", paths},
            {"metric", moe::to_string(p.metric)},
            {"shared_expert", moe::to_string(p.shared_expert)},
            {"positions_total", p.positions()},
            {"positions_shared", p.shared_count()},
            {"expert_block_bytes", p.expert_block_bytes},
            {"expert_bytes_unconsolidated", p.expert_bytes_unconsolidated()},
            {"expert_bytes", p.expert_bytes()},
            {"saved_bytes", p.saved_bytes()},
            {"non_expert_bytes_per_variant", p.non_expert_bytes},
            {"positions", positions}};
}

void print_plan(const moe::ConsolidationPlan& p) {
    std::printf("MoE family: base %s, variants", p.base.string().c_str());
    for (const auto& n : p.variant_names) std::printf(" %s", n.c_str());
    std::printf("\nmetric %s, shared expert = %s\n", moe::to_string(p.metric),
                moe::to_string(p.shared_expert));
    std::printf(
        "shared positions: %lld of %lld; expert blocks stored %llu of %llu\n",
        static_cast<long long>(p.shared_count()), static_cast<long long>(p.positions()),
        static_cast<unsigned long long>(p.expert_bytes() / p.expert_block_bytes),
        static_cast<unsigned long long>(p.expert_bytes_unconsolidated() / p.expert_block_bytes));
    std::printf("expert memory %.2f MiB instead of %.2f MiB (saves %.2f MiB, %.1f%%)\n",
                p.expert_bytes() / 1048576.0, p.expert_bytes_unconsolidated() / 1048576.0,
                p.saved_bytes() / 1048576.0,
                100.0 * p.saved_bytes() / static_cast<double>(p.expert_bytes_unconsolidated()));
    std::printf(
        "\nlayer × expert: S = shared by all variants, own = per variant; mean pairwise "
        "distance\n");
    for (std::int64_t l = 0; l < p.layers; ++l) {
        std::printf("  layer %2lld:", static_cast<long long>(l));
        for (std::int64_t e = 0; e < p.experts; ++e) {
            const auto i = static_cast<std::size_t>(l * p.experts + e);
            std::printf("  %s %8.4g", p.shared[i] ? "S  " : "own", p.distance[i]);
        }
        std::printf("\n");
    }
    if (p.catalog_id)
        std::printf("\nsaved in the catalog as plan %lld\n", static_cast<long long>(*p.catalog_id));
}

}  // namespace

void register_moe(CLI::App& app, Context& ctx) {
    auto* moe_cmd = app.add_subcommand(
        "moe",
        "several fine-tuned variants of one Mixtral: expert consolidation plans and the "
        "multi-variant serving benchmark");
    moe_cmd->require_subcommand(1);

    auto* plan = moe_cmd->add_subcommand(
        "plan",
        "distances between the variants' experts per (layer, expert); share the most "
        "similar positions under a memory budget; store the plan in the catalog");
    static std::string base, metric = "l2", shared_expert = "mean", name;
    static std::vector<std::string> variants;
    static std::uint64_t budget = 0;
    static std::int64_t shared = -1;
    static bool json = false, no_save = false;
    plan->add_option("--base", base, "the MoE base: catalog name or folder")->required();
    plan->add_option("--variant", variants, "fine-tuned variants (two or more)")->required();
    plan->add_option("--budget", budget, "bytes the expert blocks of all variants may take");
    plan->add_option("--shared", shared, "share exactly this many positions (instead of --budget)");
    plan->add_option("--metric", metric, "l2 or cosine")->capture_default_str();
    plan->add_option("--shared-expert", shared_expert,
                     "what a shared position holds: mean, medoid or base")
        ->capture_default_str();
    plan->add_option("--name", name, "a name for the plan");
    plan->add_flag("--no-save", no_save, "do not store the plan in the catalog");
    plan->add_flag("--json", json, "print the plan as one JSON object");
    plan->callback([&ctx] {
        const auto table = moe::expert_distances(
            ctx.resolve_model(base), resolve_all(ctx, variants), moe::parse_metric(metric));
        moe::PlanOptions o;
        o.shared_expert = moe::parse_shared_expert(shared_expert);
        if (shared >= 0) o.shared_positions = shared;
        if (budget > 0) o.budget_bytes = budget;
        moe::ConsolidationPlan p = moe::plan_consolidation(table, o);
        p.name = name;
        if (!no_save) moe::save_plan(ctx.catalog(), p);
        if (json)
            print_json(plan_json(p));
        else
            print_plan(p);
    });

    auto* bench = moe_cmd->add_subcommand(
        "bench",
        "Poisson arrivals of requests for the variants: turnaround and time to first "
        "token for consolidation + reconfiguration, whole-variant reloads and static "
        "partitioning (simulated slices), on this machine's CPU");
    static std::string bench_base, bench_shared_expert = "mean";
    static std::vector<std::string> bench_variants;
    static moe::WorkloadOptions wo;
    static bool bench_json = false;
    bench->add_option("--base", bench_base, "the MoE base: catalog name or folder")->required();
    bench->add_option("--variant", bench_variants, "fine-tuned variants (two or more)")->required();
    bench->add_option("--requests", wo.requests, "requests in the workload")->capture_default_str();
    bench
        ->add_option("--rate", wo.rate_per_second,
                     "mean arrivals per second (0: 70% of the consolidated server's capacity)")
        ->capture_default_str();
    bench->add_option("--tokens", wo.max_new_tokens, "tokens generated per request")
        ->capture_default_str();
    bench->add_option("--shared", wo.shared_positions, "shared positions (-1: half)")
        ->capture_default_str();
    bench->add_option("--shared-expert", bench_shared_expert, "mean, medoid or base")
        ->capture_default_str();
    bench->add_option("--seed", wo.seed, "workload seed")->capture_default_str();
    bench->add_option("--threads", wo.threads, "CPU threads (default: all cores)");
    bench->add_option("--repeats", wo.repeats, "timings per generation, the fastest counts")
        ->capture_default_str();
    bench->add_flag("--json", bench_json, "print one JSON object");
    bench->callback([&ctx] {
        wo.shared_expert = moe::parse_shared_expert(bench_shared_expert);
        const auto r = moe::bench_workload(ctx.resolve_model(bench_base),
                                           resolve_all(ctx, bench_variants), wo);
        if (bench_json) {
            nlohmann::json s = nlohmann::json::array();
            for (const auto& x : r.strategies)
                s.push_back({{"name", x.name},
                             {"mean_turnaround_ms", x.mean_turnaround_ms},
                             {"p50_turnaround_ms", x.p50_turnaround_ms},
                             {"p95_turnaround_ms", x.p95_turnaround_ms},
                             {"mean_ttft_ms", x.mean_ttft_ms},
                             {"p95_ttft_ms", x.p95_ttft_ms},
                             {"mean_service_ms", x.mean_service_ms},
                             {"mean_switch_ms", x.mean_switch_ms},
                             {"switches", x.switches},
                             {"bytes_copied", x.bytes_copied},
                             {"resident_bytes", x.resident_bytes}});
            print_json({{"device", "cpu"},
                        {"requests", r.requests},
                        {"rate_per_second", r.rate_per_second},
                        {"tokens_per_request", r.max_new_tokens},
                        {"shared_positions", r.shared_positions},
                        {"strategies", s}});
            return;
        }
        std::printf("CPU, %d requests, Poisson %.1f req/s, %d tokens each, %lld shared positions\n",
                    r.requests, r.rate_per_second, r.max_new_tokens,
                    static_cast<long long>(r.shared_positions));
        std::printf("%-40s %10s %10s %10s %10s %10s %10s %8s %9s %11s %12s\n", "strategy",
                    "turn mean", "turn p50", "turn p95", "TTFT mean", "TTFT p95", "service",
                    "switches", "switch ms", "copied MiB", "resident MiB");
        for (const auto& x : r.strategies)
            std::printf("%-40s %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f %8d %9.3f %11.2f %12.2f\n",
                        x.name.c_str(), x.mean_turnaround_ms, x.p50_turnaround_ms,
                        x.p95_turnaround_ms, x.mean_ttft_ms, x.p95_ttft_ms, x.mean_service_ms,
                        x.switches, x.mean_switch_ms, x.bytes_copied / 1048576.0,
                        x.resident_bytes / 1048576.0);
        std::printf(
            "times in ms; static partitioning runs each variant in 1/%zu of the machine "
            "(measured speed × %zu), with its own queue\n",
            bench_variants.size(), bench_variants.size());
    });
}

}  // namespace meswitch::cli
