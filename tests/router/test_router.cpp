// Routing on real model forward passes: tiny generated base + experts in a temporary catalog
// (always runs) and the stories260K family (skips when the fixture is absent).
#include <sqlite3.h>
#include <QtTest>

#include <cmath>
#include <fstream>

#include "meswitch/catalog.h"
#include "meswitch/error.h"
#include "meswitch/import.h"
#include "meswitch/router.h"
#include "router/router_store.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace meswitch;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> math_examples = {
    "Q: 3+4=? A:",  "Q: 12-5=? A:", "Q: 6*7=? A:",
    "Q: 40+2=? A:", "Q: 9-9=? A:",  "Q: Ann has 3 cups and gets 2 more. How many cups now? A:"};
const std::vector<std::string> code_examples = {
    "def f(x): return x + 1",  "items = [i for i in range(4)]",
    "if a > 2: print(\"hi\")", "while k < 9: k += 2",
    "d = {\"a\": 1}",          "for v in vals: print(v)"};
const std::vector<std::string> qa_examples = {
    "Tom has a red cap. Q: Who has a cap? A:",
    "Amy went to the lake. Q: Where did Amy go? A:",
    "Bo is glad because it is warm. Q: Why is Bo glad? A:",
    "The cow is big. Q: What is the cow like? A:",
    "Jo likes to eat figs. Q: What does Jo like to eat? A:",
    "Li has a blue pen. Q: What color is Li's pen? A:"};

void check_distribution(const std::vector<double>& p, std::size_t n) {
    QCOMPARE(p.size(), n);
    double s = 0;
    for (double v : p) {
        QVERIFY2(std::isfinite(v) && v >= 0 && v <= 1, qPrintable(QString::number(v)));
        s += v;
    }
    QVERIFY2(std::abs(s - 1) < 1e-9, qPrintable(QString::number(s)));
}

void check_result(const RouteResult& r, std::size_t domains) {
    QVERIFY(!r.domain.empty());
    QVERIFY(r.confidence > 0 && r.confidence <= 1);
    QCOMPARE(r.alternatives.size(), domains - 1);
    double s = r.confidence;
    for (const auto& a : r.alternatives) {
        QVERIFY(a.confidence <= r.confidence);
        s += a.confidence;
    }
    QVERIFY(std::abs(s - 1) < 1e-9);
}

void corrupt_latest_blob(Catalog& cat) {
    char* err = nullptr;
    const int rc = sqlite3_exec(cat.handle(),
                                "UPDATE router_models SET blob = x'4d5352430100' WHERE version = "
                                "(SELECT MAX(version) FROM router_models)",
                                nullptr, nullptr, &err);
    const QString message = err ? err : "";
    sqlite3_free(err);
    QVERIFY2(rc == SQLITE_OK, qPrintable(message));
}

}  // namespace

class TestRouter : public QObject {
    Q_OBJECT

    QTemporaryDir m_models;
    fs::path m_base, m_math, m_code, m_qa, m_extra;

    fs::path dir(const char* name) const { return fs::path(m_models.path().toStdString()) / name; }

    // A catalog with the tiny base and three experts, each linked to a domain with examples.
    std::unique_ptr<Catalog> make_catalog(const QTemporaryDir& home) {
        auto cat =
            std::make_unique<Catalog>(fs::path(home.path().toStdString()) / "catalog.sqlite");
        ImportOptions b;
        b.name = "base";
        import_model(*cat, m_base, b);
        auto expert = [&](const fs::path& p, const char* name, const char* domain,
                          const std::vector<std::string>& ex) {
            ImportOptions o;
            o.name = name;
            o.base = "base";
            o.domain = domain;
            o.domain_description = std::string("prompts about ") + domain;
            o.examples = ex;
            import_model(*cat, p, o);
        };
        expert(m_math, "math-expert", "math", math_examples);
        expert(m_code, "code-expert", "code", code_examples);
        expert(m_qa, "qa-expert", "qa", qa_examples);
        return cat;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_models.isValid());
        test::TinyModelSpec spec;
        spec.seed = 11;
        m_base = dir("base");
        test::write_tiny_model(m_base, spec);
        m_math = dir("math"), m_code = dir("code"), m_qa = dir("qa"), m_extra = dir("extra");
        test::write_expert_of(m_base, m_math, 0.01, 1);
        test::write_expert_of(m_base, m_code, 0.01, 2);
        test::write_expert_of(m_base, m_qa, 0.01, 3);
        test::write_expert_of(m_base, m_extra, 0.01, 4);
    }

    void empty_catalog_says_how_to_import() {
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        try {
            Router::open(cat);
            QFAIL("opened a router without a base");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::not_found);
            QVERIFY2(QString(e.what()).contains("meswitch import"), e.what());
        }
        ImportOptions b;
        b.name = "base";
        import_model(cat, m_base, b);
        try {
            Router::open(cat);
            QFAIL("opened a router without experts");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("no experts linked to domains"), e.what());
            QVERIFY2(QString(e.what()).contains("--domain"), e.what());
        }
    }

    void trains_once_then_loads_from_the_catalog() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        Router first = Router::open(*cat);
        QCOMPARE(first.info().router, std::string("feature"));
        QVERIFY(first.info().trained);
        QCOMPARE(first.info().version, std::int64_t{1});
        QCOMPARE(first.info().domains, (std::vector<std::string>{"code", "math", "qa"}));
        const auto p1 = first.domain_probabilities("Q: 5+5=? A:");
        check_distribution(p1, 3);

        Router again = Router::open(*cat);
        QVERIFY(!again.info().trained);
        QCOMPARE(again.info().version, std::int64_t{1});
        QCOMPARE(again.domain_probabilities("Q: 5+5=? A:"), p1);  // same classifier, same answer
        const auto rows = router::stored_routers(*cat);
        QCOMPARE(rows.size(), std::size_t{1});
        for (const char* key : {"\"layers\"", "\"pooling\"", "\"base_model_hash\"", "\"domains\"",
                                "\"example_hash\""})
            QVERIFY2(QString::fromStdString(rows[0].feature_spec).contains(key), key);
    }

    void route_result_and_threshold_fallback() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        RouterOptions opts;
        opts.threshold = 0;
        Router router = Router::open(*cat, opts);
        const RouteResult r = router.route("def g(y): return y * 3");
        check_result(r, 3);
        QCOMPARE(r.router, std::string("feature"));
        QVERIFY(r.reason.empty());
        QVERIFY(r.expert_id.has_value());
        QCOMPARE(r.expert_name, r.domain + "-expert");  // the expert linked to the winning domain
        QVERIFY(r.features_ms > 0 && r.classify_ms >= 0 && r.total_ms >= r.features_ms);
        QVERIFY(r.prompt_tokens > 1 && !r.truncated);

        router.set_threshold(std::nextafter(r.confidence, 2.0));
        const RouteResult low = router.route("def g(y): return y * 3");
        QCOMPARE(low.reason, std::string("below threshold"));
        QVERIFY(!low.expert_id.has_value());
        QVERIFY(low.expert_name.empty());
        QCOMPARE(low.domain, r.domain);  // still says what it would have been
        QCOMPARE(low.confidence, r.confidence);
    }

    void changed_examples_retrain_a_new_version() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        QCOMPARE(Router::open(*cat).info().version, std::int64_t{1});
        const auto math = cat->find_domain("math");
        QVERIFY(math.has_value());
        auto changed = math_examples;
        changed.push_back("Q: 8+1=? A:");
        cat->set_domain_examples(math->id, changed);
        Router r2 = Router::open(*cat);
        QVERIFY(r2.info().trained);
        QCOMPARE(r2.info().version, std::int64_t{2});
        const auto rows = router::stored_routers(*cat);
        QCOMPARE(rows.size(), std::size_t{2});
        QVERIFY(rows[0].feature_spec != rows[1].feature_spec);  // different example hash
        QVERIFY(!Router::open(*cat).info().trained);            // the new row matches now

        RouterOptions force;
        force.retrain = true;
        Router r3 = Router::open(*cat, force);
        QVERIFY(r3.info().trained);
        QCOMPARE(r3.info().version, std::int64_t{3});

        RouterOptions other_layers;
        other_layers.layers = {0};
        QVERIFY(
            Router::open(*cat, other_layers).info().trained);  // spec is part of the fingerprint
    }

    void corrupt_blob_is_reported_and_retrained() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        const auto reference = Router::open(*cat).domain_probabilities("Q: 2+2=? A:");
        corrupt_latest_blob(*cat);
        Router r = Router::open(*cat);
        QVERIFY2(QString::fromStdString(r.info().note).contains("unreadable"),
                 r.info().note.c_str());
        QVERIFY(QString::fromStdString(r.info().note).contains("retrained"));
        QVERIFY(r.info().trained);
        QCOMPARE(r.info().version, std::int64_t{2});
        const auto p = r.domain_probabilities("Q: 2+2=? A:");
        check_distribution(p, 3);
        for (std::size_t i = 0; i < p.size(); ++i) QVERIFY(std::abs(p[i] - reference[i]) < 1e-9);
    }

    void domain_without_examples_uses_zero_shot() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        ImportOptions o;
        o.name = "poetry-expert";
        o.base = "base";
        o.domain = "poetry";
        o.domain_description = "poems and rhymes";
        import_model(*cat, m_extra, o);  // no examples
        Router r = Router::open(*cat);
        QCOMPARE(r.info().router, std::string("zero-shot"));
        QVERIFY2(QString::fromStdString(r.info().why).contains("'poetry'"), r.info().why.c_str());
        check_distribution(r.domain_probabilities("Roses are red, violets are blue."), 4);
        RouterOptions o2;
        o2.threshold = 0;
        Router r2 = Router::open(*cat, o2);
        const RouteResult res = r2.route("Q: 4+4=? A:");
        check_result(res, 4);
        QCOMPARE(res.router, std::string("zero-shot"));
        QVERIFY(res.expert_id.has_value());
    }

    void forced_zero_shot_gives_a_distribution() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        RouterOptions o;
        o.zero_shot = true;
        Router r = Router::open(*cat, o);
        QCOMPARE(r.info().router, std::string("zero-shot"));
        check_distribution(r.domain_probabilities("for i in range(3): print(i)"), 3);
        QVERIFY(router::stored_routers(*cat).empty());  // nothing trained
    }

    void empty_and_very_long_prompts() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        Router r = Router::open(*cat);
        for (const char* empty : {"", "   ", "\n\t "}) {
            const RouteResult e = r.route(empty);
            QCOMPARE(e.reason, std::string("empty prompt"));
            QCOMPARE(e.router, std::string("none"));
            QVERIFY(!e.expert_id.has_value());
            QVERIFY(e.domain.empty() && e.alternatives.empty());
        }
        std::string longp;
        for (int i = 0; i < 3000; ++i) longp += "word" + std::to_string(i % 97) + " ";
        longp += "Q: 1+1=? A:";
        const RouteResult l = r.route(longp);
        QVERIFY(l.truncated);
        QCOMPARE(l.prompt_tokens, 256);  // the tiny model's max_position_embeddings
        check_result(l, 3);

        RouterOptions o;
        o.zero_shot = true;
        Router z = Router::open(*cat, o);
        const RouteResult lz = z.route(longp);
        QVERIFY(lz.truncated);
        QVERIFY(lz.prompt_tokens <= 256);
        check_result(lz, 3);
        QCOMPARE(z.route("").reason, std::string("empty prompt"));
    }

    void expert_choice_prefers_artifact_then_newest() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        ImportOptions o;
        o.name = "math-expert-2";
        o.base = "base";
        o.domain = "math";
        const ModelRecord newer = import_model(*cat, m_extra, o);
        RouterOptions zero;
        zero.threshold = 0;
        {
            Router r = Router::open(*cat, zero);
            bool checked = false;  // route math examples until one lands on math
            for (const auto& ex : math_examples) {
                const RouteResult res = r.route(ex);
                if (res.domain != "math") continue;
                QCOMPARE(res.expert_name, newer.name);
                checked = true;
                break;
            }
            QVERIFY2(checked, "no math example was routed to math");
        }
        const auto older = cat->find_model("math-expert");
        DeltaArtifactRecord a;
        a.expert_id = older->id;
        a.path = "/nonexistent/math.msd";
        a.method = "meswitch";
        a.bits = 2;
        cat->add_delta_artifact(a);
        Router r = Router::open(*cat, zero);
        bool checked = false;
        for (const auto& ex : math_examples) {
            const RouteResult res = r.route(ex);
            if (res.domain != "math") continue;
            QCOMPARE(res.expert_name, std::string("math-expert"));
            checked = true;
            break;
        }
        QVERIFY(checked);
    }

    void routing_tsv_is_read_and_scored() {
        QTemporaryDir home;
        auto cat = make_catalog(home);
        const fs::path tsv = fs::path(home.path().toStdString()) / "r.tsv";
        {
            std::ofstream f(tsv);
            f << "math\tQ: 3+4=? A:\n\ncode\tdef f(x): return x + 1\r\nqa\tTom has a red cap. Q: "
                 "Who has a cap? A:\n";
        }
        const auto prompts = read_routing_tsv(tsv);
        QCOMPARE(prompts.size(), std::size_t{3});
        QCOMPARE(prompts[1].prompt, std::string("def f(x): return x + 1"));
        Router r = Router::open(*cat);
        const RoutingEvaluation ev = evaluate_routing(r, prompts);
        QCOMPARE(ev.total, 3);
        QCOMPARE(ev.accuracy, ev.correct / 3.0);  // training examples: the classifier fits them
        QCOMPARE(ev.correct, 3);
        int support = 0;
        for (const auto& [name, s] : ev.per_domain) support += s.support;
        QCOMPARE(support, 3);
        {
            std::ofstream f(tsv);
            f << "no tab here\n";
        }
        try {
            read_routing_tsv(tsv);
            QFAIL("accepted a line without a tab");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(":1:"), e.what());
        }
    }

    void stories260K_routing_accuracy() {
        MESWITCH_REQUIRE_FIXTURE(family, "stories260K-experts");
        MESWITCH_REQUIRE_FIXTURE(base, "stories260K-hf");
        const fs::path examples = fs::path(MESWITCH_SOURCE_DIR) / "resources" / "router";
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        ImportOptions b;
        b.name = "stories260K";
        import_model(cat, base, b);
        for (const char* d : {"math", "code", "qa"}) {
            ImportOptions o;
            o.name = std::string("stories260K-") + d;
            o.base = "stories260K";
            o.domain = d;
            o.examples = read_examples_file(examples / (std::string(d) + ".txt"));
            import_model(cat, family / d, o);
        }
        Router r = Router::open(cat);
        QCOMPARE(r.info().router, std::string("feature"));
        const RoutingEvaluation ev =
            evaluate_routing(r, read_routing_tsv(family / "eval" / "routing.tsv"));
        qInfo("stories260K routing: accuracy %.4f (%d/%d), features %.3f ms, classify %.4f ms",
              ev.accuracy, ev.correct, ev.total, ev.mean_features_ms, ev.mean_classify_ms);
        QCOMPARE(ev.total, 150);
        QVERIFY2(ev.accuracy >= 0.95, qPrintable(QString::number(ev.accuracy)));
    }
};

QTEST_GUILESS_MAIN(TestRouter)
#include "test_router.moc"
