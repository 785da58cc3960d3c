// The engine thread on a tiny generated base with two compressed experts (CPU backend):
// streaming, cancellation (running and queued), requests run in order, a budget too small
// for a delta fails that request with Error(out_of_memory) and the engine stays usable,
// errors fail alone, and shutdown with queued work finishes every request exactly once.
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "meswitch/compress.h"
#include "meswitch/engine.h"
#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"
#include "tiny_model.h"

namespace fs = std::filesystem;
using namespace meswitch;

namespace {

// Collects what the engine reports for one request (callbacks run on the engine thread).
struct Collector {
    std::mutex mutex;
    std::vector<std::string> pieces;
    std::vector<RequestOutcome> outcomes;
    std::atomic<int> finished{0};

    RequestCallbacks callbacks() {
        RequestCallbacks cb;
        cb.on_text = [this](std::string_view p) {
            std::lock_guard lock(mutex);
            pieces.emplace_back(p);
        };
        cb.on_finished = [this](const RequestOutcome& o) {
            std::lock_guard lock(mutex);
            outcomes.push_back(o);
            ++finished;
        };
        return cb;
    }
    std::string text() {
        std::string s;
        for (const auto& p : pieces) s += p;
        return s;
    }
};

GenerateOptions greedy(int max_tokens) {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling.temperature = 0.0f;
    o.stop_on_eos = false;
    return o;
}

}  // namespace

class TestEngine : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    fs::path m_base;
    std::map<std::string, fs::path> m_msd;

    fs::path path(const std::string& sub) const {
        return fs::path(m_dir.path().toStdString()) / sub;
    }

    EngineOptions options(std::uint64_t budget = 64ull << 20) const {
        EngineOptions o;
        o.base = m_base;
        o.device = "cpu";
        o.threads = 1;
        o.delta_budget_bytes = budget;
        o.merge_policy = "auto";  // one request at a time: merged as AppliedDelta merges
        return o;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        test::TinyModelSpec spec;
        spec.dtype = DType::bf16;
        spec.seed = 9;
        m_base = path("base");
        test::write_tiny_model(m_base, spec);
        std::uint64_t seed = 30;
        for (const char* e : {"math", "code"}) {
            test::write_expert_of(m_base, path(e), 0.03, ++seed);
            CompressOptions o;
            o.threads = 1;
            o.out = path(std::string(e) + ".msd");
            compress_expert(m_base, path(e), o);
            m_msd[e] = o.out;
        }
    }

    void streams_the_same_tokens_as_generate() {
        Engine engine(options());
        engine.wait_ready();
        QCOMPARE(engine.state(), std::string("ready"));
        Collector load, c;
        engine.load_expert("math", m_msd.at("math"), load.callbacks());
        GenerateRequest r;
        r.prompt = "Once upon a time";
        r.expert = "math";
        r.options = greedy(12);
        const RequestId id = engine.generate(r, c.callbacks());
        engine.wait_idle();
        QCOMPARE(load.finished.load(), 1);
        QVERIFY2(load.outcomes[0].ok, load.outcomes[0].error.c_str());
        QCOMPARE(c.finished.load(), 1);
        const RequestOutcome& o = c.outcomes[0];
        QVERIFY2(o.ok, o.error.c_str());
        QCOMPARE(o.id, id);
        QCOMPARE(o.expert, std::string("math"));
        QVERIFY(o.uploaded);
        QCOMPARE(o.generation.tokens.size(), std::size_t(12));
        QCOMPARE(o.generation.stop_reason, std::string("max_tokens"));
        QCOMPARE(c.text(), o.generation.text);
        QVERIFY(!c.pieces.empty());

        // The same request through meswitch::generate on base + the delta merged.
        Model model = Model::load(m_base, ModelOptions{1});
        AppliedDelta d(model, m_msd.at("math"), checkpoint_hash(m_base), DeltaMode::merged);
        const Tokenizer tok = Tokenizer::from_folder(m_base);
        const GenerateResult want = generate(model, tok, tok.encode(r.prompt), r.options);
        QCOMPARE(o.generation.tokens, want.tokens);

        const PoolStatus s = engine.status();
        QCOMPARE(s.active, std::string("math"));
        QCOMPARE(s.experts.size(), std::size_t(1));
        QVERIFY(s.experts[0].resident);
        QVERIFY(s.base_bytes > 0);
        QVERIFY(s.device.find("CPU") != std::string::npos);
    }

    void cancels_between_tokens() {
        Engine engine(options());
        engine.load_expert("code", m_msd.at("code"));
        Collector c;
        GenerateRequest r;
        r.prompt = "Hello";
        r.expert = "code";
        r.mode = DeltaMode::separate;
        r.options = greedy(200);
        RequestCallbacks cb = c.callbacks();
        std::atomic<RequestId> id{0};
        std::atomic<int> seen{0};
        auto inner = cb.on_text;
        cb.on_text = [&, inner](std::string_view p) {
            inner(p);
            if (++seen != 3) return;
            while (id.load() == 0) std::this_thread::yield();  // generate() has returned
            engine.cancel(id.load());
        };
        id = engine.generate(r, cb);
        engine.wait_idle();
        QCOMPARE(c.finished.load(), 1);
        const RequestOutcome& o = c.outcomes[0];
        QVERIFY(o.cancelled);
        QVERIFY(!o.ok);
        QCOMPARE(o.generation.stop_reason, std::string("cancelled"));
        QVERIFY(o.generation.tokens.size() < 200);
        QVERIFY(seen.load() >= 3);

        // The engine goes on.
        Collector next;
        r.options = greedy(4);
        engine.generate(r, next.callbacks());
        engine.wait_idle();
        QVERIFY2(next.outcomes.at(0).ok, next.outcomes.at(0).error.c_str());
        QCOMPARE(next.outcomes[0].generation.tokens.size(), std::size_t(4));
    }

    void queued_requests_run_in_order() {
        Engine engine(options());
        std::mutex mutex;
        std::vector<RequestId> order;
        auto track = [&] {
            RequestCallbacks cb;
            cb.on_finished = [&](const RequestOutcome& o) {
                std::lock_guard lock(mutex);
                order.push_back(o.id);
                QVERIFY2(o.ok || o.cancelled, o.error.c_str());
            };
            return cb;
        };
        std::vector<RequestId> ids;
        ids.push_back(engine.load_expert("math", m_msd.at("math"), track()));
        ids.push_back(engine.load_expert("code", m_msd.at("code"), track()));
        GenerateRequest r;
        r.prompt = "The cat";
        r.options = greedy(5);
        for (const char* e : {"math", "code", "", "math"}) {
            r.expert = e;
            ids.push_back(engine.generate(r, track()));
        }
        ids.push_back(engine.switch_to("code", DeltaMode::separate, track()));
        // A queued request cancelled before it runs does nothing.
        Collector dropped;
        r.expert = "math";
        r.options = greedy(100);
        const RequestId late = engine.generate(r, dropped.callbacks());
        engine.cancel(late);
        engine.wait_idle();
        QCOMPARE(order, ids);
        QCOMPARE(dropped.finished.load(), 1);
        QVERIFY(dropped.outcomes[0].cancelled);
        QVERIFY(dropped.outcomes[0].generation.tokens.empty());
        const PoolStatus s = engine.status();
        QCOMPARE(s.active, std::string("code"));
        QCOMPARE(s.active_mode, std::string("separate"));
        QCOMPARE(engine.queued(), std::size_t(0));
    }

    void out_of_memory_fails_the_request_and_the_engine_stays_usable() {
        Engine engine(options(256));  // 256 bytes for deltas: none fits
        Collector load, fail, base, ok;
        engine.load_expert("math", m_msd.at("math"), load.callbacks());
        GenerateRequest r;
        r.prompt = "Once";
        r.expert = "math";
        r.options = greedy(3);
        engine.generate(r, fail.callbacks());
        r.expert = "";
        engine.generate(r, base.callbacks());
        engine.set_budget(64ull << 20);
        r.expert = "math";
        engine.generate(r, ok.callbacks());
        engine.wait_idle();
        QVERIFY(load.outcomes.at(0).ok);
        const RequestOutcome& f = fail.outcomes.at(0);
        QVERIFY(!f.ok && !f.cancelled);
        QCOMPARE(f.error_kind, ErrorKind::out_of_memory);
        QVERIFY2(QString::fromStdString(f.error).contains("math"), f.error.c_str());
        QCOMPARE(f.expert, std::string());  // the base is active after the failure
        QVERIFY2(base.outcomes.at(0).ok, base.outcomes[0].error.c_str());
        QVERIFY2(ok.outcomes.at(0).ok, ok.outcomes[0].error.c_str());
        QCOMPARE(ok.outcomes[0].expert, std::string("math"));
    }

    void errors_fail_alone() {
        Engine engine(options());
        Collector missing, unknown, noroute, good;
        engine.load_expert("ghost", path("nowhere.msd"), missing.callbacks());
        GenerateRequest r;
        r.prompt = "Once";
        r.expert = "ghost";
        r.options = greedy(2);
        engine.generate(r, unknown.callbacks());
        r.expert = "auto";
        engine.generate(r, noroute.callbacks());
        r.expert = "";
        engine.generate(r, good.callbacks());
        engine.wait_idle();
        QVERIFY(!missing.outcomes.at(0).ok);
        QVERIFY(QString::fromStdString(missing.outcomes[0].error).contains("nowhere.msd"));
        QCOMPARE(unknown.outcomes.at(0).error_kind, ErrorKind::not_found);
        QVERIFY(QString::fromStdString(noroute.outcomes.at(0).error).contains("catalog"));
        QVERIFY(good.outcomes.at(0).ok);
    }

    void a_bad_base_fails_every_request_with_its_error() {
        EngineOptions o = options();
        o.base = path("no-such-model");
        Engine engine(o);
        QVERIFY_THROWS_EXCEPTION(Error, engine.wait_ready());
        QVERIFY(QString::fromStdString(engine.state()).startsWith("failed: "));
        Collector c;
        engine.switch_to("", DeltaMode::merged, c.callbacks());
        engine.wait_idle();
        QVERIFY(!c.outcomes.at(0).ok);
        QVERIFY(QString::fromStdString(c.outcomes[0].error).contains("no-such-model"));
    }

    void shutdown_finishes_every_request_once() {
        Collector c;
        {
            Engine engine(options());
            engine.load_expert("math", m_msd.at("math"), c.callbacks());
            GenerateRequest r;
            r.prompt = "Once upon";
            r.expert = "math";
            r.options = greedy(200);
            for (int i = 0; i < 5; ++i) engine.generate(r, c.callbacks());
        }  // destroyed with work queued
        QCOMPARE(c.finished.load(), 6);
        int cancelled = 0;
        for (const auto& o : c.outcomes) cancelled += o.cancelled ? 1 : 0;
        QVERIFY(cancelled >= 4);
    }
};

QTEST_GUILESS_MAIN(TestEngine)
#include "test_engine.moc"
