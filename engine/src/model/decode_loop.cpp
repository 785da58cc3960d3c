// The sampling loop shared by generate() on a Model and the serving engine's backends.
#include "model/decode_loop.h"

#include <chrono>
#include <unordered_set>

#include "meswitch/error.h"
#include "meswitch/progress.h"
#include "model/stop_strings.h"

namespace meswitch::model {

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

}  // namespace

GenerateResult run_decode_loop(const ModelConfig& config, const Tokenizer& tokenizer,
                               std::span<const std::int32_t> prompt, const GenerateOptions& options,
                               const TokenCallback& on_text, const ForwardFn& forward,
                               const std::function<bool()>& cache_full) {
    if (prompt.empty())
        throw Error(ErrorKind::invalid_argument, "generate: the prompt has no tokens");
    if (options.max_tokens < 0)
        throw Error(ErrorKind::invalid_argument, "generate: max_tokens must not be negative");
    GenerateResult result;
    result.prompt_tokens = static_cast<int>(prompt.size());
    Sampler sampler(options.sampling);  // validates the options before any work

    std::unordered_set<std::int32_t> eos(config.eos_token_ids.begin(), config.eos_token_ids.end());
    if (auto id = tokenizer.eos_id()) eos.insert(*id);
    std::optional<std::int32_t> bos = config.bos_token_id;
    if (!bos) bos = tokenizer.bos_id();

    auto cancelled = [&] { return options.cancel && options.cancel->cancelled(); };
    if (cancelled()) {
        result.stop_reason = "cancelled";
        return result;
    }
    if (options.max_tokens == 0) {
        result.stop_reason = "max_tokens";
        return result;
    }

    const auto prefill_start = clock_type::now();
    std::vector<float> logits = forward(prompt);
    result.prefill_ms = ms_since(prefill_start);

    const auto decode_start = clock_type::now();
    int decode_steps = 0;
    std::vector<std::int32_t> history(prompt.begin(), prompt.end());
    Tokenizer::StreamDecoder decoder(tokenizer);
    model::StopStringFilter filter(options.stop_strings);
    auto emit = [&](const std::string& text) {
        if (text.empty()) return;
        result.text += text;
        if (on_text) on_text(text);
    };

    for (;;) {
        if (cancelled()) {
            result.stop_reason = "cancelled";
            break;
        }
        const std::int32_t next = sampler.sample(logits, history);
        if (options.stop_on_eos && eos.count(next)) {
            result.stop_reason = "eos";
            break;
        }
        if (options.stop_on_bos && bos && next == *bos) {
            result.stop_reason = "bos";
            break;
        }
        result.tokens.push_back(next);
        history.push_back(next);
        emit(filter.push(decoder.push(next)));
        if (filter.stopped()) {
            result.stop_reason = "stop_string";
            break;
        }
        if (static_cast<int>(result.tokens.size()) >= options.max_tokens) {
            result.stop_reason = "max_tokens";
            break;
        }
        if (cache_full()) {
            result.stop_reason = "context_full";
            break;
        }
        const std::int32_t one[1] = {next};
        logits = forward(one);
        ++decode_steps;
    }
    if (!filter.stopped()) {
        emit(filter.push(decoder.flush()));
        if (filter.stopped())
            result.stop_reason = "stop_string";
        else
            emit(filter.finish());
    }
    result.decode_ms = ms_since(decode_start);
    if (decode_steps > 0 && result.decode_ms > 0)
        result.tokens_per_second = decode_steps / (result.decode_ms / 1000.0);
    return result;
}

}  // namespace meswitch::model
