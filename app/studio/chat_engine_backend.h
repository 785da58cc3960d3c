// The Chat page's ChatBackend: a thin client of the serving engine (meswitch::Engine). One
// engine owns the device, the resident base and the ExpertPool on its own thread, and decides
// everything about an answer: the route (expert "auto", on the last user message), the weights
// (the expert's newest compressed delta, its full weights when it has none, a MoE variant),
// the chat template (with the plain fallback, the oldest turns left out to fit the context).
// This class only picks the engine's base (the chosen model's base; for automatic routing the
// catalog's base), starts a new engine when the base or the device must change, and turns the
// engine's report into ChatRouting, naming models by their catalog records.
//
// submit() never waits for the engine: the Engine constructor returns at once (the base loads
// on the engine thread) and requests queue behind the load. Only replacing an engine (another
// base or device) waits, for the old one to free the device before the new one loads.
//
// Other clients of the same engine (the Studio's Local API server, ApiServerController) attach
// as the EngineClient: they are told when an engine has started and before one is destroyed, so
// that they never outlive it, and ensureEngine() starts one for them when the chat has none.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "chat_backend.h"
#include "meswitch/catalog.h"
#include "meswitch/engine.h"

namespace meswitch {
class CancelToken;
}

class EngineChatBackend : public ChatBackend {
public:
    // `threads`: CPU threads for the model and the router (<= 0: all cores).
    EngineChatBackend(std::filesystem::path catalogFile, int threads);
    // The engine cancels what is queued or running, frees the device and joins its thread.
    ~EngineChatBackend() override;

    ChatRequestId submit(const ChatRequest& request, ChatCallbacks callbacks) override;
    void cancel(ChatRequestId id) override;

    // submit() and wait for the outcome, for threads that may block (tools, tests; never the
    // GUI thread): returns the answer, throws meswitch::Error with the failure (ErrorKind::
    // cancelled when `cancel` was raised before anything was generated). `onRouted` and
    // `onText` run on the engine thread.
    ChatAnswer answer(const ChatRequest& request, const meswitch::CancelToken& cancel,
                      const std::function<void(const ChatRouting&)>& onRouted = {},
                      const meswitch::TokenCallback& onText = {});

    // Another client of this backend's engine, e.g. the Local API server. Called on the thread
    // that calls submit() and ensureEngine() (the GUI thread).
    class EngineClient {
    public:
        virtual ~EngineClient() = default;
        // A new engine runs (it may still be loading the base).
        virtual void engineStarted(meswitch::Engine& engine) = 0;
        // `engine` is destroyed when this returns (another base or device, or the backend goes):
        // stop using it.
        virtual void engineStopping(meswitch::Engine& engine) = 0;
        // The backend is being destroyed: forget it (after engineStopping when an engine ran).
        virtual void backendDestroyed() = 0;
    };
    // One client at most; null detaches it. The client detaches itself before it goes.
    void setEngineClient(EngineClient* client) { m_client = client; }

    // The engine running now, else (none yet, or the one there failed) a new one for the
    // catalog's base with `setup`'s device, routing threshold and expert budget (the
    // conversation is not used). Tells the client of an engine it starts.
    meswitch::Engine& ensureEngine(const ChatRequest& setup);
    meswitch::Engine* engine() const { return m_engine.get(); }
    // The catalog name of the base the engine serves; "" when unknown (the catalog's base of
    // a catalog with several).
    std::string engineBaseName();

private:
    struct Live;

    meswitch::Catalog& catalog();
    void prepareEngine(const std::filesystem::path& base, std::optional<std::int64_t> baseId,
                       const ChatRequest& request);

    std::filesystem::path m_catalogFile;
    int m_threads = 0;
    std::optional<meswitch::Catalog> m_catalog;  // opened on the submitting thread

    // The engine and what it was started with.
    std::unique_ptr<meswitch::Engine> m_engine;
    std::filesystem::path m_engineBase;          // "" = the catalog's base
    std::optional<std::int64_t> m_engineBaseId;  // the base it serves, when known
    // The base of an expert the router chose on an engine started for the catalog's base (set
    // on the engine thread; 0 while none was seen).
    std::shared_ptr<std::atomic<std::int64_t>> m_routedBaseId;
    std::string m_engineDevice;
    std::uint64_t m_engineBudget = 0;

    EngineClient* m_client = nullptr;
    ChatRequestId m_nextId = 0;
    std::map<ChatRequestId, std::shared_ptr<Live>> m_live;  // requests not known to be done
};
