// The OpenAI-compatible wire format of the local API server, without sockets: a request body
// becomes a meswitch::GenerateRequest (or an OpenAI-shaped error naming the bad field and
// the HTTP status), and what the engine answered becomes a response body or the Server-Sent
// Events chunks of a streamed one. Pure functions: unit-tested in tests/api and fuzzed by
// tests/fuzz/fuzz_api_request.cpp.
//
//   Limits limits;                         // the model's context, default max_tokens, ...
//   ParseOutcome p = parse_request(Endpoint::chat_completions, body, limits);
//   if (p.error) reply(p.error->status, error_body(*p.error));
//   GenerateRequest r = p.request->request;  r.expert = ...resolve_model(p.request->model)...
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/engine.h"

namespace meswitch::api {

enum class Endpoint { chat_completions, completions };

// {"error": {"message", "type", "param", "code"}} with its HTTP status.
struct ApiError {
    int status = 400;
    std::string message;
    std::string type = "invalid_request_error";
    std::string param;  // the field at fault, e.g. "messages[2].content" ("" → null)
    std::string code;   // e.g. "model_not_found" ("" → null)
};

std::string error_body(const ApiError& error);

struct Limits {
    // The model's context in tokens: max_tokens above it is refused, and a conversation keeps
    // at most its last `context` messages (each takes at least one token; the engine leaves
    // the oldest ones out anyway). 0: unchecked.
    int context = 0;
    int default_max_tokens = 256;     // when the request names none (capped by the context)
    std::size_t max_messages = 1024;  // after that trimming; more is refused
    std::size_t max_stop = 4;         // stop strings, as OpenAI
    int max_json_depth = 16;
};

struct ParsedRequest {
    Endpoint endpoint = Endpoint::chat_completions;
    std::string model;        // as the client named it ("auto" when absent)
    GenerateRequest request;  // messages or prompt, options; `expert` is left for the caller
    bool stream = false;
    bool include_usage = false;        // stream_options.include_usage
    std::size_t dropped_messages = 0;  // older than the context can hold (see Limits::context)
};

struct ParseOutcome {
    std::optional<ParsedRequest> request;
    std::optional<ApiError> error;  // exactly one of the two is set
};

// Never throws for any body (the fuzz target holds it to that).
ParseOutcome parse_request(Endpoint endpoint, std::string_view body, const Limits& limits);

// ---------------------------------------------------------------------------- models

struct ModelEntry {
    std::string id;           // what a client puts in "model"
    std::string kind;         // "router" (auto), "base", "expert", "moe-variant"
    std::string domain;       // an expert's domains, comma-separated ("" for others)
    std::string engine_name;  // what GenerateRequest::expert gets: "auto", "" (base), a name
};

struct ModelList {
    std::vector<ModelEntry> entries;  // "auto" first when routing is possible, then the base
    std::string base_id;              // the base's id (the model field when the base answers)
};

// GET /v1/models: {"object": "list", "data": [{"id", "object": "model", "created",
// "owned_by", "meswitch": {"kind", "domain"}}]}.
std::string models_body(const ModelList& models, std::int64_t created);

struct ResolvedModel {
    std::optional<ModelEntry> entry;
    std::optional<ApiError> error;  // 404 listing the known ids
};

// The entry for a request's "model": an id of the list, or "base" for the base.
ResolvedModel resolve_model(std::string_view model, const ModelList& models);

// ---------------------------------------------------------------------------- responses

// What every chunk and the final body share.
struct ReplyHead {
    Endpoint endpoint = Endpoint::chat_completions;
    std::string id;  // "chatcmpl-…" / "cmpl-…"
    std::int64_t created = 0;
    std::string model;  // the model that answered (the routed expert for "auto")
};

// The extension field OpenAI clients ignore: {"expert", "requested", "confidence", "domain",
// "alternatives": [{"domain", "confidence"}], "router", "reason", "weights", "note"}.
struct Routing {
    std::string requested;  // the model the client named
    std::string expert;     // the answering expert's name ("" = the base)
    std::optional<RouteResult> route;
    std::string weights;
    std::string note;
};

// "stop" for eos/bos/stop_string, "length" for max_tokens/context_full.
std::string finish_reason(std::string_view stop_reason);

struct Usage {
    int prompt_tokens = 0;
    int completion_tokens = 0;
};

// The whole (non-streamed) response.
std::string reply_body(const ReplyHead& head, std::string_view text, std::string_view finish,
                       const Usage& usage, const Routing& routing);

// One SSE event "data: <json>\n\n" carrying a chunk: the first (role "assistant" for chat,
// with the routing), a text piece, the last (finish_reason, the routing), usage (no choices).
std::string first_chunk(const ReplyHead& head, const Routing& routing);
std::string text_chunk(const ReplyHead& head, std::string_view text);
std::string final_chunk(const ReplyHead& head, std::string_view finish, const Routing& routing);
std::string usage_chunk(const ReplyHead& head, const Usage& usage);
// An error after the stream began (the engine failed mid-answer): an SSE event with the
// error object, as OpenAI sends it.
std::string error_event(const ApiError& error);
inline constexpr std::string_view done_event = "data: [DONE]\n\n";

// The HTTP status and error for a request the engine did not answer (outcome.ok false).
ApiError outcome_error(const RequestOutcome& outcome);

}  // namespace meswitch::api
