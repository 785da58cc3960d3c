// Token sampling with Hugging Face logits-processor semantics.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "meswitch/error.h"
#include "meswitch/generate.h"

namespace meswitch {

namespace {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

std::int32_t argmax(std::span<const float> v) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[best]) best = i;
    return static_cast<std::int32_t>(best);
}

// Softmax in double (-inf → 0).
std::vector<double> softmax(std::span<const float> logits) {
    const float max = *std::max_element(logits.begin(), logits.end());
    std::vector<double> p(logits.size());
    double sum = 0.0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
        p[i] = logits[i] == neg_inf ? 0.0 : std::exp(static_cast<double>(logits[i]) - max);
        sum += p[i];
    }
    for (double& x : p) x /= sum;
    return p;
}

void validate(const SamplingOptions& o) {
    auto bad = [](const std::string& what) {
        throw Error(ErrorKind::invalid_argument, "sampling options: " + what);
    };
    if (!(o.temperature >= 0) || !std::isfinite(o.temperature)) bad("temperature must be >= 0");
    if (o.top_k < 0) bad("top_k must be >= 0");
    if (!(o.top_p > 0 && o.top_p <= 1)) bad("top_p must be in (0, 1]");
    if (!(o.min_p >= 0 && o.min_p <= 1)) bad("min_p must be in [0, 1]");
    if (!(o.repetition_penalty > 0) || !std::isfinite(o.repetition_penalty))
        bad("repetition_penalty must be > 0");
}

}  // namespace

void apply_repetition_penalty(std::span<float> logits, std::span<const std::int32_t> previous,
                              float penalty) {
    if (penalty == 1.0f) return;
    std::unordered_set<std::int32_t> seen;
    for (std::int32_t id : previous) {
        if (id < 0 || static_cast<std::size_t>(id) >= logits.size() || !seen.insert(id).second)
            continue;
        float& l = logits[static_cast<std::size_t>(id)];
        l = l < 0 ? l * penalty : l / penalty;
    }
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {
    validate(options_);
}

std::vector<float> Sampler::probabilities(std::span<float> logits,
                                          std::span<const std::int32_t> previous) const {
    if (logits.empty()) throw Error(ErrorKind::invalid_argument, "sampler: empty logits");
    const SamplingOptions& o = options_;
    apply_repetition_penalty(logits, previous, o.repetition_penalty);
    std::vector<float> probs(logits.size(), 0.0f);
    if (o.temperature == 0.0f) {
        probs[static_cast<std::size_t>(argmax(logits))] = 1.0f;
        return probs;
    }
    for (float& l : logits) l /= o.temperature;

    if (o.top_k > 0 && static_cast<std::size_t>(o.top_k) < logits.size()) {
        std::vector<float> sorted(logits.begin(), logits.end());
        std::nth_element(sorted.begin(), sorted.begin() + (o.top_k - 1), sorted.end(),
                         std::greater<float>());
        const float kth = sorted[static_cast<std::size_t>(o.top_k - 1)];
        for (float& l : logits)
            if (l < kth) l = neg_inf;
    }
    if (o.top_p < 1.0f) {
        const std::vector<double> p = softmax(logits);
        std::vector<std::size_t> order(logits.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return logits[a] < logits[b]; });
        double cumulative = 0.0;
        for (std::size_t r = 0; r + 1 < order.size(); ++r) {  // the most likely always stays
            cumulative += p[order[r]];
            if (cumulative <= 1.0 - o.top_p) logits[order[r]] = neg_inf;
        }
    }
    if (o.min_p > 0.0f) {
        const std::vector<double> p = softmax(logits);
        const double threshold = o.min_p * *std::max_element(p.begin(), p.end());
        for (std::size_t i = 0; i < p.size(); ++i)
            if (p[i] < threshold) logits[i] = neg_inf;
    }
    const std::vector<double> p = softmax(logits);
    for (std::size_t i = 0; i < p.size(); ++i) probs[i] = static_cast<float>(p[i]);
    return probs;
}

std::int32_t Sampler::sample(std::span<float> logits, std::span<const std::int32_t> previous) {
    if (logits.empty()) throw Error(ErrorKind::invalid_argument, "sampler: empty logits");
    if (options_.temperature == 0.0f) {
        apply_repetition_penalty(logits, previous, options_.repetition_penalty);
        return argmax(logits);
    }
    const std::vector<float> probs = probabilities(logits, previous);
    // 53 random bits → uniform double in [0, 1), identical on every standard library.
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    double cumulative = 0.0;
    std::int32_t last_nonzero = 0;
    for (std::size_t i = 0; i < probs.size(); ++i) {
        if (probs[i] <= 0.0f) continue;
        last_nonzero = static_cast<std::int32_t>(i);
        cumulative += probs[i];
        if (u < cumulative) return last_nonzero;
    }
    return last_nonzero;  // rounding left u above the total
}

}  // namespace meswitch
