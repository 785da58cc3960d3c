#include "router/zero_shot.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "meswitch/error.h"
#include "router/classifier.h"
#include "router/features.h"

namespace meswitch::router {

namespace {

std::vector<double> log_softmax(const std::vector<float>& logits) {
    double top = -INFINITY;
    for (float v : logits) top = std::max(top, static_cast<double>(v));
    double sum = 0;
    for (float v : logits) sum += std::exp(v - top);
    const double lse = top + std::log(sum);
    std::vector<double> out(logits.size());
    for (std::size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - lse;
    return out;
}

}  // namespace

ZeroShot::ZeroShot(Model& model, const Tokenizer& tokenizer, std::vector<ZeroShotDomain> domains,
                   bool contextual_calibration)
    : model_(&model), tokenizer_(&tokenizer), domains_(std::move(domains)) {
    if (domains_.empty())
        throw Error(ErrorKind::invalid_argument, "zero-shot router: no domains to choose from");
    const bool letters = domains_.size() <= 26;
    for (std::size_t i = 0; i < domains_.size(); ++i)
        labels_.push_back(letters ? std::string(1, static_cast<char>('A' + i))
                                  : std::to_string(i + 1));
    if (contextual_calibration) prior_ = raw("N/A").probabilities;
}

std::string ZeroShot::option_prompt(std::string_view text) const {
    std::string s = "Which topic fits the text?\n";
    for (std::size_t i = 0; i < domains_.size(); ++i) {
        s += labels_[i] + ". " + domains_[i].name;
        if (!domains_[i].description.empty()) s += ": " + domains_[i].description;
        s += "\n";
    }
    s += "Text: ";
    s.append(text);
    s += "\nAnswer:";
    return s;
}

ZeroShot::Result ZeroShot::raw(std::string_view prompt) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    auto ms = [](Clock::time_point a, Clock::time_point b) {
        return std::chrono::duration<double, std::milli>(b - a).count();
    };
    Result res;
    const std::int64_t context = model_context(model_->config());
    // Fit the prompt into the context: keep its last tokens (the question usually ends it).
    std::string text(prompt);
    {
        const std::size_t overhead =
            tokenizer_->encode(option_prompt("") + " " + labels_.back(), true).size();
        const auto text_ids = tokenizer_->encode(text, false);
        const std::int64_t room = context - static_cast<std::int64_t>(overhead) - 4;
        if (static_cast<std::int64_t>(text_ids.size()) > std::max<std::int64_t>(room, 0)) {
            res.truncated = true;
            const std::size_t keep = static_cast<std::size_t>(std::max<std::int64_t>(room, 0));
            text = tokenizer_->decode(std::span(text_ids).last(keep), true);
        }
    }
    const std::string base = option_prompt(text);
    std::vector<std::vector<std::int32_t>> full;
    for (const auto& label : labels_) full.push_back(tokenizer_->encode(base + " " + label, true));
    std::size_t common = full[0].size();
    for (const auto& f : full) {
        std::size_t n = 0;
        while (n < common && n < f.size() && f[n] == full[0][n]) ++n;
        common = n;
    }
    common = std::min(common, full[0].size() - 1);  // at least one option token to score
    std::size_t longest = 0;
    for (const auto& f : full) longest = std::max(longest, f.size());
    if (static_cast<std::int64_t>(longest) > context || common == 0) {
        // Only a pathological tokenizer/context gets here: no information, uniform answer.
        res.probabilities.assign(domains_.size(), 1.0 / static_cast<double>(domains_.size()));
        res.tokens =
            static_cast<int>(std::min<std::size_t>(longest, static_cast<std::size_t>(context)));
        return res;
    }
    res.tokens = static_cast<int>(longest);
    KvCache cache = model_->make_cache(static_cast<std::int64_t>(longest));
    const auto prefix_logits = model_->forward(std::span(full[0]).first(common), cache);
    const auto prefix_lp = log_softmax(prefix_logits);
    const auto t1 = Clock::now();
    res.prefill_ms = ms(t0, t1);
    std::vector<double> scores;
    for (const auto& f : full) {
        double lp = 0;
        std::vector<double> next = prefix_lp;
        for (std::size_t t = common; t < f.size(); ++t) {
            const auto id = static_cast<std::size_t>(f[t]);
            lp += id < next.size() ? next[id] : -1e9;
            if (t + 1 < f.size())
                next = log_softmax(model_->forward(std::span(f).subspan(t, 1), cache));
        }
        cache.truncate(static_cast<std::int64_t>(common));
        scores.push_back(lp);
    }
    res.probabilities = softmax(scores);
    res.scoring_ms = ms(t1, Clock::now());
    return res;
}

ZeroShot::Result ZeroShot::classify(std::string_view prompt) {
    Result r = raw(prompt);
    if (prior_.empty()) return r;
    const auto t0 = std::chrono::steady_clock::now();
    double sum = 0;
    for (std::size_t i = 0; i < r.probabilities.size(); ++i)
        sum += r.probabilities[i] /= std::max(prior_[i], 1e-12);
    if (sum > 0 && std::isfinite(sum))
        for (double& p : r.probabilities) p /= sum;
    r.scoring_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace meswitch::router
