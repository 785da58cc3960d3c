// Shared state of the meswitch CLI: global options and lazily opened engine objects.
// Each command lives in its own cmd_*.cpp and registers itself with register_*().
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "meswitch/catalog.h"
#include "meswitch/engine.h"
#include "meswitch/generate.h"
#include "meswitch/generation_defaults.h"
#include "meswitch/tokenizer.h"

namespace meswitch::cli {

struct Context {
    std::string home_option;  // --home
    std::string log_level = "warn";

    std::filesystem::path home() const;
    // Opens the catalog in the data folder (creating it), once.
    Catalog& catalog();
    // A model folder given as a path, or the folder of a model in the catalog by name.
    // Throws Error(not_found) saying both were tried.
    std::filesystem::path resolve_model(const std::string& path_or_name);
    // What `meswitch chat` and `meswitch serve` start their engine with: this home's catalog,
    // `device` ("auto", "cpu", "cuda"), `threads` for the model and the router (0: all cores),
    // and the routing confidence below which the base answers.
    EngineOptions engine_options(const std::string& device, int threads, double threshold) const;

private:
    std::unique_ptr<Catalog> catalog_;
};

// Prints one JSON document to stdout, pretty, newline-terminated.
void print_json(const nlohmann::json& value);

// The Llama shapes of the synthetic benchmarks: tiny, small (175 M), 1b (TinyLlama-1.1B),
// 7b (Mistral-7B); Error(invalid_argument) otherwise (cmd_bench.cpp).
ModelConfig synthetic_shape(const std::string& name);

// Prompt ids for generation: plain (with BOS) or wrapped in the model's chat template as one
// user turn (falling back to a plain format; *note then says why).
std::vector<std::int32_t> encode_prompt(const Tokenizer& tok, const std::string& prompt, bool chat,
                                        std::string* note);
// -n, --temperature, --top-k, --top-p, --min-p, --repetition-penalty, --seed, --stop,
// --no-model-defaults.
void add_sampling_options(CLI::App* cmd, GenerateOptions& opts);
// The sampling flags given on `cmd`'s command line: they win over the model's
// generation_config defaults, which fill the others (unless --no-model-defaults).
SamplingChoice chosen_sampling(const CLI::App* cmd, const GenerateOptions& opts);
bool use_model_defaults(const CLI::App* cmd);

void register_info(CLI::App& app, Context& ctx);
void register_list(CLI::App& app, Context& ctx);
void register_tokenize(CLI::App& app, Context& ctx);
void register_import(CLI::App& app, Context& ctx);
void register_generate(CLI::App& app, Context& ctx);
void register_compress(CLI::App& app, Context& ctx);
void register_eval(CLI::App& app, Context& ctx);
void register_bench(CLI::App& app, Context& ctx);
void register_route(CLI::App& app, Context& ctx);
void register_chat(CLI::App& app, Context& ctx);
void register_moe(CLI::App& app, Context& ctx);
void register_demo(CLI::App& app, Context& ctx);
void register_serve(CLI::App& app, Context& ctx);

}  // namespace meswitch::cli
