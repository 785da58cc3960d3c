// Automatic routing: pick the expert for a prompt by classifying its domain.
//
// Two routers share one result type:
//  - the feature router: features are the BASE model's hidden states for the prompt (mean
//    over the prompt tokens and the last token, of a few layers), classified by a
//    multinomial logistic regression (L2, standardised features) trained on the catalog's
//    domain example prompts, with its confidence calibrated by temperature scaling fitted
//    on cross-validated held-out logits. It is stored in the catalog's router_models table
//    with a version and a fingerprint (base model hash, layers, pooling, domains, example
//    hash) and retrained when the fingerprint no longer matches.
//  - the zero-shot router: a multiple-choice prompt to the base model listing the domains
//    with their descriptions; the option labels' probabilities at the answer position,
//    normalised over the options (and divided by the same probabilities for a content-free
//    text, "contextual calibration"). Used when any routable domain has no examples (then
//    for all domains, so that the confidences are comparable) or when asked.
//
//   Router router = Router::open(catalog);            // loads the base, trains if needed
//   RouteResult r = router.route("Q: 23+58=? A:");    // r.expert_name, r.confidence, ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/catalog.h"

namespace meswitch {
class Model;
}

namespace meswitch {

struct RouterOptions {
    std::optional<std::string> base;  // catalog name of the base; default: see Router::open
    double threshold = 0.5;           // below this confidence the base model answers
    bool zero_shot = false;           // force the zero-shot router
    bool retrain = false;             // retrain the feature router even when the stored one matches
    // Feature layers: indices into the hidden states (0 … num_hidden_layers, the last one
    // being the final-norm output). Empty: the default (the middle layer and the final norm,
    // chosen by measurement on stories260K, see router/README.md).
    std::vector<int> layers;
    // Pooling of each layer's states: "mean" (prompt tokens, BOS excluded) and/or "last".
    // Empty: both.
    std::vector<std::string> pooling;
    int threads = 0;  // model threads (<= 0: all cores)
    // The base already loaded (e.g. the serving engine's): read instead of loading a second
    // copy. Not owned; it must outlive the router and hold the base's own weights (no delta
    // merged) whenever the router runs. Only lend it for the base the router chooses.
    Model* model = nullptr;
};

struct RouteAlternative {
    std::string domain;
    double confidence = 0;
};

struct RouteResult {
    std::optional<std::int64_t> expert_id;       // empty: the base model answers
    std::string expert_name;                     // "" when the base answers
    std::string domain;                          // the most likely domain ("" for an empty prompt)
    double confidence = 0;                       // of `domain`, in [0, 1]
    std::vector<RouteAlternative> alternatives;  // the other domains, most likely first
    std::string router;      // "feature", "zero-shot", "single-domain" or "none" (empty prompt)
    std::string reason;      // "" when routed; "below threshold", "empty prompt"
    int prompt_tokens = 0;   // tokens the model saw (after truncation)
    bool truncated = false;  // the prompt was longer than the context: its last tokens kept
    double features_ms = 0;  // tokenize + base prefill (+ pooling)
    double classify_ms = 0;  // standardise + logits + softmax (zero-shot: option scoring)
    double total_ms = 0;
};

// What Router::open found or did, for messages and the CLI's JSON.
struct RouterInfo {
    std::string base_name;
    std::string base_hash;
    std::vector<std::string> domains;  // routable domains, in classifier order
    std::string router;                // "feature", "zero-shot" or "single-domain"
    std::string why;                   // why that router (e.g. "domain 'x' has no examples")
    std::int64_t version = 0;          // router_models version (feature router), else 0
    bool trained = false;              // trained during open()
    double train_ms = 0;
    double temperature = 1;            // fitted calibration temperature
    std::vector<int> layers;           // feature layers
    std::vector<std::string> pooling;  // "mean", "last"
    std::string note;                  // e.g. "stored router v3 unreadable (...); retrained"
};

// The base Router::open chooses without RouterOptions::base: the base model with the most
// experts linked to domains (ties: the lowest id); empty when the catalog has no base.
// `linked` (optional) gets that count.
std::optional<ModelRecord> default_base(const Catalog& catalog, std::size_t* linked = nullptr);

class Router {
public:
    // Chooses the base (options.base, else the base model with the most experts linked to
    // domains; ties: the lowest id), collects the domains its experts are linked to, loads
    // the base model and the feature router from the catalog — training and storing a new
    // version when none matches the fingerprint, when the stored blob is unreadable, or
    // when options.retrain is set. Errors (Error(not_found)) say how to import a base and
    // experts with domains when the catalog has none.
    static Router open(Catalog& catalog, const RouterOptions& options = {});

    ~Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;

    const RouterInfo& info() const;
    void set_threshold(double threshold);

    // Never throws for any prompt text: an empty (or all-whitespace) prompt goes to the base
    // with reason "empty prompt"; a prompt longer than the model's context keeps its last
    // tokens (the question usually ends a prompt) and says truncated.
    RouteResult route(std::string_view prompt);
    // The domain distribution alone (classifier order, sums to 1), for tests and tools.
    std::vector<double> domain_probabilities(std::string_view prompt);

private:
    struct Impl;
    explicit Router(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------- evaluation

struct LabeledPrompt {
    std::string domain;
    std::string prompt;
};

// Lines "domain<TAB>prompt" (blank lines skipped). Errors name the file and line.
std::vector<LabeledPrompt> read_routing_tsv(const std::filesystem::path& file);

struct DomainScore {
    double precision = 0;
    double recall = 0;
    int support = 0;  // true examples of the domain
};

struct RoutingEvaluation {
    int total = 0;
    int correct = 0;
    double accuracy = 0;
    int below_threshold = 0;  // prompts that would go to the base
    std::vector<std::pair<std::string, DomainScore>> per_domain;  // true and predicted names
    // confusion[true][pred] = n, names sorted
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, int>>>> confusion;
    double mean_confidence = 0;  // of the predicted domain
    double mean_latency_ms = 0;
    double mean_features_ms = 0;
    double mean_classify_ms = 0;
    std::string router;
};

// Routes every prompt and scores the predicted domain against the label (the threshold
// only changes below_threshold, not the accuracy).
RoutingEvaluation evaluate_routing(Router& router, const std::vector<LabeledPrompt>& prompts);

}  // namespace meswitch
