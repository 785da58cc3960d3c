// Fuzz target: a request body of the local API server (meswitch serve) as api::parse_request
// reads it, for POST /v1/chat/completions and POST /v1/completions. The first byte chooses the
// endpoint (bit 0: 0 chat, 1 completions) and the limits (bit 1: the demo model's context of
// 128 tokens, or no context); the rest is the body. Then what the server does next with a
// parsed request: the model resolved against a fixed list, and the answer formatted (the
// whole body and the SSE chunks) with text taken from the request.
//
// Invariants (protocol.h): parse_request never throws; exactly one of request and error is
// set; an error is a 400 whose body is OpenAI's error JSON; a request holds what the limits
// allow (messages within max_messages and the context, max_tokens within the context, at most
// max_stop stop strings, sampling values in range); every formatted body and chunk is valid
// JSON, also for text that is not valid UTF-8.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/protocol.h"
#include "fuzz_support.h"

using namespace meswitch;
using namespace meswitch::api;
using Json = nlohmann::json;

namespace {

const ModelList& models() {
    static const ModelList list = [] {
        ModelList m;
        m.base_id = "demo-base";
        m.entries = {{"auto", "router", "", "auto"},
                     {"demo-base", "base", "", ""},
                     {"demo-arithmetic", "expert", "arithmetic", "demo-arithmetic"},
                     {"demo-python", "expert", "python", "demo-python"}};
        return m;
    }();
    return list;
}

bool is_json(std::string_view s) {
    return Json::accept(s);
}

// "data: <json>\n\n" with a JSON object inside.
bool is_event(const std::string& e) {
    if (e.size() < 8 || e.rfind("data: ", 0) != 0 || e.substr(e.size() - 2) != "\n\n") return false;
    return is_json(std::string_view(e).substr(6, e.size() - 8));
}

void check_error(const ApiError& e) {
    FUZZ_CHECK(!e.message.empty());
    const std::string body = error_body(e);
    FUZZ_CHECK(is_json(body));
    const Json j = Json::parse(body);
    FUZZ_CHECK(j["error"]["message"].is_string());
    FUZZ_CHECK(j["error"]["type"].is_string());
    FUZZ_CHECK(e.param.empty() ? j["error"]["param"].is_null() : j["error"]["param"].is_string());
}

void check_request(const ParsedRequest& r, Endpoint endpoint, const Limits& limits) {
    FUZZ_CHECK(r.endpoint == endpoint);
    FUZZ_CHECK(!r.model.empty());
    const GenerateRequest& g = r.request;
    if (endpoint == Endpoint::chat_completions) {
        FUZZ_CHECK(!g.messages.empty());
        FUZZ_CHECK(g.messages.size() <= limits.max_messages);
        std::size_t turns = 0;
        for (const ChatMessage& m : g.messages) {
            FUZZ_CHECK(m.role == "system" || m.role == "user" || m.role == "assistant");
            turns += m.role != "system";
        }
        if (limits.context > 0) FUZZ_CHECK(turns <= static_cast<std::size_t>(limits.context));
    } else {
        FUZZ_CHECK(g.messages.empty());
        FUZZ_CHECK(!g.prompt.empty() || !g.prompt_ids.empty());
        for (const std::int32_t id : g.prompt_ids) FUZZ_CHECK(id >= 0);
    }
    const GenerateOptions& o = g.options;
    FUZZ_CHECK(o.max_tokens >= 1);
    if (limits.context > 0) FUZZ_CHECK(o.max_tokens <= limits.context);
    FUZZ_CHECK(o.stop_strings.size() <= limits.max_stop);
    for (const std::string& s : o.stop_strings) FUZZ_CHECK(!s.empty());
    FUZZ_CHECK(std::isfinite(o.sampling.temperature));
    FUZZ_CHECK(o.sampling.temperature >= 0 && o.sampling.temperature <= 2);
    FUZZ_CHECK(o.sampling.top_p > 0 && o.sampling.top_p <= 1);
    FUZZ_CHECK(o.sampling.min_p >= 0 && o.sampling.min_p <= 1);
    FUZZ_CHECK(o.sampling.top_k >= 0);
    FUZZ_CHECK(o.sampling.repetition_penalty > 0);
}

// The answer formatted as the server would, with text from the request (any bytes).
void format_answer(const ParsedRequest& r, const ModelEntry& entry) {
    const std::string text = r.endpoint == Endpoint::chat_completions
                                 ? r.request.messages.back().content
                                 : r.request.prompt;
    ReplyHead head;
    head.endpoint = r.endpoint;
    head.id = "chatcmpl-fuzz";
    head.created = 1;
    head.model = entry.kind == "router" ? std::string("demo-arithmetic") : entry.id;
    Routing routing;
    routing.requested = r.model;  // the client's bytes
    routing.expert = head.model == models().base_id ? std::string() : head.model;
    if (entry.kind == "router") {
        RouteResult route;
        route.expert_id = 3;
        route.expert_name = head.model;
        route.domain = text.substr(0, 16);
        route.confidence = 0.75;
        route.alternatives = {{"python", 0.25}};
        route.router = "feature";
        routing.route = route;
    }
    const Usage usage{static_cast<int>(text.size()), r.request.options.max_tokens};
    FUZZ_CHECK(is_json(reply_body(head, text, finish_reason("max_tokens"), usage, routing)));
    FUZZ_CHECK(is_event(first_chunk(head, routing)));
    FUZZ_CHECK(is_event(text_chunk(head, text)));
    FUZZ_CHECK(is_event(final_chunk(head, finish_reason("eos"), routing)));
    FUZZ_CHECK(is_event(usage_chunk(head, usage)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const Endpoint endpoint = data[0] & 1 ? Endpoint::completions : Endpoint::chat_completions;
    Limits limits;
    limits.context = data[0] & 2 ? 0 : 128;
    limits.default_max_tokens = 64;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

    const ParseOutcome p = parse_request(endpoint, body, limits);  // must not throw
    FUZZ_CHECK(p.request.has_value() != p.error.has_value());
    if (p.error) {
        FUZZ_CHECK(p.error->status == 400);
        check_error(*p.error);
        return 0;
    }
    const ParsedRequest& r = *p.request;
    check_request(r, endpoint, limits);
    const ResolvedModel m = resolve_model(r.model, models());
    FUZZ_CHECK(m.entry.has_value() != m.error.has_value());
    if (m.error) {
        FUZZ_CHECK(m.error->status == 404);
        check_error(*m.error);
        return 0;
    }
    format_answer(r, *m.entry);
    return 0;
}
