// The local API server (meswitch/api_server.h) in-process on a free loopback port, over an
// Engine serving the demo pack installed into a temporary home (CPU, 2 threads): the model
// list, chat and text completions streamed and not (the same greedy answer and usage either
// way), routing with "auto", and every error status with OpenAI's error JSON: malformed and
// hostile bodies (400 naming the field), API keys (401), unknown models and paths (404), a 50 MB
// body (413), a full queue (429) and an engine not ready (503). Nothing waits on a sleep: a
// job holding the engine thread keeps a request queued where a test needs it, and a FIFO for
// config.json keeps an engine loading. Slow and vanishing clients and the load test:
// test_api_server_load.cpp.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>

#include "api_test_support.h"
#include "meswitch/error.h"

using namespace meswitch;
using namespace meswitch::apitest;

class TestApiServer : public QObject, DemoFixture {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (!fs::exists(kPack / "pack.json"))
            QSKIP("the demo pack (resources/demo/pack) is missing");
        QVERIFY(m_home.isValid());
        start_demo();
        QVERIFY(m_port > 0);
    }

    void cleanupTestCase() { stop_demo(); }

    void healthAndModelList() {
        const Reply h = get(m_port, "/health");
        QCOMPARE(h.status, 200);
        QCOMPARE(h.json()["status"], Json("ok"));
        QCOMPARE(h.json()["engine"], Json("ready"));

        const Reply r = get(m_port, "/v1/models");
        QCOMPARE(r.status, 200);
        const Json j = r.json();
        QCOMPARE(j["object"], Json("list"));
        const Json& data = j["data"];
        QCOMPARE(data.size(), std::size_t(5));  // auto, the base, three experts
        QCOMPARE(data[0]["id"], Json("auto"));
        QCOMPARE(data[0]["meswitch"]["kind"], Json("router"));
        QCOMPARE(data[1]["id"], Json("demo-base"));
        QCOMPARE(data[1]["meswitch"]["kind"], Json("base"));
        for (const Json& m : data) {
            QCOMPARE(m["object"], Json("model"));
            QVERIFY(m["created"].is_number_integer());
            QVERIFY(m["owned_by"].is_string());
        }
        const std::map<std::string, std::string> domains = {
            {"demo-arithmetic", "arithmetic"}, {"demo-python", "python"}, {"demo-facts", "facts"}};
        for (const auto& [name, domain] : domains) {
            const std::string& id = name;  // clang 14 cannot capture a structured binding
            const auto it = std::find_if(data.begin(), data.end(),
                                         [&](const Json& m) { return m["id"] == id; });
            QVERIFY2(it != data.end(), name.c_str());
            QCOMPARE((*it)["meswitch"]["kind"], Json("expert"));
            QCOMPARE((*it)["meswitch"]["domain"], Json(domain));
        }

        const Reply one = get(m_port, "/v1/models/demo-facts");
        QCOMPARE(one.status, 200);
        QCOMPARE(one.json()["id"], Json("demo-facts"));
        EXPECT_ERROR(get(m_port, "/v1/models/no-such-model"), 404, "model", "demo-facts");
    }

    // Non-streamed and streamed answers to the same greedy request: the same text, the same
    // finish reason and exactly the same usage.
    void chatCompletionStreamedAndNot() {
        const Json ask = greedy_chat("demo-arithmetic", "What is 17+25?");
        const Reply r = post_chat(m_port, ask);
        QVERIFY2(r.status == 200, r.body.c_str());
        const Json j = r.json();
        QCOMPARE(j["object"], Json("chat.completion"));
        QVERIFY(j["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
        QCOMPARE(j["model"], Json("demo-arithmetic"));
        const Json& choice = j["choices"][0];
        QCOMPARE(choice["message"]["role"], Json("assistant"));
        const std::string text = choice["message"]["content"];
        QVERIFY2(text.find("42") != std::string::npos, text.c_str());
        const Json usage = j["usage"];
        const int prompt_tokens = usage["prompt_tokens"];
        const int completion_tokens = usage["completion_tokens"];
        QVERIFY(prompt_tokens > 0);
        QVERIFY(completion_tokens >= 1 && completion_tokens <= 16);
        QCOMPARE(usage["total_tokens"].get<int>(), prompt_tokens + completion_tokens);
        QCOMPARE(choice["finish_reason"], Json(completion_tokens == 16 ? "length" : "stop"));
        QCOMPARE(j["meswitch"]["requested"], Json("demo-arithmetic"));
        QCOMPARE(j["meswitch"]["expert"], Json("demo-arithmetic"));

        Json streamed = ask;
        streamed["stream"] = true;
        streamed["stream_options"] = {{"include_usage", true}};
        const Reply sr = post_chat(m_port, streamed);
        QVERIFY2(sr.status == 200, sr.body.c_str());
        QVERIFY(sr.header("Content-Type").find("text/event-stream") != std::string::npos);
        const Stream s = parse_stream(sr.body, true);
        QVERIFY2(s.problem.empty(), s.problem.c_str());
        QCOMPARE(s.first["choices"][0]["delta"]["role"], Json("assistant"));
        QCOMPARE(s.model, std::string("demo-arithmetic"));
        QCOMPARE(s.text, text);
        QCOMPARE(s.finish, choice["finish_reason"].get<std::string>());
        QCOMPARE(s.usage, usage);
        QVERIFY(s.chunks.back()["choices"].empty());  // the usage chunk comes last

        streamed.erase("stream_options");
        const Stream plain = parse_stream(post_chat(m_port, streamed).body, true);
        QVERIFY2(plain.problem.empty(), plain.problem.c_str());
        QVERIFY(plain.usage.is_null());
        QCOMPARE(plain.text, text);
        QVERIFY(eventually([&] {
            return logged({"POST /v1/chat/completions 200", "demo-arithmetic"});
        }));
    }

    void completionsEndpoint() {
        // The chat template's format written out: the expert completes it with its answer.
        Json ask = {{"model", "demo-arithmetic"},
                    {"prompt", "User: What is 17+25? Assistant:"},
                    {"max_tokens", 8},
                    {"temperature", 0}};
        const Reply r = post(m_port, "/v1/completions", ask.dump());
        QVERIFY2(r.status == 200, r.body.c_str());
        const Json j = r.json();
        QCOMPARE(j["object"], Json("text_completion"));
        QVERIFY(j["id"].get<std::string>().rfind("cmpl-", 0) == 0);
        QCOMPARE(j["model"], Json("demo-arithmetic"));
        QVERIFY2(j["choices"][0]["text"].get<std::string>().find("42") != std::string::npos,
                 r.body.c_str());
        const int completion_tokens = j["usage"]["completion_tokens"];
        QVERIFY2(completion_tokens >= 1 && completion_tokens <= 8, r.body.c_str());

        ask["stream"] = true;
        ask["stream_options"] = {{"include_usage", true}};
        const Reply sr = post(m_port, "/v1/completions", ask.dump());
        QCOMPARE(sr.status, 200);
        const Stream s = parse_stream(sr.body, false);
        QVERIFY2(s.problem.empty(), s.problem.c_str());
        QCOMPARE(s.text, j["choices"][0]["text"].get<std::string>());
        QCOMPARE(s.usage, j["usage"]);
    }

    void autoRoutesToTheArithmeticExpert() {
        const Reply r = post_chat(m_port, greedy_chat("auto", "What is 17+25?"));
        QVERIFY2(r.status == 200, r.body.c_str());
        const Json j = r.json();
        QCOMPARE(j["model"], Json("demo-arithmetic"));
        const Json& m = j["meswitch"];
        QCOMPARE(m["requested"], Json("auto"));
        QCOMPARE(m["expert"], Json("demo-arithmetic"));
        QCOMPARE(m["domain"], Json("arithmetic"));
        const double confidence = m["confidence"];
        QVERIFY2(confidence > 0.5 && confidence <= 1.0, m.dump().c_str());
        QCOMPARE(m["alternatives"].size(), std::size_t(2));
        for (const Json& a : m["alternatives"]) {
            QVERIFY(a["domain"] == "python" || a["domain"] == "facts");
            QVERIFY(a["confidence"].get<double>() <= confidence);
        }
        QVERIFY(j["choices"][0]["message"]["content"].get<std::string>().find("42") !=
                std::string::npos);

        // No model at all means "auto"; a stream carries the routing in its first chunk.
        Json ask = greedy_chat("auto", "What is 17+25?");
        ask.erase("model");
        ask["stream"] = true;
        const Stream s = parse_stream(post_chat(m_port, ask).body, true);
        QVERIFY2(s.problem.empty(), s.problem.c_str());
        QCOMPARE(s.model, std::string("demo-arithmetic"));
        QCOMPARE(s.first["meswitch"]["expert"], Json("demo-arithmetic"));
        QCOMPARE(s.first["meswitch"]["requested"], Json("auto"));
        QVERIFY(eventually([&] {
            return logged({"POST /v1/chat/completions 200", "demo-arithmetic", "routed"});
        }));
    }

    // Malformed bodies and fields: 400 with OpenAI's error JSON naming the field.
    void badRequests_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("param");
        QTest::addColumn<QString>("word");
        const QString chat = "/v1/chat/completions";
        const QString comp = "/v1/completions";
        const QByteArray hi = R"("messages": [{"role": "user", "content": "hi"}])";
        auto row = [&](const char* name, const QString& path, const QByteArray& body,
                       const char* param, const char* word) {
            QTest::newRow(name) << path << body << QString(param) << QString(word);
        };
        row("malformed", chat, "{\"messages\": [}", "", "");
        // (No raw string here: moc loses its way in one with unbalanced brackets.)
        row("truncated", chat, "{\"model\": \"auto\", \"messages\": [{\"role\": \"user\", \"cont",
            "", "");
        row("empty body", chat, "", "", "");
        row("not an object", chat, "[1, 2]", "", "object");
        row("nested 10000 deep", chat, QByteArray(10000, '[') + QByteArray(10000, ']'), "", "");
        row("invalid UTF-8", chat,
            "{\"messages\": [{\"role\": \"user\", \"content\": \"caf\xc3\x28 \xff\xfe\"}]}", "",
            "");
        row("messages a string", chat, R"({"messages": "hi"})", "messages", "messages");
        row("messages missing", chat, R"({"model": "auto"})", "messages", "messages");
        row("content a number", chat, R"({"messages": [{"role": "user", "content": 5}]})",
            "messages[0].content", "messages[0].content");
        row("unknown role", chat, R"({"messages": [{"role": "wizard", "content": "x"}]})",
            "messages[0].role", "wizard");
        row("model a number", chat, "{\"model\": 7, " + hi + "}", "model", "model");
        row("temperature a string", chat, "{\"temperature\": \"hot\", " + hi + "}", "temperature",
            "temperature");
        row("negative temperature", chat, "{\"temperature\": -0.5, " + hi + "}", "temperature",
            "temperature");
        row("max_tokens a float", chat, "{\"max_tokens\": 1.5, " + hi + "}", "max_tokens",
            "integer");
        row("max_tokens zero", chat, "{\"max_tokens\": 0, " + hi + "}", "max_tokens", "max_tokens");
        row("max_tokens 1e30", chat, "{\"max_tokens\": 1e30, " + hi + "}", "max_tokens",
            "max_tokens");
        // Above the model's context (128 tokens): refused, saying why. (Up to the context
        // is answered until the context is full, finish_reason "length": maxTokensUpToTheContext.)
        row("max_tokens huge", chat, "{\"max_tokens\": 1000000000, " + hi + "}", "max_tokens",
            "context");
        row("max_tokens past int64", chat,
            "{\"max_tokens\": 99999999999999999999999999, " + hi + "}", "max_tokens", "max_tokens");
        row("stream a string", chat, "{\"stream\": \"yes\", " + hi + "}", "stream", "stream");
        row("stop a number", chat, "{\"stop\": 5, " + hi + "}", "stop", "stop");
        row("top_p above 1", chat, "{\"top_p\": 2, " + hi + "}", "top_p", "top_p");
        row("n 2", chat, "{\"n\": 2, " + hi + "}", "n", "n");
        row("prompt missing", comp, R"({"model": "demo-base"})", "prompt", "prompt");
        row("prompt an object", comp, R"({"prompt": {"text": "x"}})", "prompt", "prompt");
        row("echo", comp, R"({"prompt": "x", "echo": true})", "echo", "echo");
        // 10,000 system messages are not trimmed to the context (only turns are): refused.
        QByteArray many = "{\"messages\": [";
        for (int i = 0; i < 10000; ++i)
            many += QByteArray(i ? "," : "") + R"({"role": "system", "content": "Be brief."})";
        many += "]}";
        row("10000 system messages", chat, many, "messages", "10000");
    }
    void badRequests() {
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(QString, param);
        QFETCH(QString, word);
        const Reply r = post(m_port, path.toStdString(), body.toStdString());
        EXPECT_ERROR(r, 400, param.toStdString(), word.toStdString());
        if (param.isEmpty() && word.isEmpty())
            QCOMPARE(r.json()["error"]["code"], Json("invalid_json"));
    }

    void unknownFieldsAreAccepted() {
        Json ask = greedy_chat("demo-facts", "What is the capital of France?", 8);
        ask["logit_bias"] = Json::object();
        ask["user"] = "someone";
        ask["frobnicate"] = {{"nested", {1, 2, {{"deep", nullptr}}}}};
        ask["messages"][0]["name"] = "alice";
        const Reply r = post_chat(m_port, ask);
        QVERIFY2(r.status == 200, r.body.c_str());
        QCOMPARE(r.json()["model"], Json("demo-facts"));
    }

    // max_tokens up to the model's context (128) is taken; the answer ends when the context
    // is full (prompt + answer), with finish_reason "length" if it gets there.
    void maxTokensUpToTheContext() {
        const Reply r =
            post_chat(m_port, greedy_chat("demo-python", "Write a function to add", 128));
        QVERIFY2(r.status == 200, r.body.c_str());
        const Json u = r.json()["usage"];
        QVERIFY(u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>() <= 128);
        const std::string finish = r.json()["choices"][0]["finish_reason"];
        QVERIFY(finish == "stop" || finish == "length");
    }

    // 10,000 turns: the context (128 tokens) holds the last ones only, so the older turns are
    // left out and the request is answered (a clear 400 naming messages would pass too).
    void tenThousandMessages() {
        Json messages = Json::array();
        for (int i = 0; i < 9999; ++i)
            messages.push_back({{"role", i % 2 ? "assistant" : "user"},
                                {"content", i % 2 ? "2" : "What is 1+1?"}});
        messages.push_back({{"role", "user"}, {"content", "What is 17+25?"}});
        const Reply r = post_chat(m_port, {{"model", "demo-arithmetic"},
                                           {"messages", messages},
                                           {"max_tokens", 8},
                                           {"temperature", 0}});
        if (r.status == 400) {
            EXPECT_ERROR(r, 400, "messages");
        } else {
            QVERIFY2(r.status == 200, r.body.substr(0, 300).c_str());
            QVERIFY(r.json()["choices"][0]["message"]["content"].is_string());
            QVERIFY(r.json()["usage"]["prompt_tokens"].get<int>() <= 128);
        }
        QCOMPARE(get(m_port, "/health").status, 200);
    }

    void apiKey() {
        ApiServerOptions o = options();
        o.api_key = "s3cret-key";
        ApiServer server(*m_engine, o);
        server.start();
        const int port = server.port();
        const Reply missing = get(port, "/v1/models");
        EXPECT_ERROR(missing, 401, "", "Authorization");
        QCOMPARE(missing.header("WWW-Authenticate"), std::string("Bearer"));
        EXPECT_ERROR(get(port, "/v1/models", {{"Authorization", "Bearer s3cret-kez"}}), 401, "",
                     "wrong");
        EXPECT_ERROR(get(port, "/v1/models", {{"Authorization", "s3cret-key"}}), 401);
        EXPECT_ERROR(post_chat(port, greedy_chat("auto", "What is 1+1?", 4)), 401);
        EXPECT_ERROR(post(port, "/v1/no-such-path", "{}"), 401);  // before the path is looked at
        const httplib::Headers key = {{"Authorization", "Bearer s3cret-key"}};
        QCOMPARE(get(port, "/v1/models", key).status, 200);
        const Reply ok = post_chat(port, greedy_chat("auto", "What is 1+1?", 4), key);
        QVERIFY2(ok.status == 200, ok.body.c_str());
    }

    void notFound() {
        const Reply r = post_chat(m_port, greedy_chat("gpt-4o", "hi"));
        EXPECT_ERROR(r, 404, "model", "gpt-4o");
        QCOMPARE(r.json()["error"]["code"], Json("model_not_found"));
        const std::string message = r.json()["error"]["message"];
        for (const char* known :
             {"auto", "demo-base", "demo-arithmetic", "demo-python", "demo-facts"})
            QVERIFY2(message.find(known) != std::string::npos, message.c_str());
        EXPECT_ERROR(post(m_port, "/v1/completions", R"({"model": "nope", "prompt": "x"})"), 404,
                     "model");
        EXPECT_ERROR(get(m_port, "/v2/nothing"), 404, "", "/v2/nothing");
        EXPECT_ERROR(post(m_port, "/v1/embeddings", "{}"), 404, "", "/v1/chat/completions");
    }

    void bodyTooLarge() {
        // 50 MB through a normal client: refused on its Content-Length; the client still reads
        // the answer (the server drains what it sends, then closes).
        const std::string big(50u << 20, 'x');
        EXPECT_ERROR(post(m_port, "/v1/chat/completions", big), 413, "", "bytes");
        // The headers alone are enough: the answer comes before any of the body.
        RawClient c(m_port);
        QVERIFY(c.connected());
        QVERIFY(c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       std::to_string(50u << 20) + "\r\n\r\n"));
        const std::string& head = c.read_until("}}", 30s);
        QVERIFY2(head.rfind("HTTP/1.1 413", 0) == 0, head.c_str());
        QVERIFY(head.find("request_too_large") != std::string::npos);
        // 50 MB without a length (chunked): refused while reading.
        auto cl = client(m_port);
        std::size_t sent = 0;
        const Reply chunked = to_reply(cl.Post(
            "/v1/chat/completions", {},
            [&](std::size_t, httplib::DataSink& sink) {
                if (sent >= big.size()) {
                    sink.done();
                    return true;
                }
                const std::size_t n = std::min<std::size_t>(1 << 20, big.size() - sent);
                sent += n;
                return sink.write(big.data(), n);
            },
            "application/json"));
        EXPECT_ERROR(chunked, 413);
        QCOMPARE(get(m_port, "/health").status, 200);
    }

    // max_queue 1 with a request held queued in the engine: the next one is refused with 429
    // (non-streamed and streamed alike: a stream's status waits for its first sign of life).
    void queueFullIs429() {
        ApiServerOptions o = options();
        o.max_queue = 1;
        ApiServer server(*m_engine, o);
        server.start();
        const int port = server.port();
        Reply first;
        std::jthread t;  // declared before the gate: on a failure, released first, then joined
        {
            EngineGate gate(*m_engine);
            QVERIFY(gate.holding());
            t = std::jthread(
                [&] { first = post_chat(port, greedy_chat("demo-arithmetic", "1+1?", 4)); });
            QVERIFY(eventually([&] { return server.stats().active == 1; }));
            const Reply refused = post_chat(port, greedy_chat("demo-arithmetic", "2+2?", 4));
            EXPECT_ERROR(refused, 429, "", "queue");
            QCOMPARE(refused.json()["error"]["type"], Json("rate_limit_error"));
            QCOMPARE(refused.json()["error"]["code"], Json("queue_full"));
            QCOMPARE(refused.header("Retry-After"), std::string("1"));
            Json streamed = greedy_chat("auto", "3+3?", 4);
            streamed["stream"] = true;
            EXPECT_ERROR(post_chat(port, streamed), 429);
            QCOMPARE(server.stats().refused, std::uint64_t(2));
            gate.release();
            t.join();
        }
        QVERIFY2(first.status == 200, first.body.c_str());
        QVERIFY(eventually([&] { return server.stats().active == 0; }));
        QCOMPARE(post_chat(port, greedy_chat("demo-arithmetic", "2+2?", 4)).status, 200);
    }

    // The engine's own queue limit (EngineOptions::max_queue, Error(busy)) is a 429 too.
    void engineQueueFullIs429() {
        EngineOptions eo;
        eo.catalog = m_catalog;
        eo.device = "cpu";
        eo.threads = 1;
        eo.max_queue = 1;
        Engine engine(eo);
        engine.wait_ready();
        ApiServer server(engine, options());  // no max_queue of its own
        server.start();
        const int port = server.port();
        Reply first;
        std::jthread t;  // declared before the gate: on a failure, released first, then joined
        {
            EngineGate gate(engine);
            QVERIFY(gate.holding());
            t = std::jthread(
                [&] { first = post_chat(port, greedy_chat("demo-arithmetic", "1+1?", 4)); });
            QVERIFY(eventually([&] { return server.stats().active == 1; }));
            const Reply refused = post_chat(port, greedy_chat("demo-arithmetic", "2+2?", 4));
            EXPECT_ERROR(refused, 429);
            QCOMPARE(refused.json()["error"]["code"], Json("queue_full"));
            QCOMPARE(refused.header("Retry-After"), std::string("1"));
            gate.release();
            t.join();
        }
        QVERIFY2(first.status == 200, first.body.c_str());
        QCOMPARE(server.stats().refused, std::uint64_t(1));
    }

    // 503 before the engine is ready: its base's config.json is a FIFO, so the engine stays
    // "loading" until the test writes the file; then the same server answers. An engine whose
    // base cannot load answers 503 for good.
    void notReadyIs503() {
        const fs::path base = fs::path(m_home.path().toStdString()) / "held-base";
        fs::create_directories(base);
        for (const char* f : {"model.safetensors", "tokenizer.json", "tokenizer_config.json"})
            fs::create_symlink(kPack / "base" / f, base / f);
        QCOMPARE(::mkfifo((base / "config.json").c_str(), 0600), 0);
        std::string config;
        {
            std::ifstream in(kPack / "base" / "config.json");
            config.assign(std::istreambuf_iterator<char>(in), {});
        }
        EngineOptions eo;
        eo.base = base;
        eo.device = "cpu";
        eo.threads = 1;
        Engine engine(eo);
        bool fed = false;
        auto feed = [&] {  // blocks until the engine opens the FIFO, which it does at once
            if (fed) return;
            fed = true;
            const int fd = ::open((base / "config.json").c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0) return;
            const ssize_t n = ::write(fd, config.data(), config.size());
            ::close(fd);
            QCOMPARE(n, ssize_t(config.size()));
        };
        struct Feeder {  // the engine is never left blocked on the FIFO (its destructor joins)
            std::function<void()> f;
            ~Feeder() { f(); }
        } feeder{feed};
        ApiServerOptions o = options();
        o.catalog.clear();  // the model list is the base alone, "base"
        ApiServer server(engine, o);
        server.start();
        const int port = server.port();
        QCOMPARE(engine.state(), std::string("loading"));
        const Reply health = get(port, "/health");
        QCOMPARE(health.status, 503);
        QCOMPARE(health.json()["engine"], Json("loading"));
        const Reply r = post_chat(port, greedy_chat("base", "hi", 4));
        EXPECT_ERROR(r, 503, "", "loading");
        QCOMPARE(r.json()["error"]["code"], Json("engine_unavailable"));
        QCOMPARE(r.header("Retry-After"), std::string("1"));
        EXPECT_ERROR(post(port, "/v1/completions", R"({"prompt": "x"})"), 503);
        feed();
        engine.wait_ready();
        QCOMPARE(get(port, "/health").status, 200);
        const Reply ok = post_chat(port, greedy_chat("base", "hi", 4));
        QVERIFY2(ok.status == 200, ok.body.c_str());
        QVERIFY2(ok.json()["model"] == "base", ok.body.c_str());
        QCOMPARE(server.stats().refused, std::uint64_t(2));

        EngineOptions broken = eo;
        broken.base = base.parent_path() / "no-such-base";
        Engine failed(broken);
        QVERIFY_THROWS_EXCEPTION(Error, failed.wait_ready());
        ApiServer down(failed, o);
        down.start();
        QCOMPARE(get(down.port(), "/health").status, 503);
        EXPECT_ERROR(post_chat(down.port(), greedy_chat("base", "hi", 4)), 503, "",
                     "not available");
    }

    // A server stopped right after it started (a Studio switch flipped on and off at once)
    // stops: httplib's stop() does nothing before its accept loop runs, so start() returns
    // only once it does.
    void stopRightAfterStart() {
        for (int i = 0; i < 50; ++i) {
            ApiServer server(*m_engine, options());
            server.start();
            QVERIFY(server.port() > 0);
            server.stop();
            QVERIFY(!server.running());
        }
    }

    // The port is this server's alone: a second server (another `meswitch serve`, the Studio's
    // switch) cannot bind it and says so, instead of sharing its connections (SO_REUSEPORT).
    void secondServerOnTheSamePortIsRefused() {
        ApiServerOptions o = options();
        o.port = m_port;
        ApiServer second(*m_engine, o);
        try {
            second.start();
            QFAIL("a second server started on the first one's port");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::io);
            QVERIFY2(std::string(e.what()).find(std::to_string(m_port)) != std::string::npos,
                     e.what());
        }
        QCOMPARE(get(m_port, "/health").status, 200);
    }
};

QTEST_GUILESS_MAIN(TestApiServer)
#include "test_api_server.moc"
