// The ExpertPool on the CPU backend, with tiny generated bases (f32, bf16, f16) and three
// experts each, compressed with compress_expert:
//  - 1,000 random switches (in place and separate, and back to the base) leave every base
//    weight bit-identical;
//  - both policies give the logits of the expert reconstructed outside the pool:
//      in place  — exactly (max |Δlogit| = 0): the same f32 sum rounded to the same dtype;
//      separate  — within 1e-4 absolute of a reference whose decoder linears hold
//                  W_base + Δ̂ in f32 (the product rounds each activation to 16 bits per
//                  block, see backend/cpu/delta_product.h; the summation order differs),
//                  other tensors rounded to the model's dtype as the pool merges them; and
//                  24 greedy decode steps give the reference's tokens;
//  - least-recently-used eviction under a budget; a budget too small for one delta gives
//    Error(out_of_memory) and the pool stays usable;
//  - the memory estimates.
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <span>

#include "delta/msd/msd_file.h"
#include "delta/quant/packing.h"
#include "io/safetensors.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "meswitch/pool.h"
#include "reconstructed_expert.h"
#include "serve/device_backend.h"
#include "serve/expert_pool.h"
#include "tiny_model.h"

namespace fs = std::filesystem;
using namespace meswitch;

namespace {

const std::vector<std::int32_t> probe_ids = {1, 40, 41, 42, 100, 7, 250, 3, 99, 120, 17, 5};
const char* const expert_names[] = {"math", "code", "qa"};

std::vector<float> logits_of(serve::DeviceBackend& b) {
    auto cache = b.make_cache(static_cast<std::int64_t>(probe_ids.size()));
    return b.forward(probe_ids, *cache, true);
}

std::vector<float> logits_of(Model& m) {
    KvCache cache = m.make_cache(static_cast<std::int64_t>(probe_ids.size()));
    ForwardOptions fo;
    fo.all_positions = true;
    return m.forward(probe_ids, cache, fo);
}

// Greedy decoding one token per forward (the decode path, where the separate delta is added
// inside the base matrix × vector): the tokens, and every step's logits one after another.
struct Greedy {
    std::vector<std::int32_t> tokens;
    std::vector<float> logits;
};
template <class Forward>
Greedy greedy(Forward&& forward, int steps) {
    Greedy g;
    std::vector<float> l = forward(std::span<const std::int32_t>(probe_ids));
    for (int i = 0; i < steps; ++i) {
        g.logits.insert(g.logits.end(), l.begin(), l.end());
        const auto next =
            static_cast<std::int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
        g.tokens.push_back(next);
        const std::int32_t one[1] = {next};
        l = forward(std::span<const std::int32_t>(one));
    }
    return g;
}
constexpr int greedy_steps = 24;
Greedy greedy_of(serve::DeviceBackend& b) {
    auto cache = b.make_cache(static_cast<std::int64_t>(probe_ids.size()) + greedy_steps + 1);
    return greedy([&](std::span<const std::int32_t> ids) { return b.forward(ids, *cache, false); },
                  greedy_steps);
}
Greedy greedy_of(Model& m) {
    KvCache cache = m.make_cache(static_cast<std::int64_t>(probe_ids.size()) + greedy_steps + 1);
    return greedy([&](std::span<const std::int32_t> ids) { return m.forward(ids, cache); },
                  greedy_steps);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return INFINITY;
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - b[i]));
    return d;
}

std::map<std::string, std::vector<std::byte>> all_weights(const serve::DeviceBackend& b,
                                                          const std::vector<std::string>& names) {
    std::map<std::string, std::vector<std::byte>> out;
    for (const auto& n : names) out[n] = b.read_weight(n);
    return out;
}

}  // namespace

class TestExpertPool : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::map<std::string, fs::path> m_base;                        // by dtype name
    std::map<std::string, std::map<std::string, fs::path>> m_msd;  // dtype → expert → .msd

    fs::path path(const std::string& sub) const {
        return fs::path(m_dir.path().toStdString()) / sub;
    }

    std::unique_ptr<serve::DeviceBackend> backend(const std::string& dtype) {
        return serve::make_cpu_backend(Model::load(m_base.at(dtype), ModelOptions{1}));
    }

    void add_experts(serve::ExpertPool& pool, const std::string& dtype) {
        for (const char* e : expert_names)
            pool.add(serve::HostDelta::load(m_msd.at(dtype).at(e), e, ""));
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        const std::pair<const char*, DType> dtypes[] = {
            {"f32", DType::f32}, {"bf16", DType::bf16}, {"f16", DType::f16}};
        std::uint64_t seed = 11;
        for (const auto& [name, dt] : dtypes) {
            test::TinyModelSpec spec;
            spec.dtype = dt;
            spec.seed = 7;
            const fs::path base = path(std::string("base-") + name);
            test::write_tiny_model(base, spec);
            m_base[name] = base;
            for (const char* e : expert_names) {
                const fs::path folder = path(std::string(name) + "-" + e);
                test::write_expert_of(base, folder, 0.02, ++seed);
                CompressOptions o;
                o.threads = 1;
                o.out = path(std::string(name) + "-" + e + ".msd");
                compress_expert(base, folder, o);
                m_msd[name][e] = o.out;
            }
        }
    }

    void random_switches_keep_the_base_bit_identical_data() {
        QTest::addColumn<QString>("dtype");
        QTest::newRow("f32") << "f32";
        QTest::newRow("bf16") << "bf16";
        QTest::newRow("f16") << "f16";
    }
    void random_switches_keep_the_base_bit_identical() {
        QFETCH(QString, dtype);
        auto b = backend(dtype.toStdString());
        std::vector<std::string> names;
        {
            const auto m = Model::load(m_base.at(dtype.toStdString()), ModelOptions{1});
            names = m.weight_names();
        }
        const auto original = all_weights(*b, names);
        const auto base_logits = logits_of(*b);
        serve::ExpertPool pool(*b, 1ull << 30);
        add_experts(pool, dtype.toStdString());

        std::mt19937_64 rng(42);
        int applied = 0;
        for (int i = 0; i < 1000; ++i) {
            const int pick = static_cast<int>(rng() % 4);  // 3: the base
            const DeltaMode mode = rng() % 2 ? DeltaMode::merged : DeltaMode::separate;
            pool.activate(pick == 3 ? "" : expert_names[pick], mode);
            if (pick != 3 && mode == DeltaMode::merged) ++applied;
            if (i % 250 == 249) {  // a forward pass in between changes nothing either
                QCOMPARE(logits_of(*b).size(), base_logits.size());
            }
        }
        pool.activate("", DeltaMode::merged);
        QCOMPARE(b->active(), nullptr);
        for (const auto& n : names)
            QVERIFY2(b->read_weight(n) == original.at(n),
                     qPrintable(QString("weight %1 changed after 1000 switches").arg(n.c_str())));
        QCOMPARE(max_abs_diff(logits_of(*b), base_logits), 0.0);
        QVERIFY(applied > 100);
        qInfo("%s: %d in-place applications", qPrintable(dtype), applied);
    }

    void policies_match_the_reconstructed_expert_data() {
        random_switches_keep_the_base_bit_identical_data();
    }
    void policies_match_the_reconstructed_expert() {
        QFETCH(QString, dtype);
        const std::string dt = dtype.toStdString();
        auto b = backend(dt);
        serve::ExpertPool pool(*b, 1ull << 30);
        add_experts(pool, dt);
        const auto base_logits = logits_of(*b);
        for (const char* e : expert_names) {
            Model merged_ref = meswitch::test::reconstructed_expert(
                m_base.at(dt), m_msd.at(dt).at(e), std::nullopt);
            Model separate_ref =
                meswitch::test::reconstructed_expert(m_base.at(dt), m_msd.at(dt).at(e), DType::f32);
            const auto want_merged = logits_of(merged_ref);
            const auto want_separate = logits_of(separate_ref);

            pool.activate(e, DeltaMode::merged);
            const double d_merged = max_abs_diff(logits_of(*b), want_merged);
            pool.activate(e, DeltaMode::separate);
            const double d_separate = max_abs_diff(logits_of(*b), want_separate);
            // Decode steps: the same greedy tokens as the reconstructed expert, every step's
            // logits within the same tolerance.
            const Greedy got = greedy_of(*b), want = greedy_of(separate_ref);
            QCOMPARE(got.tokens, want.tokens);
            const double d_steps = max_abs_diff(got.logits, want.logits);
            QVERIFY2(d_steps <= 1e-4, qPrintable(QString::number(d_steps)));
            pool.activate("", DeltaMode::merged);
            qInfo("%s %s: in place %.3g, separate %.3g (max |Δlogit|), expert vs base %.3g",
                  dt.c_str(), e, d_merged, d_separate, max_abs_diff(want_merged, base_logits));
            QCOMPARE(d_merged, 0.0);
            QVERIFY2(d_separate <= 1e-4, qPrintable(QString::number(d_separate)));
            // The comparison means something: the expert differs from the base.
            QVERIFY(max_abs_diff(want_merged, base_logits) > 1e-3);
        }
        QCOMPARE(max_abs_diff(logits_of(*b), base_logits), 0.0);
    }

    void lru_eviction_under_a_budget() {
        auto b = backend("bf16");
        serve::ExpertPool pool(*b, 1ull << 30);
        add_experts(pool, "bf16");
        std::uint64_t biggest = 0;
        for (const auto& r : pool.status().experts) biggest = std::max(biggest, r.bytes);
        QVERIFY(biggest > 0);
        pool.set_budget(biggest * 5 / 2);  // two deltas fit, not three

        auto r = pool.activate("math", DeltaMode::merged);
        QVERIFY(r.uploaded);
        QVERIFY(r.evicted.empty());
        r = pool.activate("code", DeltaMode::separate);
        QVERIFY(r.evicted.empty());
        r = pool.activate("qa", DeltaMode::merged);
        QCOMPARE(r.evicted, std::vector<std::string>{"math"});
        QVERIFY(pool.resident_bytes() <= pool.budget());
        r = pool.activate("code", DeltaMode::merged);  // resident: no upload
        QVERIFY(!r.uploaded);
        r = pool.activate("math", DeltaMode::merged);  // evicts qa (code was used later)
        QVERIFY(r.uploaded);
        QCOMPARE(r.evicted, std::vector<std::string>{"qa"});

        const PoolStatus s = pool.status();
        QCOMPARE(s.active, std::string("math"));
        QCOMPARE(s.active_mode, std::string("in-place"));
        QCOMPARE(s.experts.size(), std::size_t(3));
        QCOMPARE(s.experts[0].name, std::string("math"));  // load order
        QVERIFY(s.experts[0].resident && s.experts[0].active);
        QVERIFY(s.experts[1].resident);   // code
        QVERIFY(!s.experts[2].resident);  // qa: host memory only
        QVERIFY(s.restore_overhead_bytes > 0);

        // Shrinking the budget evicts the least recently used first, the active one last.
        pool.set_budget(biggest);
        QVERIFY(!pool.status().experts[1].resident);
        QCOMPARE(pool.active(), std::string("math"));
        pool.set_budget(0);
        QCOMPARE(pool.active(), std::string());
        QCOMPARE(pool.resident_bytes(), std::uint64_t(0));
    }

    void budget_too_small_is_out_of_memory_and_the_pool_stays_usable() {
        auto b = backend("f16");
        const auto base_logits = logits_of(*b);
        serve::ExpertPool pool(*b, 1ull << 30);
        add_experts(pool, "f16");
        pool.activate("code", DeltaMode::merged);
        pool.set_budget(64);  // evicts code; nothing fits now
        QCOMPARE(pool.active(), std::string());
        try {
            pool.activate("math", DeltaMode::merged);
            QFAIL("expected Error(out_of_memory)");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::out_of_memory);
            const QString msg = e.what();
            QVERIFY2(msg.contains("math") && msg.contains("budget"), qPrintable(msg));
        }
        QCOMPARE(pool.active(), std::string());
        QCOMPARE(max_abs_diff(logits_of(*b), base_logits), 0.0);
        pool.set_budget(1ull << 30);
        pool.activate("math", DeltaMode::separate);
        QCOMPARE(pool.active(), std::string("math"));
        QVERIFY(max_abs_diff(logits_of(*b), base_logits) > 1e-3);

        QVERIFY_THROWS_EXCEPTION(Error, pool.activate("nobody", DeltaMode::merged));
        QVERIFY_THROWS_EXCEPTION(
            Error, pool.add(serve::HostDelta::load(m_msd.at("f16").at("qa"), "math", "")));
        pool.remove("math");
        QCOMPARE(pool.active(), std::string());
        QCOMPARE(max_abs_diff(logits_of(*b), base_logits), 0.0);
    }

    void hash_mismatch_is_refused() {
        try {
            serve::HostDelta::load(m_msd.at("f32").at("qa"), "qa", "0123456789abcdef");
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::invalid_argument);
            QVERIFY(QString(e.what()).contains("0123456789abcdef"));
        }
    }

    void memory_estimates() {
        const ModelConfig c = mistral_7b_shape();
        const std::uint64_t base = model_weight_bytes(c, DType::bf16);
        QCOMPARE(base, std::uint64_t(7241732096ull) * 2);  // Mistral-7B: 7.24 B parameters
        const std::uint64_t delta = compressed_delta_bytes(c, 2);
        const double bits = double(delta) * 8 / 7241732096.0;
        QVERIFY2(bits > 2.0 && bits < 2.3, qPrintable(QString::number(bits)));
        const std::uint64_t reserve = serving_reserve_bytes(c, 4096, true);
        QVERIFY(reserve > (1ull << 30) + (512ull << 20));  // runtime + f16 KV cache of 4096
        const MemoryEstimate e = estimate_expert_capacity(80ull << 30, base, delta, reserve);
        QVERIFY(e.base_fits);
        QCOMPARE(e.experts_fit,
                 static_cast<std::int64_t>(((80ull << 30) - base - reserve) / delta));
        QVERIFY(e.experts_fit >= 30 && e.experts_fit <= 40);
        qInfo("Mistral-7B bf16, 2-bit deltas (%.3f bits/param): %s", bits, e.summary().c_str());

        const MemoryEstimate small = estimate_expert_capacity(100, 30, 20, 10);
        QCOMPARE(small.available_bytes, std::uint64_t(60));
        QCOMPARE(small.experts_fit, std::int64_t(3));
        const MemoryEstimate none = estimate_expert_capacity(30, 30, 20, 10);
        QVERIFY(!none.base_fits);
        QCOMPARE(none.experts_fit, std::int64_t(0));
        QVERIFY(QString::fromStdString(none.summary()).contains("do not fit"));
        QVERIFY_THROWS_EXCEPTION(Error, compressed_delta_bytes(c, 5));

        // The estimate's per-layer formula is what the compressor stores (per-row f16 scale
        // and u8 zero, f16 salient values, i32 indices), for the salient count it chose.
        const auto host = serve::HostDelta::load(m_msd.at("bf16").at("math"), "math", "");
        QVERIFY(!host.linears.empty());
        for (const auto& nl : host.linears) {
            const auto& l = nl.linear;
            const std::int64_t k = l.salient_count();
            const auto want = static_cast<std::size_t>(
                l.rows * (delta::packed_bytes(l.cols - k, l.bits) + 3 + 2 * k) + 4 * k);
            QCOMPARE(l.storage_bytes(), want);
        }
        const ModelConfig tiny = parse_model_config(m_base.at("bf16") / "config.json");
        qInfo("tiny expert: %llu bytes stored, %llu estimated at 0.5 %% salient",
              static_cast<unsigned long long>(host.bytes()),
              static_cast<unsigned long long>(compressed_delta_bytes(tiny, 2)));
    }
};

QTEST_GUILESS_MAIN(TestExpertPool)
#include "test_expert_pool.moc"
