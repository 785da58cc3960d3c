// Router::open (base and domain discovery, router choice, load-or-train) and Router::route.
#include "meswitch/router.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>

#include "meswitch/error.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"
#include "router/classifier.h"
#include "router/features.h"
#include "router/router_store.h"
#include "router/zero_shot.h"

namespace meswitch {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

constexpr int spec_format = 1;
constexpr const char* classifier_name = "logistic-l2";
const router::ClassifierOptions classifier_options{};

std::string how_to_import(const Catalog& catalog) {
    return "import a base and its experts with domains, e.g.\n"
           "  meswitch import PATH/TO/BASE --name base\n"
           "  meswitch import PATH/TO/EXPERT --base base --domain math --description \"...\" "
           "--examples math.txt\n"
           "(catalog: " +
           catalog.path().string() + ")";
}

bool blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    });
}

}  // namespace

struct Router::Impl {
    Catalog* catalog = nullptr;
    RouterOptions options;
    RouterInfo info;
    ModelRecord base;
    std::vector<DomainRecord> domains;       // classifier order (by name)
    std::vector<ModelRecord> domain_expert;  // chosen expert per domain
    std::optional<Model> own_model;          // loaded here unless options.model lends one
    Model* model = nullptr;
    std::optional<Tokenizer> tokenizer;
    router::FeatureSpec spec;
    router::Classifier classifier;
    std::optional<router::ZeroShot> zero_shot;

    nlohmann::json fingerprint() const {
        nlohmann::json names = nlohmann::json::array();
        for (const auto& d : domains) names.push_back(d.name);
        return {{"format", spec_format},
                {"router", "feature"},
                {"classifier", classifier_name},
                {"l2", classifier_options.l2},
                {"layers", spec.layers},
                {"pooling", spec.pooling()},
                {"base_model", base.name},
                {"base_model_hash", base.content_hash},
                {"domains", names},
                {"example_hash", router::examples_fingerprint(domains)}};
    }

    static bool same_fingerprint(const nlohmann::json& want, const std::string& stored_text) {
        const auto stored = nlohmann::json::parse(stored_text, nullptr, false);
        if (stored.is_discarded() || !stored.is_object()) return false;
        for (const char* key : {"format", "router", "classifier", "l2", "layers", "pooling",
                                "base_model_hash", "domains", "example_hash"})
            if (!stored.contains(key) || stored[key] != want[key]) return false;
        return true;
    }

    void train_and_store() {
        const auto t0 = Clock::now();
        std::vector<std::vector<float>> features;
        std::vector<int> labels;
        std::size_t examples = 0;
        for (std::size_t c = 0; c < domains.size(); ++c)
            for (const auto& e : domains[c].examples) {
                if (blank(e)) continue;
                features.push_back(router::extract_features(*model, *tokenizer, e, spec).values);
                labels.push_back(static_cast<int>(c));
                ++examples;
            }
        classifier = router::Classifier::train(features, labels, static_cast<int>(domains.size()),
                                               classifier_options);
        info.train_ms = ms_since(t0);
        nlohmann::json fp = fingerprint();
        fp["examples"] = examples;
        fp["temperature"] = classifier.temperature();
        fp["train_ms"] = info.train_ms;
        info.version = router::store_router(
            *catalog, fp.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
            classifier.serialize());
        info.trained = true;
        spdlog::info("router: trained v{} on {} examples of {} domains in {:.0f} ms (T={:.3f})",
                     info.version, examples, domains.size(), info.train_ms,
                     classifier.temperature());
    }

    void open_feature_router() {
        spec.layers = options.layers.empty() ? router::default_feature_layers(model->config())
                                             : options.layers;
        if (!options.pooling.empty()) {
            spec.mean = spec.last = false;
            for (const auto& p : options.pooling) {
                if (p == "mean")
                    spec.mean = true;
                else if (p == "last")
                    spec.last = true;
                else
                    throw Error(ErrorKind::invalid_argument,
                                "router: unknown pooling '" + p + "' (use mean, last)");
            }
        }
        router::check_feature_spec(spec, model->config());
        info.layers = spec.layers;
        info.pooling = spec.pooling();
        const nlohmann::json want = fingerprint();
        if (!options.retrain) {
            const auto stored = router::find_stored_router(
                *catalog, [&](const std::string& text) { return same_fingerprint(want, text); });
            if (stored) {
                try {
                    classifier = router::Classifier::deserialize(stored->blob);
                    if (classifier.classes() != static_cast<int>(domains.size()))
                        throw Error(
                            ErrorKind::format,
                            "router classifier blob: " + std::to_string(classifier.classes()) +
                                " classes, the spec lists " + std::to_string(domains.size()));
                    info.version = stored->version;
                    info.temperature = classifier.temperature();
                    return;
                } catch (const Error& e) {
                    info.note = "stored router v" + std::to_string(stored->version) +
                                " is unreadable (" + e.what() + "); retrained";
                    spdlog::warn("router: {}", info.note);
                }
            }
        }
        train_and_store();
        info.temperature = classifier.temperature();
    }

    std::vector<double> probabilities(std::string_view prompt, RouteResult& r) {
        if (info.router == "single-domain") {
            const auto t0 = Clock::now();
            const auto ids =
                router::prompt_ids(*tokenizer, prompt, router::model_context(model->config()));
            r.prompt_tokens = static_cast<int>(ids.ids.size());
            r.truncated = ids.truncated;
            r.features_ms = ms_since(t0);
            return {1.0};
        }
        if (info.router == "zero-shot") {
            const auto z = zero_shot->classify(prompt);
            r.features_ms = z.prefill_ms;  // the shared option prompt's prefill
            r.classify_ms = z.scoring_ms;  // the label tokens' forward steps + normalisation
            r.prompt_tokens = z.tokens;
            r.truncated = z.truncated;
            return z.probabilities;
        }
        const auto t0 = Clock::now();
        const auto f = router::extract_features(*model, *tokenizer, prompt, spec);
        r.features_ms = ms_since(t0);
        r.prompt_tokens = f.tokens;
        r.truncated = f.truncated;
        const auto t1 = Clock::now();
        auto p = classifier.probabilities(f.values);
        r.classify_ms = ms_since(t1);
        return p;
    }
};

Router::Router(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

const RouterInfo& Router::info() const {
    return impl_->info;
}
void Router::set_threshold(double threshold) {
    impl_->options.threshold = threshold;
}

namespace {

std::size_t linked_experts(const Catalog& catalog, std::int64_t base_id) {
    std::size_t linked = 0;
    for (const auto& e : catalog.experts_of(base_id))
        if (!catalog.domains_of(e.id).empty()) ++linked;
    return linked;
}

}  // namespace

std::optional<ModelRecord> default_base(const Catalog& catalog, std::size_t* linked) {
    std::optional<ModelRecord> best;
    std::size_t best_count = 0;
    for (auto& m : catalog.list_models()) {
        if (m.role != ModelRole::base) continue;
        const std::size_t n = linked_experts(catalog, m.id);
        if (!best || n > best_count) best = std::move(m), best_count = n;
    }
    if (linked) *linked = best_count;
    return best;
}

Router Router::open(Catalog& catalog, const RouterOptions& options) {
    auto impl = std::make_unique<Impl>();
    impl->catalog = &catalog;
    impl->options = options;

    // The base: named, or the one with the most experts linked to domains (ties: lowest id).
    std::size_t best_count = 0;
    std::optional<ModelRecord> base;
    if (options.base) {
        base = catalog.find_model(*options.base);
        if (base && base->role != ModelRole::base) base.reset();
        if (base) best_count = linked_experts(catalog, base->id);
    } else {
        base = default_base(catalog, &best_count);
        if (!base)
            throw Error(ErrorKind::not_found,
                        "routing needs a base model with experts linked to "
                        "domains, and the catalog has no base model; " +
                            how_to_import(catalog));
    }
    if (!base)
        throw Error(ErrorKind::not_found, "routing: there is no base model named '" +
                                              *options.base +
                                              "' in the catalog (see: meswitch list)");
    if (best_count == 0)
        throw Error(ErrorKind::not_found, "routing: base model '" + base->name +
                                              "' has no experts linked to domains; " +
                                              how_to_import(catalog));
    impl->base = *base;
    impl->info.base_name = base->name;
    impl->info.base_hash = base->content_hash;

    // Routable domains (linked to an expert of this base), by name; one expert per domain:
    // one with a compressed delta artifact first, then the most recently imported (highest id).
    std::map<std::string, std::pair<DomainRecord, std::vector<ModelRecord>>> by_domain;
    for (const auto& e : catalog.experts_of(base->id))
        for (auto& d : catalog.domains_of(e.id)) {
            auto& slot = by_domain[d.name];
            slot.first = d;
            slot.second.push_back(e);
        }
    for (auto& [name, entry] : by_domain) {
        auto& experts = entry.second;
        auto has_artifact = [&](const ModelRecord& m) {
            return !catalog.delta_artifacts(m.id).empty();
        };
        const auto chosen = std::max_element(
            experts.begin(), experts.end(), [&](const ModelRecord& a, const ModelRecord& b) {
                const bool aa = has_artifact(a), ba = has_artifact(b);
                if (aa != ba) return !aa;
                return a.id < b.id;
            });
        // Examples come from the full record (domains_of may not carry them).
        auto full = catalog.find_domain(name);
        impl->domains.push_back(full ? *full : entry.first);
        impl->domain_expert.push_back(*chosen);
        impl->info.domains.push_back(name);
    }

    if (options.model) {
        impl->model = options.model;
    } else {
        impl->own_model.emplace(Model::load(base->path, ModelOptions{options.threads}));
        impl->model = &*impl->own_model;
    }
    impl->tokenizer.emplace(Tokenizer::from_folder(base->path));

    std::string missing;
    for (const auto& d : impl->domains) {
        const bool any = std::any_of(d.examples.begin(), d.examples.end(),
                                     [](const std::string& e) { return !blank(e); });
        if (!any) missing += (missing.empty() ? "'" : ", '") + d.name + "'";
    }
    if (impl->domains.size() == 1) {
        impl->info.router = "single-domain";
        impl->info.why = "only one domain ('" + impl->domains[0].name + "') has experts";
    } else if (options.zero_shot || !missing.empty()) {
        impl->info.router = "zero-shot";
        impl->info.why = options.zero_shot
                             ? "zero-shot router requested"
                             : "domain " + missing +
                                   " has no example prompts, so every domain is scored zero-shot";
        std::vector<router::ZeroShotDomain> zs;
        for (const auto& d : impl->domains) zs.push_back({d.name, d.description});
        impl->zero_shot.emplace(*impl->model, *impl->tokenizer, std::move(zs));
    } else {
        impl->info.router = "feature";
        impl->info.why = "every domain has example prompts";
        impl->open_feature_router();
    }
    return Router(std::move(impl));
}

std::vector<double> Router::domain_probabilities(std::string_view prompt) {
    RouteResult scratch;
    return impl_->probabilities(prompt, scratch);
}

RouteResult Router::route(std::string_view prompt) {
    const auto t0 = Clock::now();
    RouteResult r;
    if (blank(prompt)) {
        r.router = "none";
        r.reason = "empty prompt";
        r.total_ms = ms_since(t0);
        return r;
    }
    r.router = impl_->info.router;
    const auto p = impl_->probabilities(prompt, r);
    std::vector<std::size_t> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
    const std::size_t top = order[0];
    r.domain = impl_->domains[top].name;
    r.confidence = p[top];
    for (std::size_t k = 1; k < order.size(); ++k)
        r.alternatives.push_back({impl_->domains[order[k]].name, p[order[k]]});
    if (r.confidence < impl_->options.threshold) {
        r.reason = "below threshold";
    } else {
        r.expert_id = impl_->domain_expert[top].id;
        r.expert_name = impl_->domain_expert[top].name;
    }
    r.total_ms = ms_since(t0);
    return r;
}

}  // namespace meswitch
