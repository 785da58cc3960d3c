// The Chat page's ChatBackend over the serving engine (meswitch::Engine): one engine thread
// owns the device, the resident base and the ExpertPool, and every answer runs there. Compressed
// experts are loaded into the pool (their newest delta) and switched in place in milliseconds;
// the pool keeps as many resident as the memory budget allows (least recently used evicted).
// An expert that is not compressed yet is served from its own full weights, which replaces the
// engine (a reload). The router (opened on first use, reopened when the catalog's models,
// artifacts or domains change) and the chat template run on the calling (worker) thread;
// streamed text is passed on from the engine thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "chat_backend.h"
#include "meswitch/catalog.h"
#include "meswitch/engine.h"
#include "meswitch/model.h"
#include "meswitch/router.h"
#include "meswitch/tokenizer.h"

class EngineChatBackend : public ChatBackend {
public:
    // `threads`: CPU threads for the model and the router (<= 0: all cores).
    EngineChatBackend(std::filesystem::path catalogFile, int threads);
    ~EngineChatBackend() override;

    ChatAnswer answer(const ChatRequest& request, const meswitch::CancelToken& cancel,
                      const std::function<void(const ChatRouting&)>& onRouted,
                      const meswitch::TokenCallback& onText) override;

private:
    // What the engine must hold to answer with a catalog model.
    struct Target {
        std::filesystem::path folder;  // the engine's base folder
        std::string baseHash;          // its content hash (as the deltas record it)
        std::string expert;            // the pool's expert name ("" = the base alone)
        std::string artifact;          // the expert's delta file
        std::string description;       // ChatRouting::weights
    };

    meswitch::Catalog& catalog();
    ChatRouting choose(const ChatRequest& request, Target& target);
    meswitch::Router* router(std::string* error);
    std::string catalogSignature();
    Target targetFor(const meswitch::ModelRecord& model);
    void prepareEngine(const Target& target, const ChatRequest& request);
    void prepareExpert(const Target& target);
    // Submits with `submit(callbacks)` and waits for the outcome, cancelling the request when
    // `cancel` is raised meanwhile.
    meswitch::RequestOutcome runOnEngine(
        const std::function<meswitch::RequestId(meswitch::RequestCallbacks)>& submit,
        const meswitch::CancelToken* cancel, const meswitch::TokenCallback& onText = {});
    std::vector<std::int32_t> encodeConversation(const ChatRequest& request,
                                                 meswitch::GenerateOptions& options,
                                                 std::string& note) const;

    std::filesystem::path m_catalogFile;
    int m_threads = 0;
    std::optional<meswitch::Catalog> m_catalog;
    std::optional<meswitch::Router> m_router;
    std::string m_routerSignature;
    std::string m_routerError;

    // The engine and what it was started with.
    std::unique_ptr<meswitch::Engine> m_engine;
    std::filesystem::path m_engineFolder;
    std::string m_engineHash;
    std::string m_engineDevice;
    std::uint64_t m_engineBudget = 0;
    std::optional<meswitch::Tokenizer> m_tokenizer;
    meswitch::ModelConfig m_config;
    std::map<std::string, std::string> m_loaded;  // pool expert name -> delta file
};
