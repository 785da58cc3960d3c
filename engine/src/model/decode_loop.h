// The generation loop itself, independent of where the forward pass runs: batched prefill,
// then sample → stream → feed one token at a time until EOS (or BOS with stop_on_bos), a stop
// string, max_tokens, cancellation or a full cache. meswitch::generate runs it on a Model;
// the serving engine drives one DecodeSession per sequence, one step at a time, for many
// sequences in one batch.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "meswitch/generate.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"

namespace meswitch::model {

class StopStringFilter;

// One sequence's sampling, streaming and stop rules, fed the logits of one step at a time.
//
//   DecodeSession s(config, tok, prompt, options, on_text);
//   if (!s.finished()) {
//       logits = forward(prompt);
//       while (auto next = s.step(logits, cancelled(), cache_full())) logits = forward({*next});
//   }
//   GenerateResult r = s.take_result();
class DecodeSession {
public:
    // Errors: Error(invalid_argument) for an empty prompt or a negative max_tokens, and the
    // sampler's for bad sampling options. Finished at once (before any forward pass) when
    // `cancelled` or max_tokens is 0.
    DecodeSession(const ModelConfig& config, const Tokenizer& tokenizer,
                  std::span<const std::int32_t> prompt, const GenerateOptions& options,
                  TokenCallback on_text, bool cancelled = false);
    ~DecodeSession();
    DecodeSession(DecodeSession&&) noexcept;
    DecodeSession& operator=(DecodeSession&&) noexcept;

    bool finished() const { return finished_; }
    // Given the logits after the prompt (the first call) or after the last token returned:
    // samples, streams the text and applies the stop rules. Returns the token to run next, or
    // nothing when the sequence has finished (result's stop_reason says why).
    std::optional<std::int32_t> step(std::span<float> logits, bool cancelled, bool cache_full);
    // Ends the sequence now with `reason` (e.g. "cancelled"), flushing held-back text.
    void stop(const std::string& reason);
    // Time of the prefill, measured by the caller (GenerateResult::prefill_ms).
    void set_prefill_ms(double ms) { result_.prefill_ms = ms; }
    int generated() const { return static_cast<int>(result_.tokens.size()); }
    const GenerateResult& result() const { return result_; }
    GenerateResult take_result() { return std::move(result_); }

private:
    void emit(const std::string& text);
    void finish(const std::string& reason, bool flush);

    GenerateOptions options_;
    TokenCallback on_text_;
    const Tokenizer* tokenizer_;
    std::unique_ptr<Sampler> sampler_;
    std::unordered_set<std::int32_t> eos_;
    std::optional<std::int32_t> bos_;
    std::vector<std::int32_t> history_;
    std::unique_ptr<Tokenizer::StreamDecoder> decoder_;
    std::unique_ptr<StopStringFilter> filter_;
    GenerateResult result_;
    bool finished_ = false;
    bool started_ = false;
    int fed_ = 0;  // tokens returned by step() to run (decode steps)
    std::chrono::steady_clock::time_point decode_start_{};
};

// Runs `tokens` after what the cache holds and returns the last position's logits.
using ForwardFn = std::function<std::vector<float>(std::span<const std::int32_t> tokens)>;

// The whole loop on one sequence. `cache_full` says whether the cache has no room for one
// more token.
GenerateResult run_decode_loop(const ModelConfig& config, const Tokenizer& tokenizer,
                               std::span<const std::int32_t> prompt, const GenerateOptions& options,
                               const TokenCallback& on_text, const ForwardFn& forward,
                               const std::function<bool()>& cache_full);

}  // namespace meswitch::model
