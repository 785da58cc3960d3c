// Sampling and the text generation loop: prefill the prompt, then sample and feed one token
// at a time, streaming decoded text, until EOS, a stop string, the token limit or cancel.
//
//   GenerateOptions opt;
//   opt.max_tokens = 128;
//   opt.sampling.temperature = 0.7f;
//   GenerateResult r = generate(model, tokenizer, tokenizer.encode(prompt), opt,
//                               [](std::string_view piece) { std::cout << piece; });
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meswitch {

class CancelToken;
class KvCache;
class Model;
class Tokenizer;

// Hugging Face semantics, applied in this order: repetition penalty, temperature, top-k,
// top-p, min-p, then a draw from the softmax. temperature == 0 is greedy (argmax after the
// repetition penalty; ties go to the lowest id). The defaults change nothing.
struct SamplingOptions {
    float temperature = 1.0f;
    int top_k = 0;                    // 0: off
    float top_p = 1.0f;               // 1: off
    float min_p = 0.0f;               // 0: off; keep p >= min_p · p_max
    float repetition_penalty = 1.0f;  // 1: off; over every id seen (prompt + generated)
    std::uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplingOptions& options);

    // Picks the next id from `logits` (modified in place). `previous` are the ids the
    // repetition penalty applies to.
    std::int32_t sample(std::span<float> logits, std::span<const std::int32_t> previous = {});

    // The probabilities a draw would use (after every processor), for tests and UIs.
    std::vector<float> probabilities(std::span<float> logits,
                                     std::span<const std::int32_t> previous = {}) const;

    const SamplingOptions& options() const { return options_; }

private:
    SamplingOptions options_;
    std::mt19937_64 rng_;
};

// HF repetition penalty: for every distinct id in `previous`, logit > 0 ? logit / p : logit · p.
void apply_repetition_penalty(std::span<float> logits, std::span<const std::int32_t> previous,
                              float penalty);

struct GenerateOptions {
    int max_tokens = 256;
    SamplingOptions sampling;
    std::vector<std::string> stop_strings;  // generation ends before the first occurrence
    bool stop_on_eos = true;                // config's eos ids and the tokenizer's eos
    // More ids that end generation as EOS does (with stop_on_eos): e.g. the eos list of the
    // model's generation_config.json (see resolve_sampling).
    std::vector<std::int32_t> stop_ids;
    // Stop when BOS is sampled (llama2.c-style models such as stories260K use BOS as the
    // story delimiter and never emit EOS).
    bool stop_on_bos = false;
    const CancelToken* cancel = nullptr;  // polled between tokens
    // The text continues the prompt's (a completion): its first word reads as it does after the
    // prompt in a whole decode, e.g. " saw" after "Tom went to the store and". False for a
    // chat answer, a message of its own (the engine sets it for requests with messages): the
    // decoder then drops the first piece's leading space, as at the start of a text.
    bool continues_prompt = true;
};

struct GenerateResult {
    std::vector<std::int32_t> tokens;  // generated ids, without the stopping EOS/BOS id
    std::string text;                  // decoded, without the stop string
    // "eos", "bos", "stop_string", "max_tokens", "context_full" (KV cache capacity reached),
    // "cancelled"
    std::string stop_reason;
    double prefill_ms = 0;
    double decode_ms = 0;
    double tokens_per_second = 0;  // decode steps per second (after the first token)
    int prompt_tokens = 0;
};

// Streamed text pieces; their concatenation equals GenerateResult::text.
using TokenCallback = std::function<void(std::string_view text_piece)>;

// Generates after `prompt` in a fresh cache (capacity prompt + max_tokens, bounded by the
// model's max positions).
GenerateResult generate(Model& model, const Tokenizer& tokenizer,
                        std::span<const std::int32_t> prompt, const GenerateOptions& options,
                        const TokenCallback& on_text = {});

// Continues in `cache`: `prompt` runs after the cache's contents. On return the cache holds
// the prompt and every generated token except the last one sampled.
GenerateResult generate(Model& model, const Tokenizer& tokenizer, KvCache& cache,
                        std::span<const std::int32_t> prompt, const GenerateOptions& options,
                        const TokenCallback& on_text = {});

}  // namespace meswitch
