// The sampling loop shared by generate() on a Model and the serving engine's batched steps.
#include "model/decode_loop.h"

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

DecodeSession::DecodeSession(const ModelConfig& config, const Tokenizer& tokenizer,
                             std::span<const std::int32_t> prompt, const GenerateOptions& options,
                             TokenCallback on_text, bool cancelled)
    : options_(options), on_text_(std::move(on_text)), tokenizer_(&tokenizer) {
    if (prompt.empty())
        throw Error(ErrorKind::invalid_argument, "generate: the prompt has no tokens");
    if (options.max_tokens < 0)
        throw Error(ErrorKind::invalid_argument, "generate: max_tokens must not be negative");
    result_.prompt_tokens = static_cast<int>(prompt.size());
    sampler_ = std::make_unique<Sampler>(options.sampling);  // validates before any work
    eos_.insert(config.eos_token_ids.begin(), config.eos_token_ids.end());
    if (auto id = tokenizer.eos_id()) eos_.insert(*id);
    eos_.insert(options.stop_ids.begin(), options.stop_ids.end());
    bos_ = config.bos_token_id;
    if (!bos_) bos_ = tokenizer.bos_id();
    history_.assign(prompt.begin(), prompt.end());
    // The prompt is context: the first generated word keeps the space a whole decode gives it.
    decoder_ = options.continues_prompt
                   ? std::make_unique<Tokenizer::StreamDecoder>(tokenizer, prompt)
                   : std::make_unique<Tokenizer::StreamDecoder>(tokenizer);
    filter_ = std::make_unique<StopStringFilter>(options.stop_strings);
    if (cancelled) {
        result_.stop_reason = "cancelled";
        finished_ = true;
    } else if (options.max_tokens == 0) {
        result_.stop_reason = "max_tokens";
        finished_ = true;
    }
}

DecodeSession::~DecodeSession() = default;
DecodeSession::DecodeSession(DecodeSession&&) noexcept = default;
DecodeSession& DecodeSession::operator=(DecodeSession&&) noexcept = default;

void DecodeSession::emit(const std::string& text) {
    if (text.empty()) return;
    result_.text += text;
    if (on_text_) on_text_(text);
}

void DecodeSession::finish(const std::string& reason, bool flush) {
    result_.stop_reason = reason;
    if (flush && !filter_->stopped()) {
        emit(filter_->push(decoder_->flush()));
        if (filter_->stopped())
            result_.stop_reason = "stop_string";
        else
            emit(filter_->finish());
    }
    if (started_) {
        result_.decode_ms = ms_since(decode_start_);
        if (fed_ > 0 && result_.decode_ms > 0)
            result_.tokens_per_second = fed_ / (result_.decode_ms / 1000.0);
    }
    finished_ = true;
}

void DecodeSession::stop(const std::string& reason) {
    if (!finished_) finish(reason, started_);
}

std::optional<std::int32_t> DecodeSession::step(std::span<float> logits, bool cancelled,
                                                bool cache_full) {
    if (finished_) return std::nullopt;
    if (!started_) {
        started_ = true;
        decode_start_ = clock_type::now();
    }
    if (cancelled) {
        finish("cancelled", true);
        return std::nullopt;
    }
    const std::int32_t next = sampler_->sample(logits, history_);
    if (options_.stop_on_eos && eos_.count(next)) {
        finish("eos", true);
        return std::nullopt;
    }
    if (options_.stop_on_bos && bos_ && next == *bos_) {
        finish("bos", true);
        return std::nullopt;
    }
    result_.tokens.push_back(next);
    history_.push_back(next);
    emit(filter_->push(decoder_->push(next)));
    if (filter_->stopped()) {
        finish("stop_string", false);
        return std::nullopt;
    }
    if (static_cast<int>(result_.tokens.size()) >= options_.max_tokens) {
        finish("max_tokens", true);
        return std::nullopt;
    }
    if (cache_full) {
        finish("context_full", true);
        return std::nullopt;
    }
    ++fed_;
    return next;
}

GenerateResult run_decode_loop(const ModelConfig& config, const Tokenizer& tokenizer,
                               std::span<const std::int32_t> prompt, const GenerateOptions& options,
                               const TokenCallback& on_text, const ForwardFn& forward,
                               const std::function<bool()>& cache_full) {
    auto cancelled = [&] { return options.cancel && options.cancel->cancelled(); };
    DecodeSession session(config, tokenizer, prompt, options, on_text, cancelled());
    if (session.finished()) return session.take_result();
    const auto prefill_start = clock_type::now();
    std::vector<float> logits = forward(prompt);
    session.set_prefill_ms(ms_since(prefill_start));
    while (auto next = session.step(logits, cancelled(), cache_full())) {
        const std::int32_t one[1] = {*next};
        logits = forward(one);
    }
    return session.take_result();
}

}  // namespace meswitch::model
