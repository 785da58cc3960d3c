// The API server's wire format without sockets (engine/src/api/protocol.h): request bodies
// to GenerateRequests or OpenAI-shaped errors naming the field, the model list and its
// lookup, response bodies and SSE chunks.
#include <QtTest>

#include <nlohmann/json.hpp>

#include <string>

#include "api/protocol.h"

using namespace meswitch;
using namespace meswitch::api;
using Json = nlohmann::json;

namespace {

Limits demo_limits() {
    Limits l;
    l.context = 128;
    l.default_max_tokens = 64;
    return l;
}

ParseOutcome parse_chat(const std::string& body, const Limits& l = demo_limits()) {
    return parse_request(Endpoint::chat_completions, body, l);
}

// The request is refused with `status`, naming `param`; the message is checked to hold `word`.
void expect_error(const ParseOutcome& p, const std::string& param, const std::string& word = {},
                  int status = 400) {
    QVERIFY2(p.error.has_value(), "accepted");
    QVERIFY(!p.request);
    QCOMPARE(p.error->status, status);
    QVERIFY2(p.error->param == param, (p.error->param + " vs " + param).c_str());
    QVERIFY2(p.error->message.find(word) != std::string::npos, p.error->message.c_str());
    const Json body = Json::parse(error_body(*p.error));
    QCOMPARE(body["error"]["message"].get<std::string>(), p.error->message);
    QCOMPARE(body["error"]["type"].get<std::string>(), std::string("invalid_request_error"));
    QVERIFY(param.empty() ? body["error"]["param"].is_null()
                          : body["error"]["param"].get<std::string>() == param);
}

ModelList demo_models() {
    ModelList m;
    m.base_id = "demo-base";
    m.entries = {{"auto", "router", "", "auto"},
                 {"demo-base", "base", "", ""},
                 {"demo-arithmetic", "expert", "arithmetic", "demo-arithmetic"}};
    return m;
}

Json event_json(const std::string& event) {
    if (event.rfind("data: ", 0) != 0 || event.size() < 8 ||
        event.substr(event.size() - 2) != "\n\n")
        return nullptr;
    return Json::parse(event.substr(6, event.size() - 8));
}

}  // namespace

class TestApiProtocol : public QObject {
    Q_OBJECT

private slots:
    void parsesAChatRequest() {
        const auto p = parse_chat(R"({"model": "auto", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "What is "}, {"type": "text", "text": "17+25?"}]}],
            "temperature": 0, "top_p": 0.9, "max_tokens": 16, "stop": ["\n"], "seed": 7,
            "stream": true, "stream_options": {"include_usage": true}, "n": 1,
            "unknown_field": {"nested": [1, 2, 3]}, "user": "x", "presence_penalty": 0.5})");
        QVERIFY2(p.request, p.error ? p.error->message.c_str() : "");
        const ParsedRequest& r = *p.request;
        QCOMPARE(r.model, std::string("auto"));
        QVERIFY(r.stream);
        QVERIFY(r.include_usage);
        QCOMPARE(r.request.messages.size(), std::size_t(2));
        QCOMPARE(r.request.messages[0].role, std::string("system"));
        QCOMPARE(r.request.messages[1].content, std::string("What is 17+25?"));
        QCOMPARE(r.request.options.sampling.temperature, 0.0f);
        QCOMPARE(r.request.options.sampling.top_p, 0.9f);
        QCOMPARE(r.request.options.sampling.seed, std::uint64_t(7));
        QCOMPARE(r.request.options.max_tokens, 16);
        QCOMPARE(r.request.options.stop_strings, std::vector<std::string>{"\n"});
        QVERIFY(r.request.options.stop_on_bos);
        QVERIFY(r.request.expert.empty());  // the server resolves the model
    }

    void defaults() {
        const auto p = parse_chat(R"({"messages": [{"role": "developer", "content": "x"},
                                             {"role": "user", "content": "hi"},
                                             {"role": "assistant", "content": null}]})");
        QVERIFY(p.request);
        QCOMPARE(p.request->model, std::string("auto"));
        QVERIFY(!p.request->stream);
        QCOMPARE(p.request->request.messages[0].role, std::string("system"));
        QCOMPARE(p.request->request.options.max_tokens, 64);
        QCOMPARE(p.request->request.options.sampling.temperature, 1.0f);
        Limits small = demo_limits();
        small.default_max_tokens = 1000;  // capped by the context
        QCOMPARE(parse_chat(R"({"messages": [{"role": "user", "content": "hi"}]})", small)
                     .request->request.options.max_tokens,
                 128);
    }

    void parsesACompletionRequest() {
        auto p = parse_request(Endpoint::completions,
                               R"({"model": "demo-base", "prompt": "Once upon", "max_tokens": 3})",
                               demo_limits());
        QVERIFY(p.request);
        QCOMPARE(p.request->request.prompt, std::string("Once upon"));
        QVERIFY(p.request->request.messages.empty());
        p = parse_request(Endpoint::completions, R"({"prompt": [["x"]]})", demo_limits());
        expect_error(p, "prompt", "token id");
        p = parse_request(Endpoint::completions, R"({"prompt": [1, 2, 3]})", demo_limits());
        QVERIFY(p.request);
        QCOMPARE(p.request->request.prompt_ids, (std::vector<std::int32_t>{1, 2, 3}));
        p = parse_request(Endpoint::completions, R"({"prompt": ["one"]})", demo_limits());
        QCOMPARE(p.request->request.prompt, std::string("one"));
        expect_error(
            parse_request(Endpoint::completions, R"({"prompt": ["a", "b"]})", demo_limits()),
            "prompt", "one prompt");
        expect_error(parse_request(Endpoint::completions, R"({"model": "x"})", demo_limits()),
                     "prompt", "required");
        expect_error(
            parse_request(Endpoint::completions, R"({"prompt": "x", "echo": true})", demo_limits()),
            "echo");
        expect_error(parse_request(Endpoint::completions, R"({"prompt": [-1]})", demo_limits()),
                     "prompt", "token id");
    }

    void refusesMalformedJson() {
        for (const char* body : {"", "{", R"({"messages": [)", "not json", R"({"a": 1,})",
                                 "{\"model\": \"auto\"} trailing", R"({"a": 1, "a": 2})"}) {
            const auto p = parse_chat(body);
            QVERIFY2(p.error, body);
            QCOMPARE(p.error->status, 400);
            QCOMPARE(p.error->code, std::string("invalid_json"));
        }
        // Invalid UTF-8 in a string, deep nesting, a non-object body.
        expect_error(
            parse_chat("{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\"}]}"), "",
            "UTF-8");
        expect_error(parse_chat(std::string(10000, '[') + std::string(10000, ']')), "", "");
        expect_error(parse_chat("[1, 2]"), "", "JSON object");
    }

    void namesTheBadField() {
        expect_error(parse_chat(R"({"model": 5, "messages": []})"), "model", "string");
        expect_error(parse_chat(R"({"messages": []})"), "messages", "empty");
        expect_error(parse_chat(R"({"model": "auto"})"), "messages", "required");
        expect_error(parse_chat(R"({"messages": "hi"})"), "messages", "array");
        expect_error(parse_chat(R"({"messages": [{"content": "hi"}]})"), "messages[0].role");
        expect_error(
            parse_chat(
                R"({"messages": [{"role": "user", "content": "a"}, {"role": "tool", "content": "x"}]})"),
            "messages[1].role", "not supported");
        expect_error(parse_chat(R"({"messages": [{"role": "user"}]})"), "messages[0].content",
                     "required");
        expect_error(
            parse_chat(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"),
            "messages[0].content[0].type", "text");
        const std::string ok = R"("messages": [{"role": "user", "content": "hi"}])";
        expect_error(parse_chat("{" + ok + R"(, "temperature": -0.5})"), "temperature", "between");
        expect_error(parse_chat("{" + ok + R"(, "temperature": 2.5})"), "temperature", "between");
        expect_error(parse_chat("{" + ok + R"(, "temperature": "hot"})"), "temperature", "number");
        expect_error(parse_chat("{" + ok + R"(, "top_p": 0})"), "top_p");
        expect_error(parse_chat("{" + ok + R"(, "max_tokens": 0})"), "max_tokens", "at least 1");
        expect_error(parse_chat("{" + ok + R"(, "max_tokens": 129})"), "max_tokens",
                     "context is 128");
        expect_error(parse_chat("{" + ok + R"(, "max_tokens": 18446744073709551615})"),
                     "max_tokens", "at most 128");
        expect_error(parse_chat("{" + ok + R"(, "max_tokens": 1e30})"), "max_tokens", "integer");
        expect_error(parse_chat("{" + ok + R"(, "max_completion_tokens": 100000})"),
                     "max_completion_tokens");
        expect_error(parse_chat("{" + ok + R"(, "n": 2})"), "n", "n = 1");
        expect_error(parse_chat("{" + ok + R"(, "stream": "yes"})"), "stream", "true or false");
        expect_error(parse_chat("{" + ok + R"(, "stop": ["a", "b", "c", "d", "e"]})"), "stop",
                     "at most 4");
        expect_error(parse_chat("{" + ok + R"(, "stop": [1]})"), "stop");
        expect_error(parse_chat("{" + ok + R"(, "stop": ""})"), "stop", "empty");
        expect_error(parse_chat("{" + ok + R"(, "seed": 1.5})"), "seed", "integer");
        expect_error(parse_chat("{" + ok + R"(, "stream_options": 3})"), "stream_options");
        // Null means "not given", as OpenAI's clients send it.
        QVERIFY(parse_chat("{" + ok + R"(, "temperature": null, "stop": null, "max_tokens": null})")
                    .request);
    }

    void longConversationsKeepTheirLastTurns() {
        Json body{{"model", "auto"}};
        body["messages"].push_back({{"role", "system"}, {"content", "S"}});
        for (int i = 0; i < 10000; ++i)
            body["messages"].push_back(
                {{"role", i % 2 ? "assistant" : "user"}, {"content", std::to_string(i)}});
        const auto p = parse_chat(body.dump());
        QVERIFY(p.request);
        const auto& m = p.request->request.messages;
        QCOMPARE(m.size(), std::size_t(129));  // the system message + the last 128 turns
        QCOMPARE(m.front().content, std::string("S"));
        QCOMPARE(m.back().content, std::string("9999"));
        QCOMPARE(p.request->dropped_messages, std::size_t(10000 - 128));
        Limits wide = demo_limits();
        wide.context = 1 << 20;
        expect_error(parse_chat(body.dump(), wide), "messages", "at most 1024");
    }

    void modelLookup() {
        const ModelList models = demo_models();
        QCOMPARE(resolve_model("auto", models).entry->engine_name, std::string("auto"));
        QCOMPARE(resolve_model("base", models).entry->engine_name, std::string(""));
        QCOMPARE(resolve_model("demo-base", models).entry->engine_name, std::string(""));
        QCOMPARE(resolve_model("demo-arithmetic", models).entry->engine_name,
                 std::string("demo-arithmetic"));
        const auto missing = resolve_model("gpt-4", models);
        QVERIFY(missing.error);
        QCOMPARE(missing.error->status, 404);
        QCOMPARE(missing.error->code, std::string("model_not_found"));
        QVERIFY(missing.error->message.find("auto, demo-base, demo-arithmetic") !=
                std::string::npos);
        const Json list = Json::parse(models_body(models, 1700000000));
        QCOMPARE(list["object"].get<std::string>(), std::string("list"));
        QCOMPARE(list["data"].size(), std::size_t(3));
        QCOMPARE(list["data"][2]["id"].get<std::string>(), std::string("demo-arithmetic"));
        QCOMPARE(list["data"][2]["object"].get<std::string>(), std::string("model"));
        QCOMPARE(list["data"][2]["meswitch"]["domain"].get<std::string>(),
                 std::string("arithmetic"));
    }

    void responseAndChunks() {
        ReplyHead head{Endpoint::chat_completions, "chatcmpl-1", 1700000000, "demo-arithmetic"};
        Routing r;
        r.requested = "auto";
        r.expert = "demo-arithmetic";
        RouteResult route;
        route.expert_name = "demo-arithmetic";
        route.domain = "arithmetic";
        route.confidence = 0.98;
        route.alternatives = {{"facts", 0.015}, {"python", 0.005}};
        route.router = "feature";
        r.route = route;
        const Json body = Json::parse(reply_body(head, "42", finish_reason("eos"), {12, 3}, r));
        QCOMPARE(body["object"].get<std::string>(), std::string("chat.completion"));
        QCOMPARE(body["model"].get<std::string>(), std::string("demo-arithmetic"));
        QCOMPARE(body["choices"][0]["message"]["content"].get<std::string>(), std::string("42"));
        QCOMPARE(body["choices"][0]["message"]["role"].get<std::string>(),
                 std::string("assistant"));
        QCOMPARE(body["choices"][0]["finish_reason"].get<std::string>(), std::string("stop"));
        QCOMPARE(body["usage"]["total_tokens"].get<int>(), 15);
        QCOMPARE(body["meswitch"]["expert"].get<std::string>(), std::string("demo-arithmetic"));
        QCOMPARE(body["meswitch"]["confidence"].get<double>(), 0.98);
        QCOMPARE(body["meswitch"]["alternatives"][0]["domain"].get<std::string>(),
                 std::string("facts"));
        QCOMPARE(finish_reason("max_tokens"), std::string("length"));
        QCOMPARE(finish_reason("context_full"), std::string("length"));
        QCOMPARE(finish_reason("stop_string"), std::string("stop"));

        const Json first = event_json(first_chunk(head, r));
        QCOMPARE(first["object"].get<std::string>(), std::string("chat.completion.chunk"));
        QCOMPARE(first["choices"][0]["delta"]["role"].get<std::string>(), std::string("assistant"));
        QVERIFY(first["choices"][0]["finish_reason"].is_null());
        const Json piece = event_json(text_chunk(head, "4"));
        QCOMPARE(piece["choices"][0]["delta"]["content"].get<std::string>(), std::string("4"));
        QVERIFY(!piece["choices"][0]["delta"].contains("role"));
        const Json last = event_json(final_chunk(head, "stop", r));
        QVERIFY(last["choices"][0]["delta"].empty());
        QCOMPARE(last["choices"][0]["finish_reason"].get<std::string>(), std::string("stop"));
        const Json usage = event_json(usage_chunk(head, {12, 3}));
        QVERIFY(usage["choices"].empty());
        QCOMPARE(usage["usage"]["completion_tokens"].get<int>(), 3);
        QCOMPARE(std::string(done_event), std::string("data: [DONE]\n\n"));

        // A piece that is not valid UTF-8 is written with U+FFFD, not refused.
        QVERIFY(!event_json(text_chunk(head, "\xff")).is_null());
        ReplyHead ch{Endpoint::completions, "cmpl-1", 1, "demo-base"};
        const Json c = event_json(text_chunk(ch, "x"));
        QCOMPARE(c["object"].get<std::string>(), std::string("text_completion"));
        QCOMPARE(c["choices"][0]["text"].get<std::string>(), std::string("x"));
    }

    void engineOutcomesBecomeStatuses() {
        RequestOutcome o;
        o.error = "queue full";
        o.error_kind = ErrorKind::busy;
        QCOMPARE(outcome_error(o).status, 429);
        o.error_kind = ErrorKind::not_found;
        QCOMPARE(outcome_error(o).status, 404);
        o.error_kind = ErrorKind::invalid_argument;
        QCOMPARE(outcome_error(o).status, 400);
        o.error_kind = ErrorKind::out_of_memory;
        QCOMPARE(outcome_error(o).status, 503);
        o.cancelled = true;
        QCOMPARE(outcome_error(o).status, 503);
    }
};

QTEST_GUILESS_MAIN(TestApiProtocol)
#include "test_api_protocol.moc"
