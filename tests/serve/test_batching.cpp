// Continuous batching in the serving engine (CPU backend):
//  - Model::forward_batch gives each sequence exactly (bit for bit) the logits of forward()
//    on it alone, with other sequences of other lengths in the same step;
//  - batched serving (max_batch 8) and one request at a time (max_batch 1) generate the same
//    greedy tokens for every request, with several experts mixed in one batch, in place and
//    separate, on a generated bf16 model, the stories260K fixtures and the demo pack (chat
//    messages, automatic routing);
//  - MoE variants answer through the consolidated model (the tiny-mixtral fixture);
//  - a full queue refuses with Error(busy), a cancelled sequence leaves while the others go
//    on, and the next turn of a conversation reuses the first turn's KV cache.
// Steps are made deterministic by holding the engine thread in a job until every request is
// queued; nothing here depends on timing.
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>

#include "meswitch/catalog.h"
#include "meswitch/compress.h"
#include "meswitch/demo.h"
#include "meswitch/engine.h"
#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/import.h"
#include "meswitch/model.h"
#include "meswitch/moe.h"
#include "meswitch/tokenizer.h"
#include "serve/device_backend.h"
#include "serve/host_delta.h"
#include "test_support.h"
#include "tiny_model.h"

namespace fs = std::filesystem;
using namespace meswitch;

namespace {

// Holds the engine thread (a job) until release(): requests queued meanwhile are all
// waiting when the engine next admits, so the first step's batch is known.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    void hold(Engine& engine) {
        engine.run_job([this] {
            std::unique_lock lock(mutex);
            cv.wait(lock, [&] { return open; });
        });
    }
    void release() {
        std::lock_guard lock(mutex);
        open = true;
        cv.notify_all();
    }
};

struct Outcomes {
    std::mutex mutex;
    std::map<RequestId, RequestOutcome> by_id;
    RequestCallbacks callbacks() {
        RequestCallbacks cb;
        cb.on_finished = [this](const RequestOutcome& o) {
            std::lock_guard lock(mutex);
            by_id[o.id] = o;
        };
        return cb;
    }
};

GenerateOptions greedy(int max_tokens) {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling.temperature = 0.0f;
    o.stop_on_eos = false;
    return o;
}

// Runs `requests` on a fresh engine with `max_batch` and returns their outcomes in order.
std::vector<RequestOutcome> serve_all(
    EngineOptions options, int max_batch, const std::vector<GenerateRequest>& requests,
    const std::vector<std::pair<std::string, fs::path>>& experts) {
    options.max_batch = max_batch;
    Engine engine(options);
    for (const auto& [name, msd] : experts) engine.load_expert(name, msd);
    Gate gate;
    gate.hold(engine);
    Outcomes outcomes;
    std::vector<RequestId> ids;
    for (const GenerateRequest& r : requests)
        ids.push_back(engine.generate(r, outcomes.callbacks()));
    gate.release();
    engine.wait_idle();
    std::vector<RequestOutcome> out;
    for (RequestId id : ids) out.push_back(outcomes.by_id.at(id));
    return out;
}

void compare_serving(const std::vector<RequestOutcome>& batched,
                     const std::vector<RequestOutcome>& single, int want_batch) {
    QCOMPARE(batched.size(), single.size());
    int most = 0;
    for (std::size_t i = 0; i < batched.size(); ++i) {
        QVERIFY2(batched[i].ok, batched[i].error.c_str());
        QVERIFY2(single[i].ok, single[i].error.c_str());
        QCOMPARE(batched[i].model, single[i].model);
        QVERIFY(!batched[i].generation.tokens.empty());
        if (batched[i].generation.tokens != single[i].generation.tokens)
            qWarning("request %zu (%s) differs", i, batched[i].model.c_str());
        QCOMPARE(batched[i].generation.tokens, single[i].generation.tokens);
        QCOMPARE(batched[i].generation.text, single[i].generation.text);
        QCOMPARE(single[i].max_batch_seen, 1);
        most = std::max(most, batched[i].max_batch_seen);
    }
    QVERIFY2(most >= want_batch, ("largest batch " + std::to_string(most)).c_str());
}

}  // namespace

class TestBatching : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    fs::path m_base;
    std::vector<std::pair<std::string, fs::path>> m_experts;

    fs::path path(const std::string& sub) const {
        return fs::path(m_dir.path().toStdString()) / sub;
    }
    EngineOptions options() const {
        EngineOptions o;
        o.base = m_base;
        o.device = "cpu";
        o.threads = 2;
        o.delta_budget_bytes = 256ull << 20;
        return o;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        test::TinyModelSpec spec;
        spec.dtype = DType::bf16;
        spec.hidden = 64;
        spec.intermediate = 128;
        spec.seed = 21;
        m_base = path("base");
        test::write_tiny_model(m_base, spec);
        std::uint64_t seed = 50;
        for (const char* e : {"math", "code", "qa"}) {
            test::write_expert_of(m_base, path(e), 0.05, ++seed);
            CompressOptions o;
            o.threads = 2;
            o.out = path(std::string(e) + ".msd");
            compress_expert(m_base, path(e), o);
            m_experts.emplace_back(e, o.out);
        }
    }

    // Sequences of different lengths (prompt chunks of 1, 2, 3, 4, 5, 7 tokens — the three of
    // 4 or more in one gathered GEMM — and decode steps) in one forward_batch: each
    // sequence's logits are forward()'s for it alone, bit for bit.
    void forward_batch_matches_forward() {
        Model model = Model::load(m_base, ModelOptions{2});
        const std::vector<std::vector<std::int32_t>> prompts = {
            {1, 5, 9, 13, 17, 21, 25}, {1, 40},     {1, 77, 78}, {1},
            {1, 60, 61, 62, 63},       {1, 2, 3, 4}};
        std::vector<KvCache> alone, batched;
        for (std::size_t i = 0; i < prompts.size(); ++i) {
            alone.push_back(model.make_cache(64));
            batched.push_back(model.make_cache(64));
        }
        std::vector<std::vector<std::int32_t>> feed = prompts;
        for (int step = 0; step < 6; ++step) {
            std::vector<BatchSequence> batch;
            for (std::size_t i = 0; i < feed.size(); ++i)
                batch.push_back({feed[i], &batched[i], nullptr, false});
            const std::vector<float> all = model.forward_batch(batch);
            const auto vocab = static_cast<std::size_t>(model.config().vocab_size);
            QCOMPARE(all.size(), feed.size() * vocab);
            for (std::size_t i = 0; i < feed.size(); ++i) {
                const std::vector<float> want = model.forward(feed[i], alone[i]);
                const std::vector<float> got(all.begin() + i * vocab,
                                             all.begin() + (i + 1) * vocab);
                QVERIFY2(want == got, ("sequence " + std::to_string(i) + " step " +
                                       std::to_string(step) + " differs")
                                          .c_str());
                const auto next = std::max_element(got.begin(), got.end()) - got.begin();
                feed[i] = {static_cast<std::int32_t>(next)};
            }
        }
        // Two sequences may not share a cache.
        std::vector<BatchSequence> bad = {{prompts[1], &batched[0], nullptr, false},
                                          {prompts[2], &batched[0], nullptr, false}};
        QVERIFY_THROWS_EXCEPTION(Error, model.forward_batch(bad));
    }

    // The CPU backend's batched step with experts: every sequence's logits, bit for bit, are
    // those of a step with it alone (decode rows and prompt chunks of 1-9 tokens mixed over
    // three experts and the base, groups of 1 to 5 rows).
    void forward_batch_with_deltas_is_batch_independent() {
        auto backend = serve::make_cpu_backend(Model::load(m_base, ModelOptions{2}));
        std::vector<std::unique_ptr<serve::DeviceDelta>> deltas;
        for (const auto& [name, msd] : m_experts)
            deltas.push_back(backend->upload(serve::HostDelta::load(msd, name, "")));
        const int count = 11;
        std::vector<std::unique_ptr<serve::DeviceCache>> batched, alone;
        std::vector<std::vector<std::int32_t>> feed;
        std::vector<const serve::DeviceDelta*> who;
        for (int i = 0; i < count; ++i) {
            batched.push_back(backend->make_cache(64));
            alone.push_back(backend->make_cache(64));
            std::vector<std::int32_t> p{1};
            for (int k = 0; k < i % 9; ++k) p.push_back(10 + 7 * i + k);
            feed.push_back(p);
            who.push_back(i % 4 == 3 ? nullptr : deltas[static_cast<std::size_t>(i % 3)].get());
        }
        const auto vocab = static_cast<std::size_t>(backend->config().vocab_size);
        for (int step = 0; step < 4; ++step) {
            std::vector<serve::BatchEntry> entries;
            for (int i = 0; i < count; ++i)
                entries.push_back({feed[i], batched[i].get(), who[i], false});
            const std::vector<float> all = backend->forward_batch(entries);
            for (int i = 0; i < count; ++i) {
                const serve::BatchEntry one[1] = {{feed[i], alone[i].get(), who[i], false}};
                const std::vector<float> want = backend->forward_batch(one);
                const std::vector<float> got(all.begin() + i * vocab,
                                             all.begin() + (i + 1) * vocab);
                QVERIFY2(
                    want == got,
                    ("sequence " + std::to_string(i) + " step " + std::to_string(step)).c_str());
                feed[i] = {static_cast<std::int32_t>(std::max_element(got.begin(), got.end()) -
                                                     got.begin())};
            }
        }
        // An expert changes the logits (the deltas are really added).
        std::vector<std::int32_t> p{1, 2, 3};
        auto c1 = backend->make_cache(8), c2 = backend->make_cache(8);
        const serve::BatchEntry base_only[1] = {{p, c1.get(), nullptr, false}};
        const serve::BatchEntry with[1] = {{p, c2.get(), deltas[0].get(), false}};
        QVERIFY(backend->forward_batch(base_only) != backend->forward_batch(with));
    }

    // Ten requests over the base and three experts, in place and separate: batched and one at
    // a time give the same tokens; the first step batches all of them.
    void batched_equals_one_at_a_time() {
        std::vector<GenerateRequest> requests;
        const char* experts[] = {"math", "code", "qa", "", "math", "qa", "code", "math", "", "qa"};
        for (int i = 0; i < 10; ++i) {
            GenerateRequest r;
            r.prompt = "Request " + std::to_string(i) + (i % 3 ? " about the cat" : " x");
            r.expert = experts[i];
            r.mode = i % 4 == 1 ? DeltaMode::separate : DeltaMode::merged;
            r.options = greedy(12 + i);
            requests.push_back(r);
        }
        const auto batched = serve_all(options(), 8, requests, m_experts);
        const auto single = serve_all(options(), 1, requests, m_experts);
        compare_serving(batched, single, 8);
        QCOMPARE(batched[0].model, std::string("math"));
        QVERIFY(batched[0].weights.find("delta") != std::string::npos);
    }

    // All requests for one expert with merge_policy "auto": the engine merges it in place for
    // the batch; tokens are those of the expert merged, one at a time.
    void one_expert_batches_merged() {
        std::vector<GenerateRequest> requests;
        for (int i = 0; i < 4; ++i) {
            GenerateRequest r;
            r.prompt = "The dog number " + std::to_string(i);
            r.expert = "code";
            r.options = greedy(10);
            requests.push_back(r);
        }
        EngineOptions o = options();
        o.merge_policy = "auto";
        const auto batched = serve_all(o, 4, requests, m_experts);
        const auto single = serve_all(o, 1, requests, m_experts);
        compare_serving(batched, single, 4);
    }

    void stories260k_fixtures() {
        MESWITCH_REQUIRE_FIXTURE(base, "stories260K-hf");
        MESWITCH_REQUIRE_FIXTURE(experts_dir, "stories260K-experts");
        std::vector<std::pair<std::string, fs::path>> experts;
        for (const char* e : {"math", "code", "qa"}) {
            CompressOptions o;
            o.threads = 2;
            o.out = path(std::string("s260k-") + e + ".msd");
            compress_expert(base, experts_dir / e, o);
            experts.emplace_back(e, o.out);
        }
        EngineOptions eo = options();
        eo.base = base;
        std::vector<GenerateRequest> requests;
        const char* names[] = {"math", "code", "qa", "", "math", "qa"};
        for (int i = 0; i < 6; ++i) {
            GenerateRequest r;
            r.prompt = i % 2 ? "Once upon a time" : "Tom had 3 apples and";
            r.prompt += std::string(i, ' ');
            r.expert = names[i];
            r.options = greedy(24);
            r.options.stop_on_bos = true;
            requests.push_back(r);
        }
        compare_serving(serve_all(eo, 6, requests, experts), serve_all(eo, 1, requests, experts),
                        6);
    }

    // The demo pack: chat messages, routing, the experts' deltas as the pack compresses them.
    void demo_pack_chat() {
        const auto dir = find_demo_pack();
        if (!dir) QSKIP("no demo pack in this tree");
        const fs::path home = path("demo-home");
        fs::create_directories(home);
        const fs::path cat_file = home / "catalog.sqlite";
        {
            Catalog cat(cat_file);
            DemoInstallOptions o;
            o.threads = 2;
            install_demo_pack(cat, read_demo_pack(*dir), home, o);
        }
        EngineOptions eo;
        eo.catalog = cat_file;
        eo.device = "cpu";
        eo.threads = 2;
        std::vector<GenerateRequest> requests;
        const std::vector<std::string> questions = {
            "What is 3+4?", "Write a Python function that adds two numbers",
            "What is the capital of France?", "What is 12+30?", "Hello there"};
        for (std::size_t i = 0; i < questions.size(); ++i) {
            GenerateRequest r;
            r.messages = {{"user", questions[i]}};
            r.expert = i == 4 ? "" : "auto";
            r.options = greedy(20);
            r.options.stop_on_eos = true;
            requests.push_back(r);
        }
        const auto batched = serve_all(eo, 5, requests, {});
        const auto single = serve_all(eo, 1, requests, {});
        compare_serving(batched, single, 5);
        for (std::size_t i = 0; i < 4; ++i) {
            QVERIFY(batched[i].route.has_value());
            QVERIFY2(!batched[i].model.empty(), batched[i].model.c_str());
        }
    }

    void moe_variants_through_consolidation() {
        MESWITCH_REQUIRE_FIXTURE(fam, "tiny-mixtral");
        const fs::path cat_file = path("moe-catalog.sqlite");
        std::vector<fs::path> variants;
        {
            Catalog cat(cat_file);
            ImportOptions bo;
            bo.name = "tm-base";
            import_model(cat, fam / "base", bo);
            for (const char* v : {"math", "code", "qa"}) {
                ImportOptions o;
                o.name = std::string("tm-") + v;
                o.base = "tm-base";
                import_model(cat, fam / v, o);
                variants.push_back(fam / v);
            }
            moe::PlanOptions po;
            po.shared_positions = 10;
            moe::ConsolidationPlan plan =
                moe::plan_consolidation(moe::expert_distances(fam / "base", variants), po);
            plan.name = "tm";
            moe::save_plan(cat, plan);
        }
        EngineOptions eo;
        eo.catalog = cat_file;
        eo.base = fam / "base";
        eo.device = "cpu";
        eo.threads = 2;
        std::vector<GenerateRequest> requests;
        for (int i = 0; i < 6; ++i) {
            GenerateRequest r;
            r.prompt = "Once upon a time " + std::to_string(i);
            r.expert = std::string("tm-") + (i % 3 == 0 ? "math" : i % 3 == 1 ? "code" : "qa");
            r.options = greedy(16);
            requests.push_back(r);
        }
        const auto batched = serve_all(eo, 6, requests, {});
        compare_serving(batched, serve_all(eo, 1, requests, {}), 2);

        // Each answer is the consolidated model's for that variant.
        Catalog cat(cat_file);
        const auto plans = moe::list_plans(cat);
        QCOMPARE(plans.size(), std::size_t(1));
        moe::ReconfigurableMoe family(plans[0]);
        const Tokenizer tok = Tokenizer::from_folder(fam / "base");
        for (std::size_t i = 0; i < requests.size(); ++i) {
            QVERIFY2(batched[i].weights.find("consolidated MoE plan") != std::string::npos,
                     batched[i].weights.c_str());
            family.activate(family.variant_index(requests[i].expert.substr(3)));
            const GenerateResult want =
                generate(family.model(), tok, tok.encode(requests[i].prompt), requests[i].options);
            QCOMPARE(batched[i].generation.tokens, want.tokens);
        }
    }

    void full_queue_refuses() {
        EngineOptions o = options();
        o.max_queue = 2;
        Engine engine(o);
        Gate gate;
        gate.hold(engine);
        Outcomes out;
        GenerateRequest r;
        r.prompt = "x";
        r.options = greedy(2);
        std::vector<RequestId> ids;
        for (int i = 0; i < 3; ++i) ids.push_back(engine.generate(r, out.callbacks()));
        {
            std::lock_guard lock(out.mutex);
            QCOMPARE(out.by_id.count(ids[2]), std::size_t(1));  // refused at once
            QCOMPARE(out.by_id.at(ids[2]).error_kind, ErrorKind::busy);
            QVERIFY(!out.by_id.at(ids[2]).ok);
        }
        gate.release();
        engine.wait_idle();
        QVERIFY(out.by_id.at(ids[0]).ok);
        QVERIFY(out.by_id.at(ids[1]).ok);
    }

    // One of three running sequences is cancelled after its third piece; the other two finish.
    void cancel_leaves_the_others_running() {
        Engine engine(options());
        for (const auto& [n, f] : m_experts) engine.load_expert(n, f);
        Gate gate;
        gate.hold(engine);
        Outcomes out;
        std::atomic<RequestId> victim{0};
        std::atomic<int> pieces{0};
        std::vector<RequestId> ids;
        for (int i = 0; i < 3; ++i) {
            GenerateRequest r;
            r.prompt = "Story " + std::to_string(i);
            r.expert = m_experts[static_cast<std::size_t>(i)].first;
            r.options = greedy(40);
            RequestCallbacks cb = out.callbacks();
            if (i == 1)
                cb.on_text = [&](std::string_view) {
                    if (++pieces == 3) engine.cancel(victim.load());
                };
            ids.push_back(engine.generate(r, cb));
            if (i == 1) victim = ids.back();
        }
        gate.release();
        engine.wait_idle();
        QVERIFY(out.by_id.at(ids[1]).cancelled);
        QVERIFY(out.by_id.at(ids[1]).generation.tokens.size() < 40);
        QCOMPARE(out.by_id.at(ids[0]).generation.tokens.size(), std::size_t(40));
        QCOMPARE(out.by_id.at(ids[2]).generation.tokens.size(), std::size_t(40));
    }

    // The next turn of a conversation starts with the first turn's tokens: only the new ones
    // are prefilled.
    void next_turn_reuses_the_cache() {
        Engine engine(options());
        engine.load_expert("qa", m_experts[2].second);
        Outcomes out;
        GenerateRequest r;
        r.messages = {{"user", "Tell me a story about a cat and a dog in the park"}};
        r.expert = "qa";
        r.options = greedy(10);
        const RequestId first = engine.generate(r, out.callbacks());
        engine.wait_idle();
        const RequestOutcome a = out.by_id.at(first);
        QVERIFY2(a.ok, a.error.c_str());
        QCOMPARE(a.reused_tokens, 0);
        r.messages.push_back({"assistant", a.generation.text});
        r.messages.push_back({"user", "And then?"});
        const RequestId second = engine.generate(r, out.callbacks());
        engine.wait_idle();
        const RequestOutcome b = out.by_id.at(second);
        QVERIFY2(b.ok, b.error.c_str());
        QVERIFY2(b.reused_tokens >= 8, std::to_string(b.reused_tokens).c_str());
        QVERIFY(b.reused_tokens < b.generation.prompt_tokens);
    }
};

QTEST_GUILESS_MAIN(TestBatching)
#include "test_batching.moc"
