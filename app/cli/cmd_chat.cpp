// meswitch chat: route a prompt to an expert (or take the one named) and answer with the
// base plus that expert's compressed delta, or its full weights when it is not compressed.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli_context.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "meswitch/router.h"

namespace meswitch::cli {

void register_chat(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("chat", "answer a prompt with the expert the router picks");
    static std::string prompt, expert_arg = "auto", mode_arg = "separate";
    static double threshold = 0.5;
    static int threads = 0;
    static bool raw = false;
    static GenerateOptions opts = [] {
        GenerateOptions o;
        o.max_tokens = 128;
        o.sampling.temperature = 0.0f;
        o.stop_on_bos = true;
        return o;
    }();
    cmd->add_option("--prompt", prompt, "the user's message")->required();
    cmd->add_option("--expert", expert_arg, "expert name, or auto to route the prompt")
        ->capture_default_str();
    cmd->add_option("--threshold", threshold, "routing confidence below which the base answers")
        ->capture_default_str();
    cmd->add_option("--delta-mode", mode_arg,
                    "separate: x·W_base + x·Δ̂ from the packed delta; merged: W_base + Δ̂ in place")
        ->check(CLI::IsMember({"separate", "merged"}))
        ->capture_default_str();
    cmd->add_flag("--raw", raw, "do not wrap the prompt in the model's chat template");
    cmd->add_option("--threads", threads, "CPU threads (default: all cores)");
    add_sampling_options(cmd, opts);
    cmd->callback([&ctx] {
        Catalog& cat = ctx.catalog();
        std::optional<ModelRecord> expert;
        if (expert_arg == "auto") {
            RouterOptions ro;
            ro.threshold = threshold;
            ro.threads = threads;
            Router router = Router::open(cat, ro);
            const RouteResult r = router.route(prompt);
            if (r.expert_id) {
                expert = cat.model(*r.expert_id);
                std::fprintf(stderr,
                             "routed to %s (domain %s, confidence %.3f, %s router, %.1f ms)\n",
                             r.expert_name.c_str(), r.domain.c_str(), r.confidence,
                             r.router.c_str(), r.total_ms);
            } else {
                std::fprintf(stderr, "base model answers (%s; best domain %s at confidence %.3f)\n",
                             r.reason.c_str(), r.domain.empty() ? "-" : r.domain.c_str(),
                             r.confidence);
                if (!router.info().base_name.empty()) {
                    auto base = cat.find_model(router.info().base_name);
                    if (!base)
                        throw Error(ErrorKind::not_found, "the router's base left the catalog");
                    expert = base;  // answered by the base itself
                }
            }
        } else {
            expert = cat.find_model(expert_arg);
            if (!expert)
                throw Error(
                    ErrorKind::not_found,
                    "expert '" + expert_arg + "' is not in the catalog (see: meswitch list)");
            std::fprintf(stderr, "expert %s (chosen by --expert)\n", expert->name.c_str());
        }

        // The model that answers: base + compressed delta, the expert's own weights, or the base.
        std::optional<ModelRecord> base =
            expert->role == ModelRole::expert ? cat.model(*expert->base_model_id) : expert;
        if (!base)
            throw Error(ErrorKind::not_found, "the base of '" + expert->name + "' is missing");
        const auto artifacts = expert->role == ModelRole::expert
                                   ? cat.delta_artifacts(expert->id)
                                   : std::vector<DeltaArtifactRecord>{};
        std::unique_ptr<Model> model;
        std::unique_ptr<AppliedDelta> delta;
        if (!artifacts.empty()) {
            const DeltaArtifactRecord& a = artifacts.back();
            model = std::make_unique<Model>(Model::load(base->path, ModelOptions{threads}));
            delta = std::make_unique<AppliedDelta>(
                *model, a.path, base->content_hash,
                mode_arg == "merged" ? DeltaMode::merged : DeltaMode::separate);
            std::fprintf(stderr, "using %s + %d-bit %s delta %s (%s)\n", base->name.c_str(), a.bits,
                         a.method.c_str(), a.path.c_str(), mode_arg.c_str());
        } else {
            model = std::make_unique<Model>(Model::load(expert->path, ModelOptions{threads}));
            if (expert->role == ModelRole::expert)
                std::fprintf(stderr, "using the full weights of %s (not compressed)\n",
                             expert->name.c_str());
        }
        const Tokenizer tok = Tokenizer::from_folder(base->path);
        std::string note;
        const bool chat = !raw && !tok.chat_template().empty();
        const auto ids = encode_prompt(tok, prompt, chat, &note);
        if (!note.empty()) std::cerr << "meswitch: " << note << "\n";
        const GenerateResult r = generate(*model, tok, ids, opts, [](std::string_view piece) {
            std::cout << piece << std::flush;
        });
        std::cout << std::endl;
        std::fprintf(stderr, "%zu tokens (%s), %.2f tokens/s\n", r.tokens.size(),
                     r.stop_reason.c_str(), r.tokens_per_second);
    });
}

}  // namespace meswitch::cli
