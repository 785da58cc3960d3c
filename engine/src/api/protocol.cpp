#include "api/protocol.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "io/strict_json.h"
#include "meswitch/error.h"

namespace meswitch::api {

namespace {

using Json = nlohmann::json;

// Text that is not valid UTF-8 (a model's partial piece, a catalog name from another tool)
// is written with U+FFFD instead of failing the response.
std::string dump(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json or_null(const std::string& s) {
    return s.empty() ? Json(nullptr) : Json(s);
}

// A field that fails validation: ends parse_request with a 400 naming it.
struct FieldError {
    std::string param;
    std::string message;
};

[[noreturn]] void fail(std::string param, std::string message) {
    throw FieldError{std::move(param), std::move(message)};
}

std::string type_name(const Json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_array()) return "an array";
    return "an object";
}

const Json* field(const Json& obj, const char* key) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

double number(const Json& v, const char* key, double lo, double hi) {
    if (!v.is_number()) fail(key, std::string(key) + " must be a number, not " + type_name(v));
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi)
        fail(key, std::string(key) + " must be between " + io::json_excerpt(Json(lo).dump()) +
                      " and " + io::json_excerpt(Json(hi).dump()) + " (got " +
                      io::json_excerpt(v.dump()) + ")");
    return x;
}

// An integer in [lo, hi]; a huge one (past int64, or a float like 1e30) is refused by name.
std::int64_t integer(const Json& v, const char* key, std::int64_t lo, std::int64_t hi,
                     const std::string& why_hi = {}) {
    if (!v.is_number_integer())
        fail(key, std::string(key) + " must be an integer, not " +
                      (v.is_number() ? "the number " + io::json_excerpt(v.dump()) : type_name(v)));
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(hi))
        fail(key, std::string(key) + " is " + io::json_excerpt(v.dump()) + "; at most " +
                      std::to_string(hi) + (why_hi.empty() ? "" : " (" + why_hi + ")"));
    const std::int64_t x = v.get<std::int64_t>();
    if (x < lo) fail(key, std::string(key) + " must be at least " + std::to_string(lo));
    if (x > hi)
        fail(key, std::string(key) + " is " + std::to_string(x) + "; at most " +
                      std::to_string(hi) + (why_hi.empty() ? "" : " (" + why_hi + ")"));
    return x;
}

bool boolean(const Json& v, const std::string& key) {
    if (!v.is_boolean()) fail(key, key + " must be true or false, not " + type_name(v));
    return v.get<bool>();
}

// A message's content: a string, or an array of {"type": "text", "text": "..."} parts
// (joined); null only for an assistant turn.
std::string content_text(const Json& v, const std::string& key, bool may_be_null) {
    if (v.is_null()) {
        if (may_be_null) return {};
        fail(key, key + " is required");
    }
    if (v.is_string()) return v.get<std::string>();
    if (!v.is_array())
        fail(key, key + " must be a string or an array of text parts, not " + type_name(v));
    std::string text;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string part = key + "[" + std::to_string(i) + "]";
        const Json& p = v[i];
        if (!p.is_object()) fail(part, part + " must be an object, not " + type_name(p));
        const Json* type = field(p, "type");
        if (!type || !type->is_string() || type->get<std::string>() != "text")
            fail(part + ".type", part + ".type: only \"text\" parts are supported (got " +
                                     (type ? io::json_excerpt(type->dump()) : "none") + ")");
        const Json* t = field(p, "text");
        if (!t || !t->is_string()) fail(part + ".text", part + ".text must be a string");
        text += t->get<std::string>();
    }
    return text;
}

std::vector<ChatMessage> parse_messages(const Json& body, const Limits& limits,
                                        std::size_t& dropped) {
    const Json* m = field(body, "messages");
    if (!m) fail("messages", "messages is required (an array of {role, content})");
    if (!m->is_array()) fail("messages", "messages must be an array, not " + type_name(*m));
    if (m->empty()) fail("messages", "messages must not be empty");
    std::vector<ChatMessage> out;
    out.reserve(m->size());
    for (std::size_t i = 0; i < m->size(); ++i) {
        const std::string key = "messages[" + std::to_string(i) + "]";
        const Json& msg = (*m)[i];
        if (!msg.is_object()) fail(key, key + " must be an object, not " + type_name(msg));
        const Json* role = field(msg, "role");
        if (!role || !role->is_string()) fail(key + ".role", key + ".role must be a string");
        std::string r = role->get<std::string>();
        if (r == "developer") r = "system";  // OpenAI's newer name for system instructions
        if (r != "system" && r != "user" && r != "assistant")
            fail(key + ".role", key + ".role '" + io::json_excerpt(r) +
                                    "' is not supported (system, developer, user, assistant)");
        const auto c = msg.find("content");
        std::string text =
            content_text(c == msg.end() ? Json(nullptr) : *c, key + ".content", r == "assistant");
        out.push_back({std::move(r), std::move(text)});
    }
    // Each message renders to at least one token, so only the last `context` non-system
    // messages can fit: the older ones are left out here (the engine would leave them out
    // too, one at a time, re-rendering the conversation each time).
    if (limits.context > 0) {
        const auto keep = static_cast<std::size_t>(limits.context);
        std::size_t turns = 0;
        for (const auto& msg : out) turns += msg.role != "system";
        if (turns > keep) {
            std::size_t skip = turns - keep;
            std::vector<ChatMessage> kept;
            kept.reserve(out.size() - skip);
            for (auto& msg : out) {
                if (msg.role != "system" && skip > 0) {
                    --skip;
                    ++dropped;
                    continue;
                }
                kept.push_back(std::move(msg));
            }
            out = std::move(kept);
        }
    }
    if (out.size() > limits.max_messages)
        fail("messages", "messages has " + std::to_string(out.size()) +
                             " entries; this server takes at most " +
                             std::to_string(limits.max_messages));
    return out;
}

// prompt: a string, an array of one string, an array of token ids, or an array of one such
// array.
void parse_prompt(const Json& body, GenerateRequest& r) {
    const Json* p = field(body, "prompt");
    if (!p) fail("prompt", "prompt is required (a string)");
    const Json* v = p;
    if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array()))
        v = &(*p)[0];
    else if (p->is_array() && !p->empty() && ((*p)[0].is_string() || (*p)[0].is_array()))
        fail("prompt", "prompt: only one prompt per request is supported (got " +
                           std::to_string(p->size()) + ")");
    if (v->is_string()) {
        r.prompt = v->get<std::string>();
        if (r.prompt.empty()) fail("prompt", "prompt must not be empty");
        return;
    }
    if (!v->is_array() || v->empty())
        fail("prompt", "prompt must be a string or an array of token ids, not " +
                           (v->is_array() ? std::string("an empty array") : type_name(*v)));
    for (std::size_t i = 0; i < v->size(); ++i) {
        const Json& id = (*v)[i];
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
            (id.is_number_unsigned() && id.get<std::uint64_t>() > 0x7fffffffULL) ||
            id.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max())
            fail("prompt",
                 "prompt[" + std::to_string(i) + "] must be a token id (an integer >= 0)");
        r.prompt_ids.push_back(static_cast<std::int32_t>(id.get<std::int64_t>()));
    }
}

std::vector<std::string> parse_stop(const Json& body, const Limits& limits) {
    const Json* s = field(body, "stop");
    if (!s) return {};
    std::vector<std::string> out;
    if (s->is_string()) {
        out.push_back(s->get<std::string>());
    } else if (s->is_array()) {
        if (s->size() > limits.max_stop)
            fail("stop", "stop has " + std::to_string(s->size()) + " strings; at most " +
                             std::to_string(limits.max_stop));
        for (std::size_t i = 0; i < s->size(); ++i) {
            if (!(*s)[i].is_string())
                fail("stop",
                     "stop[" + std::to_string(i) + "] must be a string, not " + type_name((*s)[i]));
            out.push_back((*s)[i].get<std::string>());
        }
    } else {
        fail("stop", "stop must be a string or an array of strings, not " + type_name(*s));
    }
    for (const auto& x : out)
        if (x.empty()) fail("stop", "stop strings must not be empty");
    return out;
}

// The request's sampling: what the client sent is its explicit choice (request.chosen); what
// it left out takes the answering model's generation_config defaults, then ours (below).
void parse_sampling(const Json& body, const Limits& limits, GenerateRequest& request) {
    GenerateOptions& o = request.options;
    o.stop_on_eos = true;
    o.stop_on_bos = true;  // a sampled BOS is never text (llama2.c-style models end with it)
    o.sampling.temperature = 1.0f;
    if (const Json* t = field(body, "temperature"))
        o.sampling.temperature = static_cast<float>(number(*t, "temperature", 0, 2));
    if (const Json* t = field(body, "top_p")) {
        o.sampling.top_p = static_cast<float>(number(*t, "top_p", 0, 1));
        if (o.sampling.top_p <= 0) fail("top_p", "top_p must be greater than 0");
    }
    // Extensions other local servers take too (llama.cpp, vLLM).
    if (const Json* t = field(body, "top_k"))
        o.sampling.top_k = static_cast<int>(integer(*t, "top_k", 0, 1 << 20));
    if (const Json* t = field(body, "min_p"))
        o.sampling.min_p = static_cast<float>(number(*t, "min_p", 0, 1));
    if (const Json* t = field(body, "repetition_penalty")) {
        o.sampling.repetition_penalty = static_cast<float>(number(*t, "repetition_penalty", 0, 10));
        if (o.sampling.repetition_penalty <= 0)
            fail("repetition_penalty", "repetition_penalty must be greater than 0");
    }
    // Accepted for compatibility, not applied (the sampler has no such penalties).
    for (const char* key : {"presence_penalty", "frequency_penalty"})
        if (const Json* t = field(body, key)) number(*t, key, -2, 2);
    if (const Json* s = field(body, "seed")) {
        if (!s->is_number_integer()) fail("seed", "seed must be an integer, not " + type_name(*s));
        o.sampling.seed = s->is_number_unsigned()
                              ? s->get<std::uint64_t>()
                              : static_cast<std::uint64_t>(s->get<std::int64_t>());
    }
    const std::int64_t cap =
        limits.context > 0 ? limits.context : std::numeric_limits<std::int32_t>::max();
    const std::string why =
        limits.context > 0 ? "the model's context is " + std::to_string(limits.context) + " tokens"
                           : std::string();
    o.max_tokens = static_cast<int>(std::min<std::int64_t>(limits.default_max_tokens, cap));
    for (const char* key : {"max_tokens", "max_completion_tokens"})
        if (const Json* t = field(body, key))
            o.max_tokens = static_cast<int>(integer(*t, key, 1, cap, why));
    o.stop_strings = parse_stop(body, limits);
    request.use_model_defaults = true;
    SamplingChoice& c = request.chosen;
    if (field(body, "temperature")) c.temperature = o.sampling.temperature;
    if (field(body, "top_p")) c.top_p = o.sampling.top_p;
    if (field(body, "top_k")) c.top_k = o.sampling.top_k;
    if (field(body, "min_p")) c.min_p = o.sampling.min_p;
    if (field(body, "repetition_penalty")) c.repetition_penalty = o.sampling.repetition_penalty;
    if (field(body, "max_tokens") || field(body, "max_completion_tokens"))
        c.max_tokens = o.max_tokens;
}

void refuse_unsupported(const Json& body, Endpoint endpoint) {
    if (const Json* n = field(body, "n"))
        if (integer(*n, "n", 1, 1 << 20) != 1)
            fail("n", "n: only one choice per request is supported (n = 1)");
    if (endpoint == Endpoint::completions) {
        if (const Json* b = field(body, "best_of"))
            if (integer(*b, "best_of", 1, 1 << 20) != 1)
                fail("best_of", "best_of: only 1 is supported");
        if (const Json* e = field(body, "echo"))
            if (boolean(*e, "echo")) fail("echo", "echo: echoing the prompt is not supported");
        if (const Json* s = field(body, "suffix"))
            if (!s->is_string() || !s->get<std::string>().empty())
                fail("suffix", "suffix: insertion is not supported");
    }
}

ParsedRequest parse_fields(Endpoint endpoint, const Json& body, const Limits& limits) {
    if (!body.is_object())
        fail("", "the request body must be a JSON object, not " + type_name(body));
    ParsedRequest p;
    p.endpoint = endpoint;
    p.model = "auto";
    if (const Json* m = field(body, "model")) {
        if (!m->is_string()) fail("model", "model must be a string, not " + type_name(*m));
        p.model = m->get<std::string>();
        if (p.model.empty()) fail("model", "model must not be empty (use \"auto\" to route)");
    }
    refuse_unsupported(body, endpoint);
    if (endpoint == Endpoint::chat_completions)
        p.request.messages = parse_messages(body, limits, p.dropped_messages);
    else
        parse_prompt(body, p.request);
    parse_sampling(body, limits, p.request);
    if (const Json* s = field(body, "stream")) p.stream = boolean(*s, "stream");
    if (const Json* so = field(body, "stream_options")) {
        if (!so->is_object())
            fail("stream_options", "stream_options must be an object, not " + type_name(*so));
        if (const Json* u = field(*so, "include_usage"))
            p.include_usage = boolean(*u, "stream_options.include_usage");
    }
    p.request.mode = DeltaMode::separate;
    return p;
}

ApiError bad_request(std::string message, std::string param = {}) {
    ApiError e;
    e.status = 400;
    e.message = std::move(message);
    e.param = std::move(param);
    return e;
}

const char* object_name(Endpoint e, bool chunk) {
    if (e == Endpoint::completions) return "text_completion";
    return chunk ? "chat.completion.chunk" : "chat.completion";
}

Json head_json(const ReplyHead& head, bool chunk) {
    return Json{{"id", head.id},
                {"object", object_name(head.endpoint, chunk)},
                {"created", head.created},
                {"model", head.model},
                {"system_fingerprint", nullptr}};
}

Json routing_json(const Routing& r) {
    Json j{{"requested", r.requested}, {"expert", or_null(r.expert)}};
    if (r.route) {
        j["confidence"] = r.route->confidence;
        j["domain"] = or_null(r.route->domain);
        Json alts = Json::array();
        for (const auto& a : r.route->alternatives)
            alts.push_back({{"domain", a.domain}, {"confidence", a.confidence}});
        j["alternatives"] = std::move(alts);
        j["router"] = r.route->router;
        j["reason"] = or_null(r.route->reason);
    } else {
        j["confidence"] = nullptr;
        j["alternatives"] = Json::array();
    }
    if (!r.weights.empty()) j["weights"] = r.weights;
    if (!r.note.empty()) j["note"] = r.note;
    return j;
}

Json usage_json(const Usage& u) {
    return {{"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

Json choice(const ReplyHead& head, bool chunk, std::string_view text, const Json& finish,
            bool role) {
    Json c{{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}};
    if (head.endpoint == Endpoint::completions) {
        c["text"] = std::string(text);
    } else if (chunk) {
        Json delta = Json::object();
        if (role) delta["role"] = "assistant";
        if (role || !text.empty() || finish.is_null()) delta["content"] = std::string(text);
        c["delta"] = std::move(delta);
    } else {
        c["message"] = {{"role", "assistant"}, {"content", std::string(text)}};
    }
    return c;
}

std::string event(const Json& j) {
    return "data: " + dump(j) + "\n\n";
}

}  // namespace

std::string error_body(const ApiError& e) {
    return dump(Json{{"error",
                      {{"message", e.message},
                       {"type", e.type},
                       {"param", or_null(e.param)},
                       {"code", or_null(e.code)}}}});
}

ParseOutcome parse_request(Endpoint endpoint, std::string_view body, const Limits& limits) {
    ParseOutcome out;
    Json doc;
    try {
        io::StrictJsonOptions o;
        o.label = "request body";
        o.max_depth = limits.max_json_depth;
        doc = io::parse_strict_json<Json>(body, o);
    } catch (const Error& e) {
        out.error = bad_request(e.what());
        out.error->code = "invalid_json";
        return out;
    }
    try {
        out.request = parse_fields(endpoint, doc, limits);
    } catch (const FieldError& e) {
        out.error = bad_request(e.message, e.param);
    } catch (const Json::exception& e) {
        // Not expected (every access above checks its type); still a client's fault.
        out.error = bad_request("request body: " + io::plain_json_error(e));
    }
    return out;
}

std::string models_body(const ModelList& models, std::int64_t created) {
    Json data = Json::array();
    for (const auto& m : models.entries) {
        Json ext{{"kind", m.kind}};
        if (!m.domain.empty()) ext["domain"] = m.domain;
        data.push_back({{"id", m.id},
                        {"object", "model"},
                        {"created", created},
                        {"owned_by", "meswitch"},
                        {"meswitch", std::move(ext)}});
    }
    return dump(Json{{"object", "list"}, {"data", std::move(data)}});
}

ResolvedModel resolve_model(std::string_view model, const ModelList& models) {
    ResolvedModel r;
    for (const auto& m : models.entries)
        if (m.id == model || (model == "base" && m.kind == "base")) {
            r.entry = m;
            return r;
        }
    std::string known;
    for (const auto& m : models.entries) known += (known.empty() ? "" : ", ") + m.id;
    ApiError e;
    e.status = 404;
    e.param = "model";
    e.code = "model_not_found";
    e.message = "the model '" + io::json_excerpt(std::string(model)) +
                "' does not exist; known models: " + (known.empty() ? "none" : known);
    r.error = std::move(e);
    return r;
}

std::string finish_reason(std::string_view stop_reason) {
    if (stop_reason == "max_tokens" || stop_reason == "context_full") return "length";
    return "stop";
}

std::string reply_body(const ReplyHead& head, std::string_view text, std::string_view finish,
                       const Usage& usage, const Routing& routing) {
    Json j = head_json(head, false);
    j["choices"] = Json::array({choice(head, false, text, std::string(finish), false)});
    j["usage"] = usage_json(usage);
    j["meswitch"] = routing_json(routing);
    return dump(j);
}

std::string first_chunk(const ReplyHead& head, const Routing& routing) {
    Json j = head_json(head, true);
    j["choices"] = Json::array({choice(head, true, "", nullptr, true)});
    j["meswitch"] = routing_json(routing);
    return event(j);
}

std::string text_chunk(const ReplyHead& head, std::string_view text) {
    Json j = head_json(head, true);
    j["choices"] = Json::array({choice(head, true, text, nullptr, false)});
    return event(j);
}

std::string final_chunk(const ReplyHead& head, std::string_view finish, const Routing& routing) {
    Json j = head_json(head, true);
    j["choices"] = Json::array({choice(head, true, "", std::string(finish), false)});
    j["meswitch"] = routing_json(routing);
    return event(j);
}

std::string usage_chunk(const ReplyHead& head, const Usage& usage) {
    Json j = head_json(head, true);
    j["choices"] = Json::array();
    j["usage"] = usage_json(usage);
    return event(j);
}

std::string error_event(const ApiError& error) {
    return "data: " + error_body(error) + "\n\n";
}

ApiError outcome_error(const RequestOutcome& o) {
    ApiError e;
    e.message = o.error.empty() ? std::string("the request was not answered") : o.error;
    if (o.cancelled) {
        e.status = 503;
        e.type = "server_error";
        e.code = "cancelled";
        if (o.error.empty()) e.message = "the request was cancelled (the server is stopping)";
        return e;
    }
    switch (o.error_kind) {
        case ErrorKind::busy:
            e.status = 429;
            e.type = "rate_limit_error";
            e.code = "queue_full";
            break;
        case ErrorKind::invalid_argument:
            e.status = 400;
            break;
        case ErrorKind::not_found:
            e.status = 404;
            e.param = "model";
            e.code = "model_not_found";
            break;
        case ErrorKind::out_of_memory:
        case ErrorKind::device:
            e.status = 503;
            e.type = "server_error";
            e.code = "unavailable";
            break;
        default:
            e.status = 500;
            e.type = "server_error";
            break;
    }
    return e;
}

}  // namespace meswitch::api
