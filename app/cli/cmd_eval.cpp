// meswitch eval: mean NLL, perplexity and KL divergence of a model (optionally base + delta)
// on a text file.
#include <cstdio>
#include <optional>

#include "cli_context.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/evaluate.h"
#include "meswitch/model.h"

namespace meswitch::cli {

void register_eval(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "eval",
        "score a model on a text file: each line as [BOS] + text, mean next-token NLL over all "
        "tokens, perplexity, and KL(reference || model) with --reference");
    static std::string model_arg, delta, text, reference, mode = "merged";
    static int threads = 0;
    static bool json = false;
    cmd->add_option("--model", model_arg, "model: catalog name or folder (the base with --delta)")
        ->required();
    cmd->add_option("--delta", delta, ".msd artifact to apply to the model");
    cmd->add_option("--mode", mode, "how the delta is used: merged or separate")
        ->capture_default_str();
    cmd->add_option("--text", text, "text file, one sample per line")->required();
    cmd->add_option("--reference", reference, "reference model for the KL divergence");
    cmd->add_option("--threads", threads, "CPU threads (default: all cores)");
    cmd->add_flag("--json", json, "print the result as one JSON object");
    cmd->callback([&ctx] {
        DeltaMode dm = DeltaMode::merged;
        if (mode == "separate")
            dm = DeltaMode::separate;
        else if (mode != "merged")
            throw Error(ErrorKind::invalid_argument,
                        "--mode must be merged or separate, not '" + mode + "'");
        const auto folder = ctx.resolve_model(model_arg);
        Model model = Model::load(folder, ModelOptions{threads});
        const Tokenizer tok = Tokenizer::from_folder(folder);
        std::optional<AppliedDelta> applied;
        if (!delta.empty()) applied.emplace(model, delta, checkpoint_hash(folder), dm);
        std::optional<Model> ref;
        if (!reference.empty())
            ref.emplace(Model::load(ctx.resolve_model(reference), ModelOptions{threads}));
        const EvalResult r = evaluate(model, tok, read_text_lines(text), ref ? &*ref : nullptr);
        if (json) {
            nlohmann::json j = {{"mean_nll", r.mean_nll},
                                {"perplexity", r.perplexity},
                                {"tokens", r.tokens},
                                {"lines", r.lines},
                                {"truncated_lines", r.truncated_lines},
                                {"kl", r.kl ? nlohmann::json(*r.kl) : nlohmann::json(nullptr)}};
            print_json(j);
            return;
        }
        std::printf("mean NLL %.6f nats/token, perplexity %.4f over %lld tokens (%lld lines)",
                    r.mean_nll, r.perplexity, static_cast<long long>(r.tokens),
                    static_cast<long long>(r.lines));
        if (r.kl) std::printf(", KL(reference || model) %.6f", *r.kl);
        std::printf("\n");
    });
}

}  // namespace meswitch::cli
