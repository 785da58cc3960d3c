#include "chat_local_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "meswitch/error.h"
#include "meswitch/progress.h"

using meswitch::Error;
using meswitch::ErrorKind;
using meswitch::ModelRecord;
using meswitch::ModelRole;

LocalChatBackend::LocalChatBackend(std::filesystem::path catalogFile, int threads)
    : m_catalogFile(std::move(catalogFile)), m_threads(threads) {}

LocalChatBackend::~LocalChatBackend() {
    m_delta.reset();  // restores the base before the model goes
}

meswitch::Catalog& LocalChatBackend::catalog() {
    // Opened on the worker thread: a Catalog is used by one thread at a time, and the page keeps
    // its own connection on the GUI thread (SQLite WAL lets both read and write).
    if (!m_catalog) m_catalog.emplace(m_catalogFile);
    return *m_catalog;
}

std::string LocalChatBackend::catalogSignature() {
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

meswitch::Router* LocalChatBackend::router(std::string* error) {
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

ChatRouting LocalChatBackend::choose(const ChatRequest& request) {
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
    routing.weights = makeResident(*model);
    return routing;
}

std::string LocalChatBackend::makeResident(const ModelRecord& model) {
    auto& cat = catalog();
    std::string folder = model.path, artifact, baseHash, description = "base weights";
    if (model.role == ModelRole::expert) {
        std::optional<ModelRecord> base;
        if (model.base_model_id) base = cat.model(*model.base_model_id);
        if (!base)
            throw Error(ErrorKind::not_found,
                        "the base of expert '" + model.name + "' is no longer in the catalog");
        const auto artifacts = cat.delta_artifacts(model.id);
        if (!artifacts.empty()) {
            const auto& a = artifacts.back();  // the newest
            folder = base->path;
            artifact = a.path;
            baseHash = base->content_hash;
            description = std::to_string(a.bits) + "-bit " + a.method + " delta on " + base->name;
        } else {
            description = "full weights (not compressed)";
        }
    }
    if (folder != m_loadedFolder || !m_model) {
        m_delta.reset();
        m_model.reset();
        m_tokenizer.reset();
        m_loadedFolder.clear();
        m_appliedArtifact.clear();
        m_model = std::make_unique<meswitch::Model>(
            meswitch::Model::load(folder, meswitch::ModelOptions{m_threads}));
        m_tokenizer.emplace(meswitch::Tokenizer::from_folder(folder));
        m_loadedFolder = folder;
        spdlog::info("chat: loaded {}", folder);
    }
    if (artifact != m_appliedArtifact) {
        m_delta.reset();  // back to the base weights
        m_appliedArtifact.clear();
        if (!artifact.empty()) {
            m_delta = std::make_unique<meswitch::AppliedDelta>(*m_model, artifact, baseHash,
                                                               meswitch::DeltaMode::separate);
            m_appliedArtifact = artifact;
            spdlog::info("chat: applied {}", artifact);
        }
    }
    return description;
}

std::vector<std::int32_t> LocalChatBackend::encodeConversation(const ChatRequest& request,
                                                               meswitch::GenerateOptions& options,
                                                               std::string& note) const {
    const auto& tok = *m_tokenizer;
    const std::int64_t context = m_model->config().max_position_embeddings;
    const std::int64_t room = std::clamp<std::int64_t>(options.max_tokens, 1, 64);
    std::vector<meswitch::ChatMessage> messages = request.conversation;
    meswitch::ChatTemplateContext tctx;
    tctx.bos_token = tok.bos_token();
    tctx.eos_token = tok.eos_token();
    tctx.add_generation_prompt = true;
    bool dropped = false;
    for (;;) {
        const meswitch::RenderedChat r = meswitch::render_chat(tok.chat_template(), messages, tctx);
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

ChatAnswer LocalChatBackend::answer(const ChatRequest& request, const meswitch::CancelToken& cancel,
                                    const std::function<void(const ChatRouting&)>& onRouted,
                                    const meswitch::TokenCallback& onText) {
    cancel.throw_if_cancelled("the chat answer");
    ChatAnswer out;
    out.routing = choose(request);
    cancel.throw_if_cancelled("the chat answer");
    meswitch::GenerateOptions options = request.options;
    options.cancel = &cancel;
    const auto ids = encodeConversation(request, options, out.routing.note);
    if (onRouted) onRouted(out.routing);
    out.result = meswitch::generate(*m_model, *m_tokenizer, ids, options, onText);
    return out;
}
