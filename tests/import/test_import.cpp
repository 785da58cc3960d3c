// Importing model folders into the catalog: bases, experts, domains, and every refusal.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "meswitch/catalog.h"
#include "meswitch/error.h"
#include "meswitch/import.h"
#include "test_support.h"
#include "tiny_model.h"

namespace fs = std::filesystem;
using namespace meswitch;

namespace {

template <class F>
QString error_of(F&& f, ErrorKind* kind = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (kind) *kind = e.kind();
        return QString::fromStdString(e.what());
    }
    return {};
}

}  // namespace

class TestImport : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    fs::path m_base, m_expert;

    fs::path path(const char* sub) const { return fs::path(m_dir.path().toStdString()) / sub; }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_base = path("tiny-base");
        m_expert = path("tiny-expert");
        test::TinyModelSpec spec;
        spec.seed = 7;
        test::write_tiny_model(m_base, spec);
        test::write_expert_of(m_base, m_expert, 0.01, 11);
    }

    void importBaseAndExpertWithDomain() {
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        const ModelInspection insp = inspect_model(m_base, &cat);
        QVERIFY2(insp.problems.empty(), insp.problems.empty() ? "" : insp.problems[0].c_str());
        QCOMPARE(QString::fromStdString(insp.architecture), QStringLiteral("LlamaForCausalLM"));
        QCOMPARE(QString::fromStdString(insp.dtype), QStringLiteral("F32"));

        std::int64_t expected_params = 0;
        for (const auto& t : test::tiny_model_tensors(test::TinyModelSpec{})) {
            std::int64_t n = 1;
            for (auto d : t.shape) n *= d;
            expected_params += n;
        }
        ImportOptions base_opts;
        base_opts.name = "base";
        const ModelRecord base = import_model(cat, m_base, base_opts);
        QCOMPARE(base.role, ModelRole::base);
        QCOMPARE(base.parameter_count, expected_params);
        QCOMPARE(base.content_hash.size(), std::size_t(32));
        QVERIFY(fs::equivalent(base.path, m_base));

        // The wizard's report now names the imported base as a match for the expert.
        const ModelInspection expert_insp = inspect_model(m_expert, &cat);
        QCOMPARE(expert_insp.matching_bases, std::vector<std::string>{"base"});

        ImportOptions opts;
        opts.name = "expert";
        opts.base = "base";
        opts.domain = "math";
        opts.domain_description = "arithmetic";
        opts.examples = {"What is 2+2?", "Compute 7*8."};
        double last_progress = -1;
        const ModelRecord expert = import_model(cat, m_expert, opts, [&](double f, std::string_view) {
            QVERIFY(f >= last_progress);
            last_progress = f;
        });
        QCOMPARE(last_progress, 1.0);
        QCOMPARE(expert.role, ModelRole::expert);
        QCOMPARE(expert.base_model_id.value_or(-1), base.id);
        QVERIFY(expert.content_hash != base.content_hash);
        const auto domains = cat.domains_of(expert.id);
        QCOMPARE(domains.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(domains[0].name), QStringLiteral("math"));
        QCOMPARE(domains[0].examples, opts.examples);

        // A second expert of the same domain adds its new examples once.
        ImportOptions again = opts;
        again.name = "expert2";
        again.examples = {"What is 2+2?", "Add 5 and 6."};
        import_model(cat, m_expert, again);
        const auto math = cat.find_domain("math");
        QVERIFY(math);
        QCOMPARE(math->examples.size(), std::size_t(3));
        QCOMPARE(cat.experts_for_domain(math->id).size(), std::size_t(2));
    }

    void hashIgnoresSharding() {
        test::TinyModelSpec one;
        one.seed = 3;
        test::TinyModelSpec three = one;
        three.shards = 3;
        test::write_tiny_model(path("one-shard"), one);
        test::write_tiny_model(path("three-shards"), three);
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        ImportOptions a, b;
        a.name = "one";
        b.name = "three";
        QCOMPARE(import_model(cat, path("one-shard"), a).content_hash,
                 import_model(cat, path("three-shards"), b).content_hash);
    }

    void mismatchedExpertIsRefusedWithTheFirstDifferences() {
        test::TinyModelSpec other;
        other.intermediate = 96;
        test::write_tiny_model(path("other-shape"), other);
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        ImportOptions base_opts;
        base_opts.name = "base";
        import_model(cat, m_base, base_opts);
        ImportOptions opts;
        opts.name = "wrong";
        opts.base = "base";
        const QString msg = error_of([&] { import_model(cat, path("other-shape"), opts); });
        QVERIFY2(msg.contains("does not match base 'base'"), qPrintable(msg));
        QVERIFY2(msg.contains("mlp.gate_proj.weight' has shape [96, 32]"), qPrintable(msg));
        QVERIFY2(msg.contains("more differences"), qPrintable(msg));
        QCOMPARE(cat.list_models().size(), std::size_t(1));
    }

    void missingTokenizerIsRefused() {
        const fs::path folder = path("no-tokenizer");
        test::write_tiny_model(folder, test::TinyModelSpec{});
        fs::remove(folder / "tokenizer.json");
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        const QString msg = error_of([&] { import_model(cat, folder, {}); });
        QVERIFY2(msg.contains("tokenizer.json"), qPrintable(msg));
        QVERIFY(cat.list_models().empty());
    }

    void pickledWeightsAreRefused() {
        const fs::path folder = path("pickled");
        test::write_tiny_model(folder, test::TinyModelSpec{});
        fs::remove(folder / "model.safetensors");
        std::ofstream(folder / "pytorch_model.bin") << "not really a pickle";
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        const QString msg = error_of([&] { import_model(cat, folder, {}); });
        QVERIFY2(msg.contains("pickle"), qPrintable(msg));
        QVERIFY2(msg.contains("safetensors"), qPrintable(msg));
        QVERIFY(cat.list_models().empty());
    }

    void refusalsLeaveTheCatalogAsItWas() {
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        ImportOptions base_opts;
        base_opts.name = "base";
        import_model(cat, m_base, base_opts);

        ErrorKind kind{};
        QVERIFY(error_of([&] { import_model(cat, m_base, base_opts); }, &kind)
                    .contains("already in the catalog"));
        QCOMPARE(kind, ErrorKind::invalid_argument);

        ImportOptions domain_on_base;
        domain_on_base.name = "b2";
        domain_on_base.domain = "math";
        QVERIFY(error_of([&] { import_model(cat, m_base, domain_on_base); }).contains("only experts"));

        ImportOptions unknown_base;
        unknown_base.name = "e";
        unknown_base.base = "nope";
        QVERIFY(error_of([&] { import_model(cat, m_expert, unknown_base); }, &kind)
                    .contains("'nope' is not in the catalog"));
        QCOMPARE(kind, ErrorKind::not_found);

        ImportOptions expert_opts;
        expert_opts.name = "e";
        expert_opts.base = "base";
        import_model(cat, m_expert, expert_opts);
        ImportOptions expert_of_expert;
        expert_of_expert.name = "e2";
        expert_of_expert.base = "e";
        QVERIFY(error_of([&] { import_model(cat, m_expert, expert_of_expert); })
                    .contains("is an expert, not a base"));

        CancelToken cancel;
        cancel.cancel();
        ImportOptions cancelled;
        cancelled.name = "cancelled";
        cancelled.copy = true;
        cancelled.data_home = home.path().toStdString();
        QVERIFY(error_of([&] { import_model(cat, m_base, cancelled, {}, &cancel); }, &kind)
                    .contains("cancelled"));
        QCOMPARE(kind, ErrorKind::cancelled);
        QVERIFY(!fs::exists(fs::path(home.path().toStdString()) / "models" / "cancelled"));

        QCOMPARE(cat.list_models().size(), std::size_t(2));
        QVERIFY(cat.list_domains().empty());
    }

    void copyIntoTheDataFolder() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        Catalog cat(h / "catalog.sqlite");
        ImportOptions opts;
        opts.name = "copied";
        opts.copy = true;
        opts.data_home = h;
        const ModelRecord rec = import_model(cat, m_base, opts);
        QCOMPARE(fs::path(rec.path), h / "models" / "copied");
        QVERIFY(fs::exists(h / "models" / "copied" / "config.json"));
        QVERIFY(fs::exists(h / "models" / "copied" / "tokenizer.json"));
        const auto reloaded = inspect_model(rec.path);
        QVERIFY(reloaded.problems.empty());
    }

    void realFixtureFamily() {
        MESWITCH_REQUIRE_FIXTURE(base, "stories260K-hf");
        MESWITCH_REQUIRE_FIXTURE(experts, "stories260K-experts");
        QTemporaryDir home;
        Catalog cat(fs::path(home.path().toStdString()) / "catalog.sqlite");
        ImportOptions base_opts;
        base_opts.name = "stories260K";
        const ModelRecord b = import_model(cat, base, base_opts);
        QCOMPARE(b.parameter_count, std::int64_t(260032));
        QCOMPARE(QString::fromStdString(b.dtype), QStringLiteral("F32"));
        for (const char* domain : {"math", "code", "qa"}) {
            ImportOptions opts;
            opts.name = std::string("stories260K-") + domain;
            opts.base = "stories260K";
            opts.domain = domain;
            const ModelRecord e = import_model(cat, experts / domain, opts);
            QCOMPARE(e.parameter_count, b.parameter_count);
        }
        QCOMPARE(cat.list_models().size(), std::size_t(4));
        QCOMPARE(cat.list_domains().size(), std::size_t(3));
    }

    void examplesFile() {
        const fs::path file = path("examples.txt");
        std::ofstream(file) << "first prompt  \r\n\nsecond prompt\n   \nthird\n";
        QCOMPARE(read_examples_file(file),
                 (std::vector<std::string>{"first prompt", "second prompt", "third"}));
        QVERIFY(error_of([&] { read_examples_file(path("missing.txt")); }).contains("missing.txt"));
    }
};

QTEST_GUILESS_MAIN(TestImport)
#include "test_import.moc"
