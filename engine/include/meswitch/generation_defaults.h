// A model's own sampling defaults (Hugging Face's generation_config.json), read at import,
// stored in the catalog, and used wherever that model answers unless the user chose otherwise:
// the CLI's generate and chat, the Studio's chat, the engine and the API server.
//
//   resolved value = the caller's explicit choice (SamplingChoice)
//                  → else the model's default (GenerationDefaults), when defaults are used
//                  → else the front end's own value (GenerateOptions as given)
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/generate.h"

namespace meswitch {

struct GenerationDefaults {
    // do_sample: false in the file gives temperature 0 (greedy), whatever temperature says.
    std::optional<float> temperature;
    std::optional<float> top_p;
    std::optional<int> top_k;
    std::optional<float> repetition_penalty;
    std::optional<int> max_new_tokens;
    std::vector<std::int32_t> eos_token_ids;  // stop ids besides config.json's and the tokenizer's

    bool empty() const;
    // Compact JSON with HF's keys, only those set ("" when empty): the catalog's stored form.
    std::string to_json() const;
    // "temperature 0 (greedy), top_p 0.9, at most 64 new tokens" (or "none").
    std::string describe() const;

    // Parses generation_config.json text (HF's keys; others are ignored). A value of the
    // wrong type or out of range throws Error(format) naming `label` and the key.
    static GenerationDefaults parse(std::string_view text, const std::string& label);
    // `folder`/generation_config.json, or empty defaults when the folder has none.
    static GenerationDefaults read_folder(const std::filesystem::path& folder);
};

struct ModelRecord;

// A catalog model's defaults: what its import stored, or (for a model imported before the
// catalog kept them) its folder's generation_config.json. Never throws: a file that no longer
// parses is logged as a warning naming it, and gives no defaults.
GenerationDefaults generation_defaults_of(const ModelRecord& model);

// What a caller chose explicitly; unset fields take the model's defaults.
struct SamplingChoice {
    std::optional<float> temperature, top_p, min_p, repetition_penalty;
    std::optional<int> top_k, max_tokens;
};

// "temperature 0.7, top_p 0.95, top_k 40, at most 256 tokens" (only what is not off).
std::string describe_sampling(const GenerateOptions& options);

// `options` with the model's defaults where it states them (pass empty defaults to ignore
// them), then the caller's explicit choices on top; eos ids of the defaults are added to
// options.stop_ids (once: resolving again changes nothing).
GenerateOptions resolve_sampling(GenerateOptions options, const GenerationDefaults& defaults,
                                 const SamplingChoice& chosen);

}  // namespace meswitch
