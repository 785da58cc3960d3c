// The seam between the Chat page's worker and the engine: one request (a conversation, the
// expert to use or automatic routing, sampling) in, a streamed answer out. ChatWorker calls a
// ChatBackend on its own thread; the app's is EngineChatBackend (the serving engine's thread and
// its ExpertPool). Qt-free on purpose.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/chat_template.h"
#include "meswitch/generate.h"

namespace meswitch {
class CancelToken;
}

struct ChatRequest {
    std::vector<meswitch::ChatMessage> conversation;  // system (optional), then user/assistant
    std::optional<std::int64_t> expertId;  // a catalog model id (base or expert); empty: route
    double routingThreshold = 0.5;         // automatic routing: below it the base answers
    std::string device = "auto";           // "auto", "cpu" or "cuda" (meswitch::EngineOptions)
    std::uint64_t expertBudgetBytes = 0;   // device memory for resident experts (0: automatic)
    meswitch::GenerateOptions options;     // cancel is set by the worker
};

// Who answers and why, known before the first token.
struct ChatRouting {
    std::optional<std::int64_t> modelId;  // the catalog model that answers (base or expert)
    std::string modelName;
    std::optional<std::int64_t> expertId;  // set when an expert answers (null: the base)
    bool automatic = false;                // chosen by the router
    std::optional<double> confidence;      // router confidence of the best domain
    std::string domain;                    // the router's best domain
    std::string baseReason;  // why the base answers although routing was asked ("below threshold")
    std::string weights;     // "base + 2-bit ME-Switch delta", "full weights", "base"
    std::string note;        // e.g. the chat template fallback, a context truncation
};

struct ChatAnswer {
    ChatRouting routing;
    meswitch::GenerateResult result;
};

class ChatBackend {
public:
    virtual ~ChatBackend() = default;
    // Routes (when asked), makes the answering model resident and generates. `onRouted` is called
    // once before generation starts, `onText` for every streamed piece (possibly on another
    // thread, one piece at a time, in order, before answer() returns). Throws meswitch::Error
    // (ErrorKind::cancelled when `cancel` is set before generation starts); a generation stopped
    // by `cancel` returns what it made with stop_reason "cancelled".
    virtual ChatAnswer answer(const ChatRequest& request, const meswitch::CancelToken& cancel,
                              const std::function<void(const ChatRouting&)>& onRouted,
                              const meswitch::TokenCallback& onText) = 0;
};
