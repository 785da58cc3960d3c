// The seam between the Chat page and the serving engine: a request (a conversation, the model
// chosen or automatic routing, sampling) goes in, a streamed answer comes out, asynchronously.
// submit() returns at once; the callbacks run later on another thread (the engine's), one at
// a time and in order: onRouted once before the first piece of text, onText for every piece,
// then exactly one of onFinished and onFailed. The page posts them to the GUI thread. The
// app's backend is EngineChatBackend (meswitch::Engine); tests may put their own in. Qt-free.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/chat_template.h"
#include "meswitch/error.h"
#include "meswitch/generate.h"

struct ChatRequest {
    std::vector<meswitch::ChatMessage> conversation;  // system (optional), then user/assistant
    std::optional<std::int64_t> expertId;  // a catalog model id (base or expert); empty: route
    double routingThreshold = 0.5;         // automatic routing: below it the base answers
    std::string device = "auto";           // "auto", "cpu" or "cuda" (meswitch::EngineOptions)
    std::uint64_t expertBudgetBytes = 0;   // device memory for resident experts (0: automatic)
    meswitch::GenerateOptions options;     // options.cancel is ignored: use ChatBackend::cancel
    // The answering model's generation_config defaults replace options' sampling and token
    // limit where the model states them (the Chat page's "Model defaults").
    bool useModelDefaults = false;
};

// Who answers and why, known before the first token.
struct ChatRouting {
    std::optional<std::int64_t> modelId;   // the catalog model that answers (base or expert)
    std::string modelName;                 // "" when the engine did not say which base it is
    std::optional<std::int64_t> expertId;  // set when an expert answers (null: the base)
    bool automatic = false;                // chosen by the router
    std::optional<double> confidence;      // router confidence of the best domain
    std::string domain;                    // the router's best domain
    std::string baseReason;  // why the base answers although routing was asked ("below threshold")
    std::string weights;     // at the end: "2-bit meswitch delta, separate on CPU (3 threads)"
    std::string note;        // at the end: e.g. the chat template fallback, left-out turns
    std::string modelDefaults;  // at the end: the model's sampling defaults, when applied
};

struct ChatAnswer {
    ChatRouting routing;
    meswitch::GenerateResult result;  // stop_reason "cancelled" after ChatBackend::cancel
};

struct ChatCallbacks {
    std::function<void(const ChatRouting&)> onRouted;
    std::function<void(std::string_view piece)> onText;
    std::function<void(const ChatAnswer&)> onFinished;  // also after a stop, with what it made
    // The message names the problem; kind ErrorKind::cancelled: stopped before anything was
    // generated.
    std::function<void(meswitch::ErrorKind kind, const std::string& message)> onFailed;
};

using ChatRequestId = std::uint64_t;

class ChatBackend {
public:
    // Stops every request; no callback runs once the destructor has returned.
    virtual ~ChatBackend() = default;
    // Queues the request and returns its id (> 0) without waiting for the model. Throws
    // meswitch::Error for a request it refuses at once (the chosen model left the catalog).
    // submit() and cancel() are called from one thread (the page's).
    virtual ChatRequestId submit(const ChatRequest& request, ChatCallbacks callbacks) = 0;
    // Stops request `id` whether queued or running; unknown or finished ids are ignored.
    virtual void cancel(ChatRequestId id) = 0;
};
