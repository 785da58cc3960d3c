// The local API server under clients that misbehave or crowd it, in-process over the demo pack
// (api_test_support.h): slow-loris requests (408 while others are served), clients that leave while
// queued or after their stream began (cancelled in the engine), stop() with a stream in flight, and
// a bounded load test (64 streaming clients x 5 requests: all answered or refused with 429/503
// JSON, memory growth bounded; throughput and latencies printed, never asserted). Where a request
// must stay in the engine, a job or a routing callback holds the engine thread; the tests wait on
// the server's stats().
#include <algorithm>
#include <atomic>
#include <functional>

#include "api_test_support.h"

using namespace meswitch;
using namespace meswitch::apitest;

class TestApiServerLoad : public QObject, DemoFixture {
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

    // Slow-loris: requests dribbled one byte per 50 ms (request line, headers, body) get 408
    // with the error JSON once read_timeout_ms (800 ms) has passed since their first byte,
    // while another client is served normally meanwhile.
    void slowClientsGet408() {
        ApiServerOptions o = options();
        o.read_timeout_ms = 800;
        ApiServer server(*m_engine, o);
        server.start();
        const int port = server.port();
        struct Loris {
            std::string head;      // sent at once
            std::string dribbled;  // then one byte per 50 ms (repeated)
            std::string got;
            std::atomic<int> sent{0};
        };
        const std::string body = R"({"messages": [{"role": "user", "content": "hi"}]})";
        Loris lorises[3];
        lorises[0].dribbled = "POST /v1/chat/completions HTTP/1.1\r\n";
        lorises[1].head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n";
        lorises[1].dribbled = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        lorises[2].head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n";
        lorises[2].dribbled = body;
        std::vector<std::jthread> threads;
        for (Loris& l : lorises)
            threads.emplace_back([&l, port] {
                RawClient c(port);
                if (!c.connected() || !c.send(l.head)) return;
                const auto until = Clock::now() + 30s;  // the server answers long before
                for (std::size_t i = 0; !c.readable() && Clock::now() < until; ++i) {
                    if (!c.send(std::string(1, l.dribbled[i % l.dribbled.size()]))) break;
                    ++l.sent;
                    std::this_thread::sleep_for(50ms);  // the attack's pace, not a wait
                }
                l.got = c.read_until("", 30s);
            });
        for (Loris& l : lorises) QVERIFY(eventually([&] { return l.sent >= 3; }));
        const Reply ok = post_chat(port, greedy_chat("demo-arithmetic", "What is 17+25?", 8));
        QVERIFY2(ok.status == 200, ok.body.c_str());
        QCOMPARE(get(port, "/health").status, 200);
        for (auto& t : threads) t.join();
        for (const Loris& l : lorises) {
            QVERIFY2(l.got.rfind("HTTP/1.1 408", 0) == 0,
                     (std::to_string(&l - lorises) + ": " + l.got).c_str());
            const auto json = l.got.find("\r\n\r\n");
            QVERIFY(json != std::string::npos);
            Reply as;
            as.status = 408;
            as.headers.emplace("Content-Type", "application/json");
            as.body = l.got.substr(json + 4);
            EXPECT_ERROR(as, 408, "", "800 ms");
            QCOMPARE(as.json()["error"]["code"], Json("request_timeout"));
        }
    }

    // A client that leaves while its request waits in the engine: cancelled there.
    void clientGoneWhileQueuedIsCancelled() {
        const ApiServerStats before = m_server->stats();
        {
            EngineGate gate(*m_engine);
            RawClient c(m_port);
            QVERIFY(c.send(raw_post("/v1/chat/completions",
                                    greedy_chat("demo-facts", "Capital of Italy?", 64).dump())));
            QVERIFY(eventually([&] { return m_server->stats().active == 1; }));
            c.close();
            QVERIFY(
                eventually([&] { return m_server->stats().cancelled == before.cancelled + 1; }));
        }
        QVERIFY(eventually([&] { return m_server->stats().active == 0; }));
        QCOMPARE(m_server->stats().completions, before.completions);
        // 499, nginx's "client closed request", for the log alone.
        QVERIFY(eventually([&] {
            return logged({" 499 ", "cancelled: the client went away"}) == 1;
        }));
    }

    // A client that leaves after its stream began is cancelled in the engine: right after the
    // status and the first event, or after its first text chunk. Another request holds the
    // engine thread where the stream cannot have ended yet: in its routing callback (admitted
    // right after the stream's request was routed: no token yet), or in its second text
    // callback (two steps: the stream's greedy answer is longer than that).
    void clientGoneMidStreamIsCancelled_data() {
        QTest::addColumn<bool>("afterText");
        QTest::newRow("after the first event") << false;
        QTest::newRow("after a text chunk") << true;
    }
    void clientGoneMidStreamIsCancelled() {
        QFETCH(bool, afterText);
        const ApiServerStats before = m_server->stats();
        const std::size_t gone = logged({" 200 ", "cancelled: the client went away"});
        struct Hold {
            std::mutex m;
            std::condition_variable cv;
            bool in = false, open = false, finished = false;
            int pieces = 0;
            void wait_here() {
                std::unique_lock lock(m);
                in = true;
                cv.notify_all();
                cv.wait(lock, [&] { return open; });
            }
        };
        auto hold = std::make_shared<Hold>();
        struct Opener {  // on a failure too: the engine is never left held
            std::shared_ptr<Hold> h;
            void open() {
                {
                    std::lock_guard lock(h->m);
                    h->open = true;
                }
                h->cv.notify_all();
            }
            ~Opener() { open(); }
        } opener{hold};
        {
            EngineGate gate(*m_engine);
            Json ask = afterText ? greedy_chat("demo-python", "Write a function that doubles x", 64)
                                 : greedy_chat("auto", "What is 17+25?", 64);
            ask["stream"] = true;
            RawClient c(m_port);
            QVERIFY(c.send(raw_post("/v1/chat/completions", ask.dump())));
            QVERIFY(eventually([&] { return m_server->stats().active == 1; }));
            // Queued after the stream's request: admitted with it when the gate opens.
            GenerateRequest other;
            RequestCallbacks cb;
            if (afterText) {
                other.prompt = "Once upon a time";
                other.options.max_tokens = 16;
                other.options.stop_on_eos = false;
                cb.on_text = [hold](std::string_view) {
                    bool second;
                    {
                        std::lock_guard lock(hold->m);
                        second = ++hold->pieces == 2;
                    }
                    if (second) hold->wait_here();
                };
            } else {
                other.messages = {{"user", "What is 2+2?"}};
                other.expert = "auto";
                other.options.max_tokens = 4;
                cb.on_route = [hold](const RouteResult&) { hold->wait_here(); };
            }
            cb.on_finished = [hold](const RequestOutcome&) {
                std::lock_guard lock(hold->m);
                hold->finished = true;
                hold->cv.notify_all();
            };
            m_engine->generate(other, cb);
            gate.release();
            QVERIFY(eventually([&] {
                std::lock_guard lock(hold->m);
                return hold->in;
            }));
            // The status, the headers and the first event (it ends "}\n\n"; no header does),
            // then the first text chunk.
            std::size_t first = c.read_until("}\n\n", 60s).find("}\n\n");
            QVERIFY2(first != std::string::npos, c.read_until("", 0ms).c_str());
            const std::string& got =
                afterText ? c.read_until("}\n\n", 60s, first + 3) : c.read_until("", 0ms);
            QVERIFY2(got.rfind("HTTP/1.1 200", 0) == 0, got.c_str());
            QVERIFY2(got.find("data: {") != std::string::npos, got.c_str());
            if (afterText) {
                const auto second = got.find("data: ", first);
                QVERIFY2(second != std::string::npos, got.c_str());
                QVERIFY2(got.find("\"delta\":{\"content\":\"", second) != std::string::npos,
                         got.c_str());
                QVERIFY2(got.find("[DONE]") == std::string::npos, got.c_str());
            }
            c.close();
            QVERIFY(
                eventually([&] { return m_server->stats().cancelled == before.cancelled + 1; }));
            QCOMPARE(m_server->stats().active, std::uint64_t(1));  // the engine is still held
            opener.open();
        }
        QVERIFY(eventually([&] { return m_server->stats().active == 0; }));
        QVERIFY(eventually([&] {
            std::lock_guard lock(hold->m);
            return hold->finished;
        }));
        QCOMPARE(m_server->stats().completions, before.completions);
        QVERIFY(eventually([&] {
            return logged({" 200 ", "cancelled: the client went away"}) == gone + 1;
        }));
    }

    // stop() with a stream in flight: the stream's request is cancelled in the engine, stop()
    // waits for it and returns, the client's connection ends without [DONE].
    void stopCancelsAStreamInFlight() {
        ApiServerOptions o = options();
        ApiServer server(*m_engine, o);
        server.start();
        struct Hold {
            std::mutex m;
            std::condition_variable cv;
            bool in = false, open = false;
        };
        auto hold = std::make_shared<Hold>();
        auto open = [hold] {
            {
                std::lock_guard lock(hold->m);
                hold->open = true;
            }
            hold->cv.notify_all();
        };
        struct Opener {
            std::function<void()> f;
            ~Opener() { f(); }
        } opener{open};
        RawClient c(server.port());
        std::jthread stopper;
        {
            EngineGate gate(*m_engine);
            Json ask = greedy_chat("auto", "What is 17+25?", 64);
            ask["stream"] = true;
            QVERIFY(c.send(raw_post("/v1/chat/completions", ask.dump())));
            QVERIFY(eventually([&] { return server.stats().active == 1; }));
            GenerateRequest other;  // routed right after the stream's request, and held there
            other.messages = {{"user", "What is 2+2?"}};
            other.expert = "auto";
            other.options.max_tokens = 4;
            RequestCallbacks cb;
            cb.on_route = [hold](const RouteResult&) {
                std::unique_lock lock(hold->m);
                hold->in = true;
                hold->cv.notify_all();
                hold->cv.wait(lock, [&] { return hold->open; });
            };
            m_engine->generate(other, cb);
        }
        QVERIFY(eventually([&] {
            std::lock_guard lock(hold->m);
            return hold->in;
        }));
        QVERIFY(c.read_until("}\n\n", 60s).rfind("HTTP/1.1 200", 0) == 0);
        stopper = std::jthread([&] { server.stop(); });
        // The stream sees the server stopping and cancels its request; only then may the
        // engine go on (it drops the request).
        QVERIFY(eventually([&] { return server.stats().cancelled == 1; }));
        QVERIFY(!server.running());
        open();
        stopper.join();
        const std::string& got = c.read_until("", 30s);
        QVERIFY(c.closed_by_server());
        QVERIFY2(got.find("[DONE]") == std::string::npos, got.c_str());
        QCOMPARE(server.stats().active, std::uint64_t(0));
        QCOMPARE(server.stats().cancelled, std::uint64_t(1));
        QCOMPARE(server.stats().completions, std::uint64_t(0));
        QCOMPARE(logged({" 200 ", "cancelled: the server is stopping"}), std::size_t(1));
        m_engine->wait_idle();
    }

    // 64 streaming clients x 5 requests (mixed experts, the base and "auto", 8 tokens each):
    // every request answered in full or refused with 429/503 JSON; the memory growth bounded.
    void boundedLoad() {
        ApiServerOptions o = options();
        o.threads = 64;
        o.log = [](std::string_view) {};
        ApiServer server(*m_engine, o);
        server.start();
        const int port = server.port();
        constexpr int kClients = 64;
        constexpr int kRequests = 5;
        constexpr std::int64_t kRssBoundKib = 256 << 10;
        const char* const models[] = {"auto", "demo-arithmetic", "demo-python", "demo-facts",
                                      "demo-base"};
        const char* const prompts[] = {"What is 17+25?", "Write a function that doubles x",
                                       "What is the capital of Spain?", "What is 8+9?",
                                       "Which language is spoken in Brazil?"};
        struct Result {
            std::vector<double> latency_ms;
            std::vector<std::string> failures;
            int answered = 0, refused = 0;
            long tokens = 0;
        };
        std::vector<Result> results(kClients);
        const std::int64_t rss_before = rss_kib();
        const auto t0 = Clock::now();
        std::vector<std::thread> threads;
        for (int t = 0; t < kClients; ++t)
            threads.emplace_back([&, t] {
                Result& res = results[t];
                auto c = client(port);
                c.set_keep_alive(true);
                for (int i = 0; i < kRequests; ++i) {
                    const int k = (t + i) % 5;
                    Json ask = {{"model", models[k]},
                                {"messages", user(prompts[(t * 7 + i) % 5])},
                                {"max_tokens", 8},
                                {"stream", true},
                                {"stream_options", {{"include_usage", true}}}};
                    if (t % 2)
                        ask["temperature"] = 0;
                    else
                        ask["seed"] = t * 100 + i;
                    const auto start = Clock::now();
                    const Reply r =
                        to_reply(c.Post("/v1/chat/completions", ask.dump(), "application/json"));
                    res.latency_ms.push_back(
                        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
                    if (r.status == 429 || r.status == 503) {
                        const std::string p = error_problem(r, r.status);
                        if (!p.empty()) res.failures.push_back(p);
                        ++res.refused;
                        continue;
                    }
                    if (r.status != 200) {
                        res.failures.push_back("request " + std::to_string(i) + ": status " +
                                               std::to_string(r.status) + " " + r.error + " " +
                                               r.body.substr(0, 200));
                        continue;
                    }
                    const Stream s = parse_stream(r.body, true);
                    std::string p = s.problem;
                    const int n = s.usage.is_object() ? s.usage.value("completion_tokens", -1) : -1;
                    if (p.empty() && (n < 1 || n > 8)) p = "usage " + s.usage.dump();
                    if (p.empty() && s.finish.empty()) p = "no finish_reason";
                    if (p.empty() && k > 0 && s.model != models[k])
                        p = "answered by " + s.model + " for " + models[k];
                    if (!p.empty()) {
                        res.failures.push_back(p);
                        continue;
                    }
                    ++res.answered;
                    res.tokens += n;
                }
            });
        for (auto& t : threads) t.join();
        const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        const std::int64_t rss_after = rss_kib();
        QVERIFY(eventually([&] { return server.stats().active == 0; }));

        std::vector<double> all;
        int answered = 0, refused = 0;
        long tokens = 0;
        for (const Result& r : results) {
            for (const auto& f : r.failures) qWarning("%s", f.c_str());
            if (!r.failures.empty()) QFAIL(r.failures.front().c_str());
            all.insert(all.end(), r.latency_ms.begin(), r.latency_ms.end());
            answered += r.answered;
            refused += r.refused;
            tokens += r.tokens;
        }
        QCOMPARE(answered + refused, kClients * kRequests);
        QVERIFY(answered > 0);
        std::sort(all.begin(), all.end());
        const auto pct = [&](double q) {
            return all[std::min(all.size() - 1, static_cast<std::size_t>(q * all.size()))];
        };
        qInfo(
            "load: %d clients x %d streamed requests in %.2f s: %d answered, %d refused; "
            "%.1f requests/s, %.1f tokens/s; latency p50 %.0f ms, p99 %.0f ms; RSS %lld -> "
            "%lld KiB (%+lld KiB)",
            kClients, kRequests, seconds, answered, refused, answered / seconds, tokens / seconds,
            pct(0.50), pct(0.99), static_cast<long long>(rss_before),
            static_cast<long long>(rss_after), static_cast<long long>(rss_after - rss_before));
        QVERIFY2(rss_after - rss_before < kRssBoundKib,
                 qPrintable(QStringLiteral("RSS grew by %1 KiB").arg(rss_after - rss_before)));
        const ApiServerStats st = server.stats();
        QCOMPARE(st.completions, std::uint64_t(answered));
        QCOMPARE(st.errors, std::uint64_t(0));
        QCOMPARE(st.cancelled, std::uint64_t(0));
        QCOMPARE(get(port, "/health").status, 200);
    }
};

QTEST_GUILESS_MAIN(TestApiServerLoad)
#include "test_api_server_load.moc"
