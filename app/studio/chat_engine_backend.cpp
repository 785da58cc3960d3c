#include "chat_engine_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "meswitch/error.h"
#include "meswitch/progress.h"

using meswitch::Error;
using meswitch::ErrorKind;
using meswitch::ModelRecord;
using meswitch::ModelRole;
using meswitch::RequestCallbacks;
using meswitch::RequestId;
using meswitch::RequestOutcome;

EngineChatBackend::EngineChatBackend(std::filesystem::path catalogFile, int threads)
    : m_catalogFile(std::move(catalogFile)), m_threads(threads) {}

// The engine cancels what is queued, restores the base and frees the device before its thread
// joins.
EngineChatBackend::~EngineChatBackend() = default;

meswitch::Catalog& EngineChatBackend::catalog() {
    // Opened on the worker thread: a Catalog is used by one thread at a time, and the page keeps
    // its own connection on the GUI thread (SQLite WAL lets both read and write).
    if (!m_catalog) m_catalog.emplace(m_catalogFile);
    return *m_catalog;
}

std::string EngineChatBackend::catalogSignature() {
    auto& cat = catalog();
    std::string sig;
    for (const auto& m : cat.list_models())
        sig += std::to_string(m.id) + ':' + m.content_hash + ':' +
               std::to_string(m.base_model_id.value_or(0)) + ';';
    sig += '|';
    for (const auto& a : cat.delta_artifacts()) sig += std::to_string(a.id) + ';';
    sig += '|';
    for (const auto& d : cat.list_domains()) {
        sig += d.name + ':' + std::to_string(d.examples.size()) + ';';
        for (const auto& e : cat.experts_for_domain(d.id)) sig += std::to_string(e.id) + ',';
    }
    return sig;
}

meswitch::Router* EngineChatBackend::router(std::string* error) {
    const std::string sig = catalogSignature();
    if (sig != m_routerSignature) {
        m_router.reset();
        m_routerError.clear();
        m_routerSignature = sig;
        try {
            meswitch::RouterOptions ro;
            ro.threads = m_threads;
            m_router.emplace(meswitch::Router::open(catalog(), ro));
            spdlog::info("chat: {} router over {} domains of base {}", m_router->info().router,
                         m_router->info().domains.size(), m_router->info().base_name);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::not_found) {
                m_routerSignature.clear();  // try again next time (e.g. a file was busy)
                throw;
            }
            m_routerError = e.what();
            spdlog::info("chat: routing unavailable: {}", m_routerError);
        }
    }
    if (!m_router && error) *error = m_routerError;
    return m_router ? &*m_router : nullptr;
}

ChatRouting EngineChatBackend::choose(const ChatRequest& request, Target& target) {
    auto& cat = catalog();
    ChatRouting routing;
    std::optional<ModelRecord> model;
    if (request.expertId) {
        model = cat.model(*request.expertId);
        if (!model)
            throw Error(ErrorKind::not_found, "the chosen model (catalog id " +
                                                  std::to_string(*request.expertId) +
                                                  ") is no longer in the catalog");
    } else {
        routing.automatic = true;
        std::string prompt;
        for (auto it = request.conversation.rbegin(); it != request.conversation.rend(); ++it)
            if (it->role == "user") {
                prompt = it->content;
                break;
            }
        std::string error;
        if (meswitch::Router* r = router(&error)) {
            r->set_threshold(request.routingThreshold);
            const meswitch::RouteResult route = r->route(prompt);
            routing.confidence = route.confidence;
            routing.domain = route.domain;
            if (route.expert_id) {
                model = cat.model(*route.expert_id);
            } else {
                routing.baseReason = route.reason;
                model = cat.find_model(r->info().base_name);
            }
            if (!model)
                throw Error(ErrorKind::not_found,
                            "the model the router chose left the catalog; try again");
        } else {
            for (auto& m : cat.list_models())
                if (m.role == ModelRole::base) {
                    model = std::move(m);
                    break;
                }
            if (!model)
                throw Error(ErrorKind::not_found,
                            "the catalog has no base model to answer with; import a base model "
                            "(and experts) on the Library page");
            routing.baseReason = "routing unavailable: " + error;
        }
    }
    routing.modelId = model->id;
    routing.modelName = model->name;
    if (model->role == ModelRole::expert) routing.expertId = model->id;
    target = targetFor(*model);
    routing.weights = target.description;
    return routing;
}

EngineChatBackend::Target EngineChatBackend::targetFor(const ModelRecord& model) {
    auto& cat = catalog();
    Target t;
    t.folder = model.path;
    t.baseHash = model.content_hash;
    t.description = "base weights";
    if (model.role != ModelRole::expert) return t;
    std::optional<ModelRecord> base;
    if (model.base_model_id) base = cat.model(*model.base_model_id);
    if (!base)
        throw Error(ErrorKind::not_found,
                    "the base of expert '" + model.name + "' is no longer in the catalog");
    const auto artifacts = cat.delta_artifacts(model.id);
    if (artifacts.empty()) {
        // Served from its own weights: the engine reloads with them as its base.
        t.description = "full weights (not compressed: switching to it reloads the model)";
        return t;
    }
    const auto& a = artifacts.back();  // the newest
    t.folder = base->path;
    t.baseHash = base->content_hash;
    t.expert = model.name;
    t.artifact = a.path;
    t.description = std::to_string(a.bits) + "-bit " + a.method + " delta on " + base->name;
    return t;
}

RequestOutcome EngineChatBackend::runOnEngine(
    const std::function<RequestId(RequestCallbacks)>& submit, const meswitch::CancelToken* cancel,
    const meswitch::TokenCallback& onText) {
    struct Pending {
        std::mutex mutex;
        std::condition_variable done;
        bool finished = false;
        RequestOutcome outcome;
    };
    auto pending = std::make_shared<Pending>();
    RequestCallbacks callbacks;
    // `onText` outlives the request: this function waits for on_finished below.
    if (onText) callbacks.on_text = [&onText](std::string_view piece) { onText(piece); };
    callbacks.on_finished = [pending](const RequestOutcome& outcome) {
        std::lock_guard lock(pending->mutex);
        pending->outcome = outcome;
        pending->finished = true;
        pending->done.notify_all();
    };
    const RequestId id = submit(std::move(callbacks));
    bool cancelSent = false;
    std::unique_lock lock(pending->mutex);
    while (!pending->finished) {
        if (!cancelSent && cancel && cancel->cancelled()) {
            m_engine->cancel(id);  // takes the engine's lock, never this one
            cancelSent = true;
        }
        pending->done.wait_for(lock, std::chrono::milliseconds(20));
    }
    return std::move(pending->outcome);
}

void EngineChatBackend::prepareEngine(const Target& target, const ChatRequest& request) {
    if (m_engine && (m_engineFolder != target.folder || m_engineHash != target.baseHash ||
                     m_engineDevice != request.device ||
                     (request.expertBudgetBytes == 0 && m_engineBudget != 0))) {
        // One owner of the device: the old engine frees it before the new one loads.
        m_engine.reset();
        m_loaded.clear();
    }
    if (!m_engine) {
        meswitch::EngineOptions options;
        options.base = target.folder;
        options.device = request.device;
        options.threads = m_threads;
        options.delta_budget_bytes = request.expertBudgetBytes;
        options.base_hash = target.baseHash;
        auto engine = std::make_unique<meswitch::Engine>(options);
        try {
            engine->wait_ready();  // throws the load error; the failed engine goes
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::device) throw;
            throw Error(ErrorKind::device, std::string("the compute device chosen in Settings "
                                                       "cannot be used (") +
                                               e.what() + "); choose Automatic or CPU there");
        }
        m_tokenizer.emplace(meswitch::Tokenizer::from_folder(target.folder));
        m_config = meswitch::parse_model_config(target.folder / "config.json");
        m_engine = std::move(engine);
        m_engineFolder = target.folder;
        m_engineHash = target.baseHash;
        m_engineDevice = request.device;
        m_engineBudget = request.expertBudgetBytes;
        const meswitch::PoolStatus s = m_engine->status();
        spdlog::info("chat: engine on {} with {} ({} MiB for resident experts)", s.device,
                     target.folder.string(), s.budget_bytes >> 20);
    } else if (m_engineBudget != request.expertBudgetBytes) {
        const RequestOutcome o = runOnEngine(
            [&](RequestCallbacks cb) {
                return m_engine->set_budget(request.expertBudgetBytes, std::move(cb));
            },
            nullptr);
        if (!o.ok) throw Error(o.error_kind, o.error);
        m_engineBudget = request.expertBudgetBytes;
    }
}

void EngineChatBackend::prepareExpert(const Target& target) {
    auto unload = [&](const std::string& name) {
        const RequestOutcome o = runOnEngine(
            [&](RequestCallbacks cb) { return m_engine->unload_expert(name, std::move(cb)); },
            nullptr);
        if (!o.ok) throw Error(o.error_kind, o.error);
        m_loaded.erase(name);
    };
    // Experts removed from the catalog leave the pool.
    std::vector<std::string> gone;
    for (const auto& [name, file] : m_loaded)
        if (!catalog().find_model(name)) gone.push_back(name);
    for (const auto& name : gone) unload(name);
    if (target.expert.empty()) return;
    const auto loaded = m_loaded.find(target.expert);
    if (loaded != m_loaded.end()) {
        if (loaded->second == target.artifact) return;
        unload(target.expert);  // a newer compression replaces it
    }
    const RequestOutcome o = runOnEngine(
        [&](RequestCallbacks cb) {
            return m_engine->load_expert(target.expert, target.artifact, std::move(cb));
        },
        nullptr);
    if (!o.ok) throw Error(o.error_kind, o.error);
    m_loaded[target.expert] = target.artifact;
}

std::vector<std::int32_t> EngineChatBackend::encodeConversation(const ChatRequest& request,
                                                                meswitch::GenerateOptions& options,
                                                                std::string& note) const {
    const auto& tok = *m_tokenizer;
    const std::int64_t context = m_config.max_position_embeddings;
    const std::int64_t room = std::clamp<std::int64_t>(options.max_tokens, 1, 64);
    std::vector<meswitch::ChatMessage> messages = request.conversation;
    meswitch::ChatTemplateContext tctx;
    tctx.bos_token = tok.bos_token();
    tctx.eos_token = tok.eos_token();
    tctx.add_generation_prompt = true;
    bool dropped = false;
    for (;;) {
        const meswitch::RenderedChat r =
            meswitch::render_chat(tok.chat_template(), messages, tctx, tok.chat_template_origin());
        // Like transformers' apply_chat_template: a template writes the special tokens itself.
        auto ids = tok.encode(r.text, r.used_fallback);
        if (static_cast<std::int64_t>(ids.size()) + room <= context) {
            if (r.used_fallback) {
                note = "plain chat format (" + r.fallback_reason + ")";
                options.stop_strings.push_back("\nUser:");
            }
            if (dropped)
                note += (note.empty() ? "" : "; ") +
                        std::string("the oldest messages were left out to fit the context");
            return ids;
        }
        // Leave out the oldest turn (keeping the system prompt and the newest message).
        auto first = std::find_if(messages.begin(), messages.end(),
                                  [](const auto& m) { return m.role != "system"; });
        if (std::distance(first, messages.end()) <= 1)
            throw Error(ErrorKind::invalid_argument,
                        "the message is " + std::to_string(ids.size()) +
                            " tokens long; with the answer it does not fit the model's context "
                            "of " +
                            std::to_string(context) + " tokens");
        first = messages.erase(first);
        // Start with a user turn: drop an assistant turn left at the front.
        if (first != messages.end() && first->role == "assistant" &&
            std::distance(first, messages.end()) > 1)
            messages.erase(first);
        dropped = true;
    }
}

ChatAnswer EngineChatBackend::answer(const ChatRequest& request,
                                     const meswitch::CancelToken& cancel,
                                     const std::function<void(const ChatRouting&)>& onRouted,
                                     const meswitch::TokenCallback& onText) {
    cancel.throw_if_cancelled("the chat answer");
    ChatAnswer out;
    Target target;
    out.routing = choose(request, target);
    cancel.throw_if_cancelled("the chat answer");
    prepareEngine(target, request);
    cancel.throw_if_cancelled("the chat answer");
    prepareExpert(target);
    out.routing.weights += " on " + m_engine->status().device;

    meswitch::GenerateRequest g;
    g.options = request.options;
    g.prompt_ids = encodeConversation(request, g.options, out.routing.note);
    g.expert = target.expert;
    g.mode = meswitch::DeltaMode::merged;  // in place: decoding runs at the base's speed
    if (onRouted) onRouted(out.routing);
    const RequestOutcome o = runOnEngine(
        [&](RequestCallbacks cb) { return m_engine->generate(g, std::move(cb)); }, &cancel, onText);
    if (o.cancelled && o.generation.stop_reason != "cancelled")
        throw Error(ErrorKind::cancelled, "the chat answer was cancelled before it started");
    if (!o.ok && !o.cancelled) throw Error(o.error_kind, o.error);
    if (!target.expert.empty())
        spdlog::info(
            "chat: {} {} in {:.2f} ms{}", o.uploaded ? "uploaded and switched to" : "switched to",
            target.expert, o.switch_ms,
            o.evicted.empty() ? std::string() : ", evicting " + std::to_string(o.evicted.size()));
    out.result = o.generation;
    return out;
}
