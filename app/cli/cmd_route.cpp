// meswitch route: pick the expert for a prompt (domain classification on the base model's
// hidden states, or zero-shot), or evaluate the router on a labelled TSV file.
#include <cstdio>
#include <iostream>

#include "cli_context.h"
#include "meswitch/router.h"

namespace meswitch::cli {

namespace {

nlohmann::json info_json(const RouterInfo& info) {
    nlohmann::json j = {{"router", info.router},   {"why", info.why},
                        {"base", info.base_name},  {"domains", info.domains},
                        {"version", info.version}, {"trained", info.trained}};
    if (info.router == "feature") {
        j["layers"] = info.layers;
        j["pooling"] = info.pooling;
        j["temperature"] = info.temperature;
        if (info.trained) j["train_ms"] = info.train_ms;
    }
    if (!info.note.empty()) j["note"] = info.note;
    return j;
}

nlohmann::json route_json(const RouteResult& r) {
    nlohmann::json alts = nlohmann::json::array();
    for (const auto& a : r.alternatives)
        alts.push_back({{"domain", a.domain}, {"confidence", a.confidence}});
    nlohmann::json expert = nullptr;
    if (r.expert_id) expert = {{"id", *r.expert_id}, {"name", r.expert_name}};
    return {{"expert", expert},
            {"domain", r.domain},
            {"confidence", r.confidence},
            {"alternatives", alts},
            {"router", r.router},
            {"reason", r.reason},
            {"prompt_tokens", r.prompt_tokens},
            {"truncated", r.truncated},
            {"latency_ms",
             {{"features", r.features_ms}, {"classify", r.classify_ms}, {"total", r.total_ms}}}};
}

void print_route(const RouteResult& r, const RouterInfo& info) {
    if (!info.note.empty()) std::cerr << "meswitch: " << info.note << "\n";
    if (info.trained)
        std::cerr << "meswitch: trained router v" << info.version << " in "
                  << static_cast<int>(info.train_ms) << " ms\n";
    if (r.expert_id)
        std::printf("expert: %s (id %lld)\n", r.expert_name.c_str(),
                    static_cast<long long>(*r.expert_id));
    else
        std::printf("expert: none, the base model answers (%s)\n", r.reason.c_str());
    if (!r.domain.empty())
        std::printf("domain: %s  confidence %.3f\n", r.domain.c_str(), r.confidence);
    for (const auto& a : r.alternatives)
        std::printf("  alternative: %s  %.3f\n", a.domain.c_str(), a.confidence);
    std::printf(
        "router: %s%s, %d tokens%s, features %.2f ms + classification %.3f ms\n", r.router.c_str(),
        r.router == "feature" ? (" v" + std::to_string(info.version)).c_str() : "", r.prompt_tokens,
        r.truncated ? " (truncated: last tokens kept)" : "", r.features_ms, r.classify_ms);
}

void print_eval(const RoutingEvaluation& ev, bool json, const RouterInfo& info) {
    if (json) {
        nlohmann::json per = nlohmann::json::object(), conf = nlohmann::json::object();
        for (const auto& [name, s] : ev.per_domain)
            per[name] = {{"precision", s.precision}, {"recall", s.recall}, {"support", s.support}};
        for (const auto& [truth, row] : ev.confusion) {
            nlohmann::json r = nlohmann::json::object();
            for (const auto& [pred, n] : row) r[pred] = n;
            conf[truth] = r;
        }
        print_json({{"accuracy", ev.accuracy},
                    {"total", ev.total},
                    {"correct", ev.correct},
                    {"below_threshold", ev.below_threshold},
                    {"per_domain", per},
                    {"confusion", conf},
                    {"mean_confidence", ev.mean_confidence},
                    {"mean_latency_ms", ev.mean_latency_ms},
                    {"mean_features_ms", ev.mean_features_ms},
                    {"mean_classify_ms", ev.mean_classify_ms},
                    {"router", ev.router},
                    {"router_info", info_json(info)}});
        return;
    }
    std::printf("router: %s (%s)\n", ev.router.c_str(), info.why.c_str());
    std::printf("accuracy: %.4f (%d/%d), mean confidence %.3f, below threshold: %d\n", ev.accuracy,
                ev.correct, ev.total, ev.mean_confidence, ev.below_threshold);
    std::printf("%-12s %9s %9s %8s\n", "domain", "precision", "recall", "support");
    for (const auto& [name, s] : ev.per_domain)
        std::printf("%-12s %9.3f %9.3f %8d\n", name.c_str(), s.precision, s.recall, s.support);
    std::printf("confusion (rows: true, columns: predicted)\n%-12s", "");
    if (!ev.confusion.empty())
        for (const auto& [pred, n] : ev.confusion.front().second) std::printf(" %8s", pred.c_str());
    std::printf("\n");
    for (const auto& [truth, row] : ev.confusion) {
        std::printf("%-12s", truth.c_str());
        for (const auto& [pred, n] : row) std::printf(" %8d", n);
        std::printf("\n");
    }
    std::printf("mean latency: %.3f ms (features %.3f ms + classification %.4f ms)\n",
                ev.mean_latency_ms, ev.mean_features_ms, ev.mean_classify_ms);
}

}  // namespace

void register_route(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("route", "pick the expert for a prompt, or evaluate the router");
    static std::string prompt, eval_file, base;
    static bool json = false, zero_shot = false, retrain = false;
    static double threshold = 0.5;
    static std::vector<int> layers;
    static std::vector<std::string> pooling;
    static int threads = 0;
    auto* p = cmd->add_option("--prompt", prompt, "the prompt to route");
    auto* e =
        cmd->add_option("--eval", eval_file, "evaluate on a file of 'domain<TAB>prompt' lines");
    p->excludes(e);
    cmd->add_flag("--json", json, "print JSON");
    cmd->add_option("--threshold", threshold, "below this confidence the base model answers")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_flag("--zero-shot", zero_shot, "use the zero-shot router (no trained classifier)");
    cmd->add_flag("--retrain", retrain, "retrain the feature router from the domains' examples");
    cmd->add_option("--base", base, "base model (catalog name; default: the one with experts)");
    cmd->add_option("--layers", layers,
                    "feature layers, 0..num_hidden_layers (the last = final norm); "
                    "default: middle layer and final norm")
        ->delimiter(',');
    cmd->add_option("--pooling", pooling, "feature pooling: mean, last (default: both)")
        ->delimiter(',');
    cmd->add_option("--threads", threads, "CPU threads (default: all cores)");
    cmd->callback([&ctx, cmd] {
        if (cmd->count("--prompt") == 0 && eval_file.empty())
            throw CLI::RequiredError("--prompt or --eval");
        RouterOptions opts;
        if (!base.empty()) opts.base = base;
        opts.threshold = threshold;
        opts.zero_shot = zero_shot;
        opts.retrain = retrain;
        opts.layers = layers;
        opts.pooling = pooling;
        opts.threads = threads;
        Router router = Router::open(ctx.catalog(), opts);
        if (!eval_file.empty()) {
            const auto prompts = read_routing_tsv(eval_file);
            print_eval(evaluate_routing(router, prompts), json, router.info());
            return;
        }
        const RouteResult r = router.route(prompt);
        if (json) {
            nlohmann::json j = route_json(r);
            j["router_info"] = info_json(router.info());
            print_json(j);
        } else {
            print_route(r, router.info());
        }
    });
}

}  // namespace meswitch::cli
