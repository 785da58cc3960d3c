// A ChatBackend on the CPU: its own Catalog connection (one per thread), the router (opened on
// first use, reopened when the catalog's models, artifacts or domains change), and one resident
// answering model — the base with an expert's newest compressed delta applied (separate
// computation, switched by replacing the delta), or an uncompressed expert's own weights.
// Everything runs on the calling (worker) thread.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "chat_backend.h"
#include "meswitch/catalog.h"
#include "meswitch/compress.h"
#include "meswitch/model.h"
#include "meswitch/router.h"
#include "meswitch/tokenizer.h"

class LocalChatBackend : public ChatBackend {
public:
    // `threads`: CPU threads for the model (<= 0: all cores).
    LocalChatBackend(std::filesystem::path catalogFile, int threads);
    ~LocalChatBackend() override;

    ChatAnswer answer(const ChatRequest& request, const meswitch::CancelToken& cancel,
                      const std::function<void(const ChatRouting&)>& onRouted,
                      const meswitch::TokenCallback& onText) override;

private:
    meswitch::Catalog& catalog();
    ChatRouting choose(const ChatRequest& request);
    meswitch::Router* router(std::string* error);
    std::string catalogSignature();
    // Makes `model` (a catalog base or expert) the resident one; returns a description.
    std::string makeResident(const meswitch::ModelRecord& model);
    std::vector<std::int32_t> encodeConversation(const ChatRequest& request,
                                                 meswitch::GenerateOptions& options,
                                                 std::string& note) const;

    std::filesystem::path m_catalogFile;
    int m_threads = 0;
    std::optional<meswitch::Catalog> m_catalog;
    std::optional<meswitch::Router> m_router;
    std::string m_routerSignature;
    std::string m_routerError;

    // The resident model: the folder it was loaded from, the delta applied to it (if any).
    std::string m_loadedFolder;
    std::string m_appliedArtifact;
    std::string m_residentDescription;
    std::unique_ptr<meswitch::Model> m_model;
    std::unique_ptr<meswitch::AppliedDelta> m_delta;
    std::optional<meswitch::Tokenizer> m_tokenizer;
};
