// meswitch chat: one user turn answered by the serving engine. The engine routes it (--expert
// auto) or takes the expert named, renders the chat template and chooses the weights (the
// base, the base plus a compressed delta, or an expert's full weights); this command builds
// the request and prints what comes back.
#include <cstdio>
#include <future>
#include <iostream>

#include "cli_context.h"
#include "meswitch/engine.h"
#include "meswitch/error.h"
#include "meswitch/paths.h"

namespace meswitch::cli {

void register_chat(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("chat", "answer a prompt with the expert the router picks");
    static std::string prompt, expert_arg = "auto", mode_arg = "separate", device_arg = "auto";
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
    cmd->add_option("--expert", expert_arg,
                    "expert name, auto to route the prompt, or base for the base alone")
        ->capture_default_str();
    cmd->add_option("--threshold", threshold, "routing confidence below which the base answers")
        ->capture_default_str();
    cmd->add_option("--delta-mode", mode_arg,
                    "separate: x·W_base + x·Δ̂ from the packed delta; merged: W_base + Δ̂ in place")
        ->check(CLI::IsMember({"separate", "merged"}))
        ->capture_default_str();
    cmd->add_flag("--raw", raw, "do not wrap the prompt in the model's chat template");
    cmd->add_option("--device", device_arg, "auto (cuda when available), cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
    cmd->add_option("--threads", threads, "CPU threads (default: all cores)");
    add_sampling_options(cmd, opts);
    cmd->callback([&ctx, cmd] {
        Catalog& cat = ctx.catalog();
        EngineOptions eo = ctx.engine_options(device_arg, threads, threshold);
        GenerateRequest req;
        req.expert = expert_arg;
        if (expert_arg == "base" || expert_arg.empty()) req.expert = "";
        if (expert_arg != "auto" && !expert_arg.empty()) {
            // The engine serves the named model on its own base; a named base answers alone.
            // "base" that names no model is the catalog's base.
            const auto m = cat.find_model(expert_arg);
            if (!m && expert_arg != "base")
                throw Error(
                    ErrorKind::not_found,
                    "expert '" + expert_arg + "' is not in the catalog (see: meswitch list)");
            if (m && m->role == ModelRole::expert) {
                const auto base = m->base_model_id ? cat.model(*m->base_model_id) : std::nullopt;
                if (!base)
                    throw Error(ErrorKind::not_found, "the base of '" + m->name + "' is missing");
                eo.base = base->path;
            } else if (m) {
                eo.base = m->path;
                req.expert = "";
            }
            if (m) std::fprintf(stderr, "expert %s (chosen by --expert)\n", m->name.c_str());
        }
        if (raw)
            req.prompt = prompt;
        else
            req.messages = {{"user", prompt}};
        req.routing_threshold = threshold;
        req.mode = mode_arg == "merged" ? DeltaMode::merged : DeltaMode::separate;
        req.options = opts;
        req.use_model_defaults = use_model_defaults(cmd);
        req.chosen = chosen_sampling(cmd, opts);

        Engine engine(eo);
        std::promise<RequestOutcome> finished;
        RequestCallbacks cb;
        cb.on_route = [](const RouteResult& r) {
            if (r.expert_id)
                std::fprintf(stderr,
                             "routed to %s (domain %s, confidence %.3f, %s router, %.1f ms)\n",
                             r.expert_name.c_str(), r.domain.c_str(), r.confidence,
                             r.router.c_str(), r.total_ms);
            else
                std::fprintf(stderr, "base model answers (%s; best domain %s at confidence %.3f)\n",
                             r.reason.c_str(), r.domain.empty() ? "-" : r.domain.c_str(),
                             r.confidence);
        };
        bool streamed = false;  // written on the engine thread, read after on_finished
        cb.on_text = [&streamed](std::string_view piece) {
            streamed = true;
            std::cout << piece << std::flush;
        };
        cb.on_finished = [&finished](const RequestOutcome& o) { finished.set_value(o); };
        engine.generate(req, std::move(cb));
        const RequestOutcome out = finished.get_future().get();
        if (streamed || out.ok) std::cout << std::endl;
        if (!out.ok) throw Error(out.cancelled ? ErrorKind::cancelled : out.error_kind, out.error);
        const std::string who = out.model.empty() ? "the base" : out.model;
        if (out.weights.empty())
            std::fprintf(stderr, "answered by %s\n", who.c_str());
        else
            std::fprintf(stderr, "answered by %s: %s\n", who.c_str(), out.weights.c_str());
        if (!out.note.empty()) std::cerr << "meswitch: " << out.note << "\n";
        if (!out.sampling.empty())
            std::cerr << "sampling: " << out.sampling
                      << (out.model_defaults.empty()
                              ? ""
                              : " (model defaults: " + out.model_defaults + ")")
                      << "\n";
        const GenerateResult& r = out.generation;
        std::fprintf(stderr, "%zu tokens (%s), %.2f tokens/s\n", r.tokens.size(),
                     r.stop_reason.c_str(), r.tokens_per_second);
    });
}

}  // namespace meswitch::cli
