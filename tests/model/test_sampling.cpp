// Sampling with Hugging Face semantics (greedy, temperature, top-k, top-p, min-p, repetition
// penalty, seeds) and the stop-string filter that keeps stop strings out of streamed text.
#include <QtTest>

#include <cmath>
#include <numeric>

#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "model/stop_strings.h"

using namespace meswitch;

namespace {

std::vector<float> logits_of(const std::vector<double>& probs) {
    std::vector<float> l;
    for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
    return l;
}

std::vector<int> histogram(const SamplingOptions& o, const std::vector<float>& logits, int draws) {
    Sampler s(o);
    std::vector<int> counts(logits.size(), 0);
    for (int i = 0; i < draws; ++i) {
        auto l = logits;
        ++counts[static_cast<std::size_t>(s.sample(l))];
    }
    return counts;
}

}  // namespace

class TestSampling : public QObject {
    Q_OBJECT

private slots:
    void greedy_is_argmax() {
        SamplingOptions o;
        o.temperature = 0.0f;
        Sampler s(o);
        std::vector<float> l{0.1f, 3.0f, -2.0f, 2.9f};
        QCOMPARE(s.sample(l), 1);
        std::vector<float> ties{1.0f, 5.0f, 5.0f};
        QCOMPARE(s.sample(ties), 1);  // first maximum, like run.c
        const auto p = s.probabilities(l = {0.1f, 3.0f, -2.0f, 2.9f});
        QCOMPARE(p[1], 1.0f);
        QCOMPARE(std::accumulate(p.begin(), p.end(), 0.0f), 1.0f);
    }

    void seed_determinism() {
        std::vector<float> logits(100);
        for (int i = 0; i < 100; ++i) logits[i] = std::sin(i * 0.7f) * 2.0f;
        SamplingOptions o;
        o.seed = 1234;
        Sampler a(o), b(o);
        std::vector<std::int32_t> ra, rb;
        for (int i = 0; i < 200; ++i) {
            auto l1 = logits, l2 = logits;
            ra.push_back(a.sample(l1));
            rb.push_back(b.sample(l2));
        }
        QCOMPARE(ra, rb);
        o.seed = 1235;
        Sampler c(o);
        std::vector<std::int32_t> rc;
        for (int i = 0; i < 200; ++i) {
            auto l = logits;
            rc.push_back(c.sample(l));
        }
        QVERIFY(rc != ra);
    }

    void top_k_1_and_tiny_top_p_are_greedy() {
        std::vector<float> logits(50);
        for (int i = 0; i < 50; ++i) logits[i] = std::cos(i * 1.3f);
        const auto best = static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) -
                                                    logits.begin());
        for (int variant = 0; variant < 2; ++variant) {
            SamplingOptions o;
            o.temperature = 1.5f;
            o.seed = 99;
            if (variant == 0)
                o.top_k = 1;
            else
                o.top_p = 1e-6f;
            Sampler s(o);
            for (int i = 0; i < 100; ++i) {
                auto l = logits;
                QCOMPARE(s.sample(l), best);
            }
        }
    }

    void top_k_and_top_p_keep_the_right_set() {
        // probabilities 0.4, 0.3, 0.2, 0.1
        const auto logits = logits_of({0.1, 0.4, 0.2, 0.3});
        SamplingOptions o;
        o.top_k = 2;
        auto l = logits;
        auto p = Sampler(o).probabilities(l);
        QVERIFY(std::fabs(p[1] - 4.0 / 7) < 1e-6 && std::fabs(p[3] - 3.0 / 7) < 1e-6);
        QCOMPARE(p[0] + p[2], 0.0f);
        // HF top-p: drop tokens whose ascending cumulative probability is <= 1 - top_p.
        // top_p 0.65: cumulative ascending 0.1, 0.3, 0.6, 1.0 → drop 0.1 and 0.2 (0.3 <= 0.35)
        o = {};
        o.top_p = 0.65f;
        l = logits;
        p = Sampler(o).probabilities(l);
        QCOMPARE(p[0] + p[2], 0.0f);
        QVERIFY(std::fabs(p[1] - 4.0 / 7) < 1e-6);
        // top_p 0.75: 1 - 0.75 = 0.25 → only 0.1 dropped
        o.top_p = 0.75f;
        l = logits;
        p = Sampler(o).probabilities(l);
        QCOMPARE(p[0], 0.0f);
        QVERIFY(std::fabs(p[2] - 2.0 / 9) < 1e-6);
    }

    void min_p_drops_unlikely_tokens() {
        const auto logits = logits_of({0.5, 0.3, 0.15, 0.05});
        SamplingOptions o;
        o.min_p = 0.25f;  // threshold 0.125: keeps 0.5, 0.3, 0.15
        auto l = logits;
        auto p = Sampler(o).probabilities(l);
        QCOMPARE(p[3], 0.0f);
        QVERIFY(std::fabs(p[2] - 0.15 / 0.95) < 1e-6);
        o.min_p = 0.7f;  // threshold 0.35: only the top token
        l = logits;
        p = Sampler(o).probabilities(l);
        QCOMPARE(p[0], 1.0f);
    }

    void repetition_penalty_math() {
        std::vector<float> l{2.0f, -2.0f, 1.0f, 0.0f, 4.0f};
        const std::int32_t seen[] = {0, 1,  3, 1,
                                     0, 77, -1};  // repeats and out-of-range ids are harmless
        apply_repetition_penalty(l, seen, 2.0f);
        QCOMPARE(l, (std::vector<float>{1.0f, -4.0f, 1.0f, 0.0f, 4.0f}));
        // greedy applies it too: id 0 (3.0 → 1.5) loses against id 2 (2.0)
        SamplingOptions o;
        o.temperature = 0.0f;
        o.repetition_penalty = 2.0f;
        std::vector<float> g{3.0f, -1.0f, 2.0f};
        const std::int32_t prev[] = {0};
        QCOMPARE(Sampler(o).sample(g, prev), 2);
    }

    void temperature_statistics() {
        // p = (0.5, 0.3, 0.2). At T = 1 the frequencies follow p; at T = 0.5 they follow p² /
        // Σp² = (0.658, 0.237, 0.105); at T = 2, sqrt(p) normalised = (0.415, 0.322, 0.263).
        const auto logits = logits_of({0.5, 0.3, 0.2});
        const int n = 20000;
        const double expect[3][3] = {
            {0.5, 0.3, 0.2}, {0.6579, 0.2368, 0.1053}, {0.4155, 0.3218, 0.2628}};
        const float temps[3] = {1.0f, 0.5f, 2.0f};
        for (int k = 0; k < 3; ++k) {
            SamplingOptions o;
            o.temperature = temps[k];
            o.seed = 7 + k;
            const auto h = histogram(o, logits, n);
            for (int i = 0; i < 3; ++i)
                QVERIFY2(std::fabs(double(h[i]) / n - expect[k][i]) < 0.02,
                         qPrintable(
                             QString("T=%1 id %2: %3").arg(temps[k]).arg(i).arg(double(h[i]) / n)));
        }
    }

    void invalid_options_throw() {
        SamplingOptions o;
        o.temperature = -1.0f;
        QVERIFY_THROWS_EXCEPTION(Error, Sampler{o});
        o = {};
        o.top_p = 0.0f;
        QVERIFY_THROWS_EXCEPTION(Error, Sampler{o});
        o = {};
        o.repetition_penalty = 0.0f;
        QVERIFY_THROWS_EXCEPTION(Error, Sampler{o});
        o = {};
        o.top_k = -3;
        QVERIFY_THROWS_EXCEPTION(Error, Sampler{o});
        Sampler s{SamplingOptions{}};
        std::vector<float> empty;
        QVERIFY_THROWS_EXCEPTION(Error, s.sample(empty));
    }

    void stop_strings_never_leak() {
        model::StopStringFilter f({"</end>", "###"});
        std::string shown;
        for (const char* piece : {"Hello", " wor", "ld <", "/e", "n"}) shown += f.push(piece);
        QCOMPARE(shown, std::string("Hello world "));  // "</en" is held back
        QVERIFY(!f.stopped());
        shown += f.push("d> more");
        QVERIFY(f.stopped());
        QCOMPARE(shown, std::string("Hello world "));
        QCOMPARE(f.push("after"), std::string());
        QCOMPARE(f.finish(), std::string());

        // a false start is released once it can no longer become a stop string
        model::StopStringFilter g({"###"});
        shown = g.push("a#");
        QCOMPARE(shown, std::string("a"));
        shown += g.push("#b");
        QCOMPARE(shown, std::string("a##b"));
        shown += g.push("##");
        QCOMPARE(shown, std::string("a##b"));
        shown += g.finish();  // end of generation: the held text was not a stop string
        QCOMPARE(shown, std::string("a##b##"));

        // the earliest of several stop strings wins, even inside one piece
        model::StopStringFilter h({"c", "ab"});
        QCOMPARE(h.push("xxabc"), std::string("xx"));
        QVERIFY(h.stopped());

        model::StopStringFilter none({});
        QCOMPARE(none.push("text"), std::string("text"));
    }
};

QTEST_GUILESS_MAIN(TestSampling)
#include "test_sampling.moc"
