// meswitch generate: stream a completion from a model on the CPU.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli_context.h"
#include "meswitch/chat_template.h"
#include "meswitch/generate.h"
#include "meswitch/generation_defaults.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"

namespace meswitch::cli {

std::vector<std::int32_t> encode_prompt(const Tokenizer& tok, const std::string& prompt, bool chat,
                                        std::string* note) {
    if (!chat) return tok.encode(prompt, true);
    ChatTemplateContext tctx;
    tctx.bos_token = tok.bos_token();
    tctx.eos_token = tok.eos_token();
    tctx.add_generation_prompt = true;
    const RenderedChat r =
        render_chat(tok.chat_template(), {{"user", prompt}}, tctx, tok.chat_template_origin());
    if (r.used_fallback) {
        if (note)
            *note = "chat template not used (" + r.fallback_reason + "); plain format instead";
        return tok.encode(r.text, true);
    }
    // Like transformers' apply_chat_template: the template writes the special tokens itself.
    return tok.encode(r.text, false);
}

void add_sampling_options(CLI::App* cmd, GenerateOptions& opts) {
    cmd->add_option("-n,--max-tokens", opts.max_tokens, "tokens to generate")
        ->capture_default_str();
    cmd->add_option("--temperature", opts.sampling.temperature, "0 = greedy")
        ->capture_default_str();
    cmd->add_option("--top-k", opts.sampling.top_k, "0 = off")->capture_default_str();
    cmd->add_option("--top-p", opts.sampling.top_p, "1 = off")->capture_default_str();
    cmd->add_option("--min-p", opts.sampling.min_p, "0 = off")->capture_default_str();
    cmd->add_option("--repetition-penalty", opts.sampling.repetition_penalty, "1 = off")
        ->capture_default_str();
    cmd->add_option("--seed", opts.sampling.seed, "random seed (default: from the clock)");
    cmd->add_option("--stop", opts.stop_strings, "stop before this text (repeatable)");
    static bool no_model_defaults = false;  // read through count(): one command runs
    cmd->add_flag("--no-model-defaults", no_model_defaults,
                  "ignore the model's generation_config.json defaults (temperature, top-p, "
                  "top-k, repetition penalty, max new tokens, eos ids)");
}

SamplingChoice chosen_sampling(const CLI::App* cmd, const GenerateOptions& opts) {
    SamplingChoice c;
    const SamplingOptions& s = opts.sampling;
    if (cmd->count("--temperature")) c.temperature = s.temperature;
    if (cmd->count("--top-k")) c.top_k = s.top_k;
    if (cmd->count("--top-p")) c.top_p = s.top_p;
    if (cmd->count("--min-p")) c.min_p = s.min_p;
    if (cmd->count("--repetition-penalty")) c.repetition_penalty = s.repetition_penalty;
    if (cmd->count("--max-tokens")) c.max_tokens = opts.max_tokens;
    return c;
}

bool use_model_defaults(const CLI::App* cmd) {
    return cmd->count("--no-model-defaults") == 0;
}

void register_generate(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("generate", "generate a completion (streamed to stdout)");
    static std::string model_arg, prompt;
    static bool chat = false;
    static int threads = 0;
    static GenerateOptions opts = [] {
        GenerateOptions o;
        o.max_tokens = 256;
        o.sampling.temperature = 0.8f;
        o.sampling.top_p = 0.95f;
        o.stop_on_bos = true;
        return o;
    }();
    cmd->add_option("--model", model_arg, "model folder or catalog name")->required();
    cmd->add_option("--prompt", prompt, "prompt text (empty: start from BOS)");
    cmd->add_flag("--chat", chat, "wrap the prompt in the model's chat template as a user turn");
    cmd->add_option("--threads", threads, "CPU threads (default: all cores)");
    add_sampling_options(cmd, opts);
    cmd->callback([&ctx, cmd] {
        if (cmd->count("--seed") == 0)
            opts.sampling.seed = static_cast<std::uint64_t>(
                std::chrono::steady_clock::now().time_since_epoch().count());
        const auto folder = ctx.resolve_model(model_arg);
        // The model's own defaults (stored at import for a catalog model) under the flags given.
        GenerationDefaults defaults;
        if (use_model_defaults(cmd)) {
            const auto m = std::filesystem::exists(model_arg) ? std::nullopt
                                                              : ctx.catalog().find_model(model_arg);
            defaults = m ? generation_defaults_of(*m) : GenerationDefaults::read_folder(folder);
        }
        const GenerateOptions used = resolve_sampling(opts, defaults, chosen_sampling(cmd, opts));
        Model model = Model::load(folder, ModelOptions{threads});
        const Tokenizer tok = Tokenizer::from_folder(folder);
        std::string note;
        const auto ids = encode_prompt(tok, prompt, chat, &note);
        GenerateOptions go = used;
        go.continues_prompt = !chat;  // a chat answer starts a message of its own
        if (!note.empty()) std::cerr << "meswitch: " << note << "\n";
        if (!defaults.empty())
            std::cerr << "meswitch: sampling " << describe_sampling(go)
                      << " (model defaults: " << defaults.describe() << ")\n";
        const GenerateResult r = generate(
            model, tok, ids, go, [](std::string_view piece) { std::cout << piece << std::flush; });
        std::cout << std::endl;
        std::fprintf(stderr,
                     "%d prompt tokens, %zu generated (%s), prefill %.1f ms, %.2f tokens/s\n",
                     r.prompt_tokens, r.tokens.size(), r.stop_reason.c_str(), r.prefill_ms,
                     r.tokens_per_second);
    });
}

}  // namespace meswitch::cli
