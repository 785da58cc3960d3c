// The meswitch CLI as a user runs it: version, info, list, and clear errors.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <fstream>

#include "meswitch/catalog.h"
#include "meswitch/generate.h"
#include "meswitch/moe.h"
#include "meswitch/tokenizer.h"
#include "test_support.h"

namespace {

struct Run {
    int exit_code = -1;
    QByteArray out;
    QByteArray err;
};

Run run_cli(const QStringList& args, const QString& home = {}) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (!home.isEmpty()) env.insert("MESWITCH_HOME", home);
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(MESWITCH_CLI_PATH), args);
    if (!p.waitForFinished(60000)) p.kill();
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

QJsonObject parse_object(const QByteArray& text) {
    QJsonParseError error{};
    const auto doc = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) return {};
    return doc.object();
}

}  // namespace

class TestCli : public QObject {
    Q_OBJECT

private slots:
    void version() {
        const Run r = run_cli({"--version"});
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.startsWith("meswitch 0."), r.out.constData());
    }

    void infoJson() {
        QTemporaryDir home;
        const Run r = run_cli({"--home", home.path(), "info", "--json"});
        QCOMPARE(r.exit_code, 0);
        const QJsonObject info = parse_object(r.out);
        QVERIFY2(!info.isEmpty(), r.out.constData());
        for (const char* key : {"version", "cuda_compiled", "devices", "catalog_path"})
            QVERIFY2(info.contains(key), key);
        QVERIFY(info["cuda_compiled"].isBool());
        QVERIFY(info["devices"].isArray());
        for (const auto& d : info["devices"].toArray()) {
            QVERIFY(!d.toObject()["name"].toString().isEmpty());
            QVERIFY(d.toObject()["total_memory"].toDouble() > 0);
        }
        if (info["devices"].toArray().isEmpty())  // the reason must be given
            QVERIFY(!info["device_note"].toString().isEmpty());
        QCOMPARE(info["catalog_path"].toString(), home.path() + "/catalog.sqlite");
    }

    void homeFromEnvironment() {
        QTemporaryDir home;
        const Run r = run_cli({"info", "--json"}, home.path());
        QCOMPARE(r.exit_code, 0);
        QCOMPARE(parse_object(r.out)["data_home"].toString(), home.path());
    }

    void listEmptyCatalog() {
        QTemporaryDir home;
        const Run r = run_cli({"--home", home.path(), "list", "--json"});
        QCOMPARE(r.exit_code, 0);
        const QJsonObject list = parse_object(r.out);
        QVERIFY2(list["models"].isArray(), r.out.constData());
        QCOMPARE(list["models"].toArray().size(), 0);
        QVERIFY(QFile::exists(home.path() + "/catalog.sqlite"));
    }

    void corruptCatalogIsReportedAndKept() {
        QTemporaryDir home;
        const QString file = home.path() + "/catalog.sqlite";
        const QByteArray junk(4096, '\x5a');
        {
            std::ofstream out(file.toStdString(), std::ios::binary);
            out.write(junk.constData(), junk.size());
        }
        const Run r = run_cli({"--home", home.path(), "list"});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(file.toUtf8()), r.err.constData());
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), junk);  // never overwritten
    }

    // The main path on real models: import, compress, eval, chat through the delta.
    void importCompressEvalChat() {
        MESWITCH_REQUIRE_FIXTURE(base, "stories260K-hf");
        MESWITCH_REQUIRE_FIXTURE(experts, "stories260K-experts");
        QTemporaryDir home;
        const QString h = home.path();
        const QString b = QString::fromStdString(base.string());
        const QString e = QString::fromStdString(experts.string());
        QCOMPARE(run_cli({"--home", h, "import", b, "--name", "base"}).exit_code, 0);
        Run r = run_cli({"--home", h, "import", e + "/math", "--name", "math", "--base", "base",
                         "--domain", "math"});
        QVERIFY2(r.exit_code == 0, r.err.constData());

        r = run_cli({"--home", h, "compress", "--expert", "math", "--json"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const QJsonObject c = parse_object(r.out);
        QCOMPARE(c["method"].toString(), QStringLiteral("meswitch"));
        QCOMPARE(c["bits"].toInt(), 2);
        QVERIFY(c["bits_per_param"].toDouble() > 2.0 && c["bits_per_param"].toDouble() <= 2.7);
        QCOMPARE(c["layers"].toArray().size(), 36);  // 5 layers × 7 linears + the tied embeddings
        QVERIFY(c["mean_rel_output_error"].toDouble() > 0 &&
                c["mean_rel_output_error"].toDouble() < 0.5);

        r = run_cli({"--home", h, "list", "--json"});
        const QJsonArray deltas = parse_object(r.out)["deltas"].toArray();
        QCOMPARE(deltas.size(), 1);
        const QString msd = deltas[0].toObject()["path"].toString();
        QVERIFY(QFile::exists(msd));

        r = run_cli({"--home", h, "eval", "--model", "base", "--delta", msd, "--text",
                     e + "/eval/math.txt", "--reference", e + "/math", "--json"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const QJsonObject ev = parse_object(r.out);
        QCOMPARE(ev["tokens"].toInt(), 7927);      // the fixtures README's token count
        QVERIFY(ev["mean_nll"].toDouble() < 0.6);  // the uncompressed expert: 0.556
        QVERIFY(ev["kl"].toDouble() >= 0 && ev["kl"].toDouble() < 0.05);

        r = run_cli(
            {"--home", h, "chat", "--expert", "math", "--prompt", "Q: 3+4=? A:", "-n", "6"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QVERIFY2(r.err.contains("2-bit meswitch delta"), r.err.constData());
        QVERIFY(!r.out.trimmed().isEmpty());

        // Routed by the engine (one domain: the single-domain router), said before the answer.
        r = run_cli({"--home", h, "chat", "--prompt", "Q: 3+4=? A:", "-n", "6"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QVERIFY2(r.err.contains("routed to math (domain math"), r.err.constData());
        QVERIFY2(r.err.contains("answered by math: 2-bit meswitch delta"), r.err.constData());

        r = run_cli({"--home", h, "chat", "--expert", "nosuch", "--prompt", "x", "-n", "2"});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains("'nosuch' is not in the catalog"), r.err.constData());
    }

    // make-model writes a folder bench decode loads; the figures are medians of --runs runs.
    void benchMakeModelAndDecode() {
        QTemporaryDir dir;
        const QString model = dir.path() + "/tiny-f16";
        Run r =
            run_cli({"bench", "make-model", "--shape", "tiny", "--dtype", "f16", "--out", model});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QVERIFY(QFile::exists(model + "/config.json") &&
                QFile::exists(model + "/model.safetensors"));
        r = run_cli({"bench", "make-model", "--shape", "tiny", "--out", model});
        QVERIFY(r.exit_code != 0);  // refuses to replace without --force
        QVERIFY2(r.err.contains("--force"), r.err.constData());

        r = run_cli({"bench", "decode", "--model", model, "--prefill", "8", "--decode", "4",
                     "--runs", "3", "--threads", "1", "--json"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const QJsonObject b = parse_object(r.out);
        QCOMPARE(b["runs"].toInt(), 3);
        for (const char* kind : {"prefill", "decode"}) {
            QList<double> s;
            for (const auto& v : b[QString(kind) + "_samples"].toArray()) s.append(v.toDouble());
            QCOMPARE(s.size(), 3);
            std::sort(s.begin(), s.end());
            QCOMPARE(b[QString(kind) + "_tokens_per_second"].toDouble(), s[1]);  // the median
        }
        QVERIFY(b["peak_gflops"].toDouble() > 0 && b["memory_bandwidth_gbps"].toDouble() > 0);
        QVERIFY(b["prefill_flops_per_token"].toDouble() > 0);
        QVERIFY(qAbs(b["prefill_fraction_of_bound"].toDouble() *
                         b["compute_bound_prefill_tokens_per_second"].toDouble() -
                     b["prefill_tokens_per_second"].toDouble()) <
                1e-9 * b["prefill_tokens_per_second"].toDouble());
        QCOMPARE(b["prefill_ms"].toDouble(), 8e3 / b["prefill_tokens_per_second"].toDouble());

        r = run_cli({"bench", "decode", "--model", model, "--prefill", "8", "--decode", "4",
                     "--runs", "2", "--threads", "1"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QVERIFY2(r.out.contains("medians of 2 timed runs after one untimed warm-up"),
                 r.out.constData());
        QVERIFY2(r.out.contains("prefill 8 tokens, fresh context:"), r.out.constData());
        QVERIFY2(r.out.contains("measured f32 FMA peak"), r.out.constData());
    }

    // bench compress: the pair is written once and reused, imported into a scratch catalog
    // and compressed as `meswitch compress` does; the stages and layer types account for the
    // run (nothing about speed).
    void benchCompressRunsThePipeline() {
        QTemporaryDir dir;
        const QString pair = dir.path() + "/pair";
        Run r = run_cli({"bench", "compress", "--shape", "tiny", "--dir", pair, "--json"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QJsonObject b = parse_object(r.out);
        QCOMPARE(b["mode"].toString(), QString("pipeline"));
        QVERIFY(b["pair_written"].toBool());
        QVERIFY(QFile::exists(pair + "/base/tokenizer.json") &&
                QFile::exists(pair + "/expert/model.safetensors"));
        QVERIFY(QFile::exists(pair + "/bench-home/deltas/bench-expert-meswitch-2bit.msd"));
        const QJsonObject st = b["stages"].toObject();
        double staged = 0;
        for (const auto& v : st) staged += v.toDouble();
        staged -= st["calibration_windows"].toDouble();
        const double wall = b["compress_seconds"].toDouble();
        QVERIFY2(staged <= wall * 1.01 && staged >= 0.5 * wall,
                 qPrintable(QString("stages %1 s of %2 s").arg(staged).arg(wall)));
        const QJsonObject types = b["layer_types"].toObject();
        QCOMPARE(types.size(), 7);
        for (const char* t :
             {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
            QCOMPARE(types[t].toObject()["layers"].toInt(), 4);
        QVERIFY(b["peak_anonymous_bytes"].toDouble() > 1e6);
        QVERIFY(b["peak_rss_bytes"].toDouble() >= b["peak_anonymous_bytes"].toDouble());
        const double err = b["mean_rel_output_error"].toDouble();
        QVERIFY2(err > 0 && err < 0.5, qPrintable(QString::number(err)));
        QVERIFY(b["bits_per_param"].toDouble() > 1 && b["bits_per_param"].toDouble() < 3);

        r = run_cli({"bench", "compress", "--shape", "tiny", "--dir", pair});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QVERIFY2(r.out.contains(", reused"), r.out.constData());
        QVERIFY2(r.out.contains("compress 2-bit, end to end:"), r.out.constData());
        QVERIFY2(r.out.contains("linears by type: down_proj"), r.out.constData());
        QVERIFY2(r.out.contains(QString::number(err, 'f', 6).toUtf8()), r.out.constData());
    }

    // bench serve runs one workload batched, one at a time and reloading per request; greedy
    // decoding must give every request the same tokens in all three (nothing about speed).
    void benchServe() {
        const Run r = run_cli({"bench", "serve", "--shape", "tiny", "--requests", "6", "--clients",
                               "3", "--experts", "2", "--max-tokens", "4", "--json"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const QJsonObject b = parse_object(r.out);
        QVERIFY2(!b.isEmpty(), r.out.constData());
        QCOMPARE(b["requests"].toInt(), 6);
        QCOMPARE(b["delta_mode"].toString(), QStringLiteral("separate"));
        QVERIFY(b["delta_bytes"].toDouble() > 0 && b["base_bytes"].toDouble() > 0);
        const QList<QPair<const char*, int>> runs = {
            {"batched", 3}, {"one_at_a_time", 1}, {"reload_per_request", 1}};
        for (const auto& [name, max_batch] : runs) {
            const QJsonObject s = b[name].toObject();
            QVERIFY2(!s.isEmpty(), name);
            QCOMPARE(s["max_batch"].toInt(), max_batch);
            // No EOS stop: every request generates its 4 tokens.
            QCOMPARE(s["generated_tokens"].toInt(), 6 * 4);
            QVERIFY2(s["wall_s"].toDouble() > 0, name);
            QVERIFY(qAbs(s["tokens_per_second"].toDouble() * s["wall_s"].toDouble() - 24) < 1e-6);
            for (const char* f : {"ttft", "per_token", "queue"}) {
                const double p50 = s[QString(f) + "_p50_ms"].toDouble();
                const double p99 = s[QString(f) + "_p99_ms"].toDouble();
                QVERIFY2(p50 >= 0 && p50 <= p99, qPrintable(QString(name) + " " + f));
            }
            QVERIFY2(s["ttft_p50_ms"].toDouble() > 0, name);
            QVERIFY2(s["per_token_p50_ms"].toDouble() > 0, name);
            QVERIFY2(s["max_batch_seen"].toInt() >= 1 && s["max_batch_seen"].toInt() <= max_batch,
                     name);
        }
        const QJsonObject q = b["batched_over_one_at_a_time"].toObject();
        QCOMPARE(q["tokens_per_second"].toDouble(),
                 b["batched"].toObject()["tokens_per_second"].toDouble() /
                     b["one_at_a_time"].toObject()["tokens_per_second"].toDouble());
        QVERIFY2(b["same_tokens"].toBool(), r.out.constData());
        QVERIFY(b["mismatched_requests"].toArray().isEmpty());
        QVERIFY2(b["reload_same_tokens"].toBool(), r.out.constData());
    }

    // bench serve --moe: the variants through a consolidation plan (batched and one at a time)
    // and engines restarted on a variant's full weights per switch.
    void benchServeMoe() {
        MESWITCH_REQUIRE_FIXTURE(family, "tiny-mixtral");
        const Run r = run_cli({"bench", "serve", "--moe", QString::fromStdString(family.string()),
                               "--requests", "6", "--clients", "3", "--max-tokens", "4", "--json"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const QJsonObject b = parse_object(r.out);
        QVERIFY2(!b.isEmpty(), r.out.constData());
        QCOMPARE(
            b["variants"].toArray(),
            QJsonArray({QStringLiteral("code"), QStringLiteral("math"), QStringLiteral("qa")}));
        QCOMPARE(b["positions"].toInt(), 20);  // 5 layers × 4 experts
        QCOMPARE(b["shared_positions"].toInt(), 10);
        QVERIFY(b["expert_bytes"].toDouble() < b["expert_bytes_unconsolidated"].toDouble());
        const QList<QPair<const char*, int>> runs = {
            {"consolidated", 3}, {"consolidated_one_at_a_time", 1}, {"restart_per_switch", 3}};
        for (const auto& [name, max_batch] : runs) {
            const QJsonObject s = b[name].toObject();
            QCOMPARE(s["max_batch"].toInt(), max_batch);
            QCOMPARE(s["generated_tokens"].toInt(), 6 * 4);
            QVERIFY2(s["wall_s"].toDouble() > 0, name);
            for (const char* f : {"ttft", "per_token"}) {
                const double p50 = s[QString(f) + "_p50_ms"].toDouble();
                const double p99 = s[QString(f) + "_p99_ms"].toDouble();
                QVERIFY2(p50 > 0 && p50 <= p99, qPrintable(QString(name) + " " + f));
            }
        }
        QVERIFY(b["restarts"].toInt() >= 0 && b["restarts"].toInt() <= 5);  // 6 requests
        QVERIFY(b["restarts"].toInt() == 0 || b["restart_ms_mean"].toDouble() > 0);
        QVERIFY2(b["same_tokens"].toBool(), r.out.constData());
    }

    // meswitch chat on a Mixtral variant of a stored consolidation plan: answered by the
    // consolidated model (the engine's MoE side model), not by the variant's full weights; the
    // greedy answer equals what the plan's model gives for that variant.
    void chatOnMoeVariantUsesTheConsolidatedModel() {
        MESWITCH_REQUIRE_FIXTURE(family, "tiny-mixtral");
        QTemporaryDir home;
        const QString h = home.path();
        const QString f = QString::fromStdString(family.string());
        QCOMPARE(run_cli({"--home", h, "import", f + "/base", "--name", "tm-base"}).exit_code, 0);
        for (const char* v : {"math", "code", "qa"})
            QCOMPARE(run_cli({"--home", h, "import", f + "/" + v, "--name", QString("tm-") + v,
                              "--base", "tm-base"})
                         .exit_code,
                     0);
        const Run plan = run_cli({"--home", h, "moe", "plan", "--base", "tm-base", "--variant",
                                  "tm-math", "--variant", "tm-code", "--variant", "tm-qa",
                                  "--shared", "10", "--name", "tm"});
        QVERIFY2(plan.exit_code == 0, plan.err.constData());
        const Run r = run_cli({"--home", h, "chat", "--expert", "tm-code", "--raw", "--prompt",
                               "Once upon a time", "--max-tokens", "12", "--threads", "1"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QVERIFY2(r.err.contains("variant of consolidated MoE plan 'tm'"), r.err.constData());

        // The same greedy continuation from the plan's consolidated model.
        meswitch::Catalog cat(std::filesystem::path(h.toStdString()) / "catalog.sqlite");
        const auto plans = meswitch::moe::list_plans(cat);
        QCOMPARE(plans.size(), std::size_t(1));
        meswitch::moe::ReconfigurableMoe moe(plans[0]);
        moe.activate(moe.variant_index("code"));
        const auto tok = meswitch::Tokenizer::from_folder(family / "base");
        meswitch::GenerateOptions o;
        o.max_tokens = 12;
        o.sampling.temperature = 0.0f;
        o.stop_on_bos = true;
        const auto want = meswitch::generate(moe.model(), tok, tok.encode("Once upon a time"), o);
        QVERIFY2(r.out.contains(QByteArray::fromStdString(want.text)),
                 (r.out + " vs " + QByteArray::fromStdString(want.text)).constData());
    }

    void unknownCommandFails() {
        const Run r = run_cli({"no-such-command"});
        QVERIFY(r.exit_code != 0);
        QVERIFY(!r.err.isEmpty() || !r.out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
