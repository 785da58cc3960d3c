#include "chat_engine_backend.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "meswitch/error.h"
#include "meswitch/progress.h"

using meswitch::Error;
using meswitch::ErrorKind;
using meswitch::ModelRecord;
using meswitch::ModelRole;

namespace {

using Models = std::vector<ModelRecord>;

const ModelRecord* findId(const Models& models, std::int64_t id) {
    for (const auto& m : models)
        if (m.id == id) return &m;
    return nullptr;
}

const ModelRecord* findName(const Models& models, const std::string& name) {
    for (const auto& m : models)
        if (m.name == name) return &m;
    return nullptr;
}

// The catalog's base when it has exactly one (then "the catalog's base" is that one).
std::optional<std::int64_t> onlyBase(const Models& models) {
    std::optional<std::int64_t> id;
    for (const auto& m : models) {
        if (m.role != ModelRole::base) continue;
        if (id) return std::nullopt;
        id = m.id;
    }
    return id;
}

void nameModel(ChatRouting& routing, const ModelRecord& m) {
    routing.modelId = m.id;
    routing.modelName = m.name;
    routing.expertId.reset();
    if (m.role == ModelRole::expert) routing.expertId = m.id;
}

}  // namespace

// One request, shared by the submitting thread (cancel) and the engine's callbacks.
struct EngineChatBackend::Live {
    meswitch::Engine* engine = nullptr;  // the engine that runs it
    meswitch::RequestId engineId = 0;    // set once generate() returned
    std::atomic<bool> done{false};

    // Written before the request is queued, then used on the engine thread only.
    ChatCallbacks callbacks;
    std::shared_ptr<const Models> models;  // the catalog's models when it was submitted
    std::optional<std::int64_t> baseId;    // the base the engine serves, when known
    std::shared_ptr<std::atomic<std::int64_t>> routedBaseId;
    ChatRouting routing;  // the chosen model; for "auto" filled from the route
    bool routed = false;

    // The base's record for an answer of the base alone ("" names when unknown).
    void nameBase(ChatRouting& r) const {
        std::optional<std::int64_t> id = baseId;
        if (!id && routedBaseId && routedBaseId->load() > 0) id = routedBaseId->load();
        const ModelRecord* base = id ? findId(*models, *id) : nullptr;
        if (base) {
            nameModel(r, *base);
        } else {
            r.modelId.reset();
            r.modelName.clear();
            r.expertId.reset();
        }
    }

    // The model the engine reports ("" = its base).
    void nameAnswering(ChatRouting& r, const std::string& model) const {
        if (model.empty()) {
            nameBase(r);
        } else if (const ModelRecord* m = findName(*models, model)) {
            nameModel(r, *m);
        } else {
            // Not a catalog model (a MoE variant): named as the engine names it.
            r.modelId.reset();
            r.expertId.reset();
            r.modelName = model;
        }
    }

    void onRoute(const meswitch::RouteResult& route) {
        routing.confidence = route.confidence;
        routing.domain = route.domain;
        routing.baseReason = route.reason;
        nameAnswering(routing, route.expert_name);
        if (!route.expert_name.empty() && routedBaseId && !baseId)
            if (const ModelRecord* m = findName(*models, route.expert_name); m && m->base_model_id)
                routedBaseId->store(*m->base_model_id);
    }

    void ensureRouted() {
        if (routed) return;
        routed = true;
        if (callbacks.onRouted) callbacks.onRouted(routing);
    }
};

EngineChatBackend::EngineChatBackend(std::filesystem::path catalogFile, int threads)
    : m_catalogFile(std::move(catalogFile)), m_threads(threads) {}

EngineChatBackend::~EngineChatBackend() {
    if (m_engine) {
        if (m_client) m_client->engineStopping(*m_engine);
        m_engine->cancel_all();
    }
    m_engine.reset();  // joins the engine thread: no callback runs after this
    if (m_client) m_client->backendDestroyed();
}

meswitch::Catalog& EngineChatBackend::catalog() {
    // A Catalog is used by one thread at a time: this one belongs to the submitting thread.
    if (!m_catalog) m_catalog.emplace(m_catalogFile);
    return *m_catalog;
}

void EngineChatBackend::prepareEngine(const std::filesystem::path& base,
                                      std::optional<std::int64_t> baseId,
                                      const ChatRequest& request) {
    if (m_engine) {
        std::optional<std::int64_t> serving = m_engineBaseId;
        if (!serving && m_routedBaseId && m_routedBaseId->load() > 0)
            serving = m_routedBaseId->load();
        const bool sameBase = baseId && serving ? *baseId == *serving : base == m_engineBase;
        const bool failed = m_engine->state().rfind("failed", 0) == 0;
        if (!sameBase || failed || m_engineDevice != request.device) {
            // One owner of the device: the old engine frees it before the new one loads.
            const auto start = std::chrono::steady_clock::now();
            if (m_client) m_client->engineStopping(*m_engine);
            m_engine->cancel_all();
            m_engine.reset();
            spdlog::info("chat: engine stopped in {} ms to start another (base {}, device {})",
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count(),
                         base.empty() ? std::string("of the catalog") : base.string(),
                         request.device);
        }
    }
    if (!m_engine) {
        meswitch::EngineOptions options;
        options.base = base;  // empty: the catalog's base
        options.device = request.device;
        options.threads = m_threads;
        options.delta_budget_bytes = request.expertBudgetBytes;
        options.catalog = m_catalogFile;
        options.router.threads = m_threads;
        options.router.threshold = request.routingThreshold;
        m_engine = std::make_unique<meswitch::Engine>(options);  // loads on its own thread
        m_engineBase = base;
        m_engineBaseId = baseId;
        m_routedBaseId = std::make_shared<std::atomic<std::int64_t>>(0);
        m_engineDevice = request.device;
        m_engineBudget = request.expertBudgetBytes;
        spdlog::info("chat: engine started for {} on device '{}'",
                     base.empty() ? std::string("the catalog's base") : base.string(),
                     request.device);
        if (m_client) m_client->engineStarted(*m_engine);
    } else if (m_engineBudget != request.expertBudgetBytes) {
        meswitch::RequestCallbacks cb;
        const std::uint64_t bytes = request.expertBudgetBytes;
        cb.on_finished = [bytes](const meswitch::RequestOutcome& o) {
            if (!o.ok && !o.cancelled)
                spdlog::warn("chat: the expert memory budget of {} MiB was not applied: {}",
                             bytes >> 20, o.error);
        };
        m_engine->set_budget(bytes, std::move(cb));  // runs before the request queued next
        m_engineBudget = bytes;
    }
}

meswitch::Engine& EngineChatBackend::ensureEngine(const ChatRequest& setup) {
    if (m_engine && m_engine->state().rfind("failed", 0) != 0) return *m_engine;
    const Models models = catalog().list_models();
    prepareEngine({}, onlyBase(models), setup);
    return *m_engine;
}

std::string EngineChatBackend::engineBaseName() {
    std::optional<std::int64_t> id = m_engineBaseId;
    if (!id && m_routedBaseId && m_routedBaseId->load() > 0) id = m_routedBaseId->load();
    if (!id) return {};
    const auto model = catalog().model(*id);
    return model ? model->name : std::string();
}

ChatRequestId EngineChatBackend::submit(const ChatRequest& request, ChatCallbacks callbacks) {
    // Forget requests that have finished.
    for (auto it = m_live.begin(); it != m_live.end();)
        it = it->second->done ? m_live.erase(it) : std::next(it);

    auto models = std::make_shared<const Models>(catalog().list_models());
    auto live = std::make_shared<Live>();
    live->models = models;
    meswitch::GenerateRequest g;
    g.messages = request.conversation;
    g.options = request.options;
    g.options.cancel = nullptr;
    g.use_model_defaults = request.useModelDefaults;
    g.mode = meswitch::DeltaMode::merged;  // in place while the batch wants one expert
    std::filesystem::path base;            // the engine's base ("" = the catalog's)
    std::optional<std::int64_t> baseId;
    if (request.expertId) {
        const ModelRecord* model = findId(*models, *request.expertId);
        if (!model)
            throw Error(ErrorKind::not_found,
                        "the chosen model (catalog id " + std::to_string(*request.expertId) +
                            ") is no longer in the catalog; choose another one above");
        const ModelRecord* b = model;
        if (model->role == ModelRole::expert) {
            b = model->base_model_id ? findId(*models, *model->base_model_id) : nullptr;
            if (!b)
                throw Error(ErrorKind::not_found,
                            "the base of expert '" + model->name + "' is no longer in the catalog");
            g.expert = model->name;
        }
        base = b->path;
        baseId = b->id;
        nameModel(live->routing, *model);
    } else {
        g.expert = "auto";
        g.routing_threshold = request.routingThreshold;
        live->routing.automatic = true;
        baseId = onlyBase(*models);
    }
    prepareEngine(base, baseId, request);
    live->engine = m_engine.get();
    live->baseId = m_engineBaseId;
    live->routedBaseId = m_routedBaseId;
    live->callbacks = std::move(callbacks);

    meswitch::RequestCallbacks cb;
    cb.on_route = [live](const meswitch::RouteResult& route) {
        live->onRoute(route);
        live->ensureRouted();
    };
    cb.on_text = [live](std::string_view piece) {
        live->ensureRouted();
        if (live->callbacks.onText) live->callbacks.onText(piece);
    };
    cb.on_finished = [live](const meswitch::RequestOutcome& o) {
        const ChatCallbacks& out = live->callbacks;
        const bool stopped = o.cancelled && o.generation.stop_reason == "cancelled";
        if (!o.ok && !stopped) {
            live->done = true;
            if (o.cancelled) {
                if (out.onFailed)
                    out.onFailed(ErrorKind::cancelled,
                                 "the answer was cancelled before it started");
                return;
            }
            std::string message = o.error;
            if (o.error_kind == ErrorKind::device)
                message = "the compute device chosen in Settings cannot be used (" + o.error +
                          "); choose Automatic or CPU there";
            spdlog::warn("chat: {}", message);
            if (out.onFailed) out.onFailed(o.error_kind, message);
            return;
        }
        if (o.route && !live->routed) live->onRoute(*o.route);
        live->ensureRouted();
        ChatAnswer answer;
        answer.routing = live->routing;
        live->nameAnswering(answer.routing, o.model);
        answer.routing.weights = o.weights;
        // The engine is running (its callback is running): its status is a snapshot.
        if (!o.cancelled && live->engine) {
            const std::string device = live->engine->status().device;
            if (!device.empty())
                answer.routing.weights += (o.weights.empty() ? "" : " on ") + device;
        }
        answer.routing.note = o.note;
        answer.routing.modelDefaults = o.model_defaults;
        answer.result = o.generation;
        spdlog::info("chat: {} answered ({}{}{}), {} tokens, {} reused",
                     o.model.empty() ? std::string("the base") : o.model, answer.routing.weights,
                     o.note.empty() ? "" : "; ", o.note, o.generation.tokens.size(),
                     o.reused_tokens);
        live->done = true;
        if (out.onFinished) out.onFinished(answer);
    };
    const ChatRequestId id = ++m_nextId;
    live->engineId = m_engine->generate(g, std::move(cb));
    m_live.emplace(id, std::move(live));
    return id;
}

void EngineChatBackend::cancel(ChatRequestId id) {
    const auto it = m_live.find(id);
    if (it == m_live.end() || it->second->done) return;
    // A request of an engine that was replaced was cancelled with it.
    if (it->second->engine == m_engine.get() && m_engine) m_engine->cancel(it->second->engineId);
}

ChatAnswer EngineChatBackend::answer(const ChatRequest& request,
                                     const meswitch::CancelToken& cancelToken,
                                     const std::function<void(const ChatRouting&)>& onRouted,
                                     const meswitch::TokenCallback& onText) {
    cancelToken.throw_if_cancelled("the chat answer");
    struct Pending {
        std::mutex mutex;
        std::condition_variable done;
        bool finished = false;
        std::optional<ChatAnswer> answer;
        ErrorKind kind = ErrorKind::io;
        std::string error;
    };
    auto pending = std::make_shared<Pending>();
    ChatCallbacks callbacks;
    // `onRouted` and `onText` outlive the request: this function waits for it below.
    callbacks.onRouted = [&onRouted](const ChatRouting& r) {
        if (onRouted) onRouted(r);
    };
    callbacks.onText = [&onText](std::string_view piece) {
        if (onText) onText(piece);
    };
    callbacks.onFinished = [pending](const ChatAnswer& a) {
        std::lock_guard lock(pending->mutex);
        pending->answer = a;
        pending->finished = true;
        pending->done.notify_all();
    };
    callbacks.onFailed = [pending](ErrorKind kind, const std::string& message) {
        std::lock_guard lock(pending->mutex);
        pending->kind = kind;
        pending->error = message;
        pending->finished = true;
        pending->done.notify_all();
    };
    const ChatRequestId id = submit(request, std::move(callbacks));
    bool cancelSent = false;
    std::unique_lock lock(pending->mutex);
    while (!pending->finished) {
        if (!cancelSent && cancelToken.cancelled()) {
            cancel(id);  // takes the engine's lock, never this one
            cancelSent = true;
        }
        pending->done.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (pending->answer) return std::move(*pending->answer);
    throw Error(pending->kind, pending->error);
}
