// `meswitch route` end to end on tiny generated models: the JSON keys other tools rely on,
// the threshold option, --eval and the message when the catalog has no experts.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <fstream>

#include "tiny_model.h"

namespace fs = std::filesystem;

namespace {

struct Run {
    int code = -1;
    QByteArray out, err;
};

Run run_cli(const QString& home, const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(MESWITCH_CLI_PATH),
            QStringList{"--home", home, "--log-level", "error"} + args);
    p.waitForFinished(120000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

QJsonObject json_of(const Run& r) {
    QJsonParseError e;
    const auto doc = QJsonDocument::fromJson(r.out, &e);
    if (e.error != QJsonParseError::NoError) qWarning() << r.out << r.err;
    return doc.object();
}

}  // namespace

class TestRouteCli : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_home;

    QString path(const char* sub) const { return m_dir.filePath(sub); }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_home = path("home");
        meswitch::test::TinyModelSpec spec;
        spec.seed = 5;
        meswitch::test::write_tiny_model(path("base").toStdString(), spec);
        const char* domains[] = {"math", "code"};
        const char* examples[][3] = {{"Q: 1+2=? A:", "Q: 7-3=? A:", "Q: 4*4=? A:"},
                                     {"x = [1, 2]", "def f(a): return a", "for i in r: print(i)"}};
        for (int d = 0; d < 2; ++d) {
            meswitch::test::write_expert_of(path("base").toStdString(),
                                            path(domains[d]).toStdString(), 0.01,
                                            static_cast<std::uint64_t>(d + 1));
            std::ofstream f(path(domains[d]).toStdString() + ".txt");
            for (const char* e : examples[d]) f << e << "\n";
        }
    }

    void no_experts_says_how_to_import() {
        const Run r = run_cli(path("empty-home"), {"route", "--prompt", "hi"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("meswitch import"), r.err.constData());
    }

    void route_and_eval() {
        QCOMPARE(run_cli(m_home, {"import", path("base"), "--name", "base"}).code, 0);
        for (const char* d : {"math", "code"}) {
            const Run r =
                run_cli(m_home, {"import", path(d), "--name", QString(d) + "-expert", "--base",
                                 "base", "--domain", d, "--examples", path(d) + ".txt"});
            QVERIFY2(r.code == 0, r.err.constData());
        }
        Run r = run_cli(m_home, {"route", "--prompt", "Q: 2+2=? A:", "--json", "--threshold", "0"});
        QVERIFY2(r.code == 0, r.err.constData());
        QJsonObject j = json_of(r);
        for (const char* key : {"expert", "domain", "confidence", "alternatives", "router",
                                "reason", "latency_ms", "prompt_tokens", "truncated"})
            QVERIFY2(j.contains(key), key);
        QCOMPARE(j["router"].toString(), QString("feature"));
        QCOMPARE(j["expert"].toObject()["name"].toString(), j["domain"].toString() + "-expert");
        QVERIFY(j["expert"].toObject()["id"].toInt() > 0);
        QCOMPARE(j["alternatives"].toArray().size(), 1);
        const auto lat = j["latency_ms"].toObject();
        QVERIFY(lat.contains("features") && lat.contains("classify") && lat.contains("total"));

        r = run_cli(m_home, {"route", "--prompt", "Q: 2+2=? A:", "--json", "--threshold", "1"});
        j = json_of(r);
        QVERIFY(j["expert"].isNull());
        QCOMPARE(j["reason"].toString(), QString("below threshold"));

        r = run_cli(m_home, {"route", "--prompt", "", "--json"});
        QCOMPARE(r.code, 0);
        QCOMPARE(json_of(r)["reason"].toString(), QString("empty prompt"));

        {
            std::ofstream f(path("eval.tsv").toStdString());
            f << "math\tQ: 9+1=? A:\ncode\ty = [3]\nmath\tQ: 5-2=? A:\n";
        }
        r = run_cli(m_home, {"route", "--eval", path("eval.tsv"), "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        j = json_of(r);
        for (const char* key : {"accuracy", "per_domain", "confusion", "mean_latency_ms", "router"})
            QVERIFY2(j.contains(key), key);
        const auto math = j["per_domain"].toObject()["math"].toObject();
        QCOMPARE(math["support"].toInt(), 2);
        QVERIFY(math.contains("precision") && math.contains("recall"));
        int total = 0;
        const auto conf = j["confusion"].toObject();
        for (const auto& truth : conf.keys())
            for (const auto& n : conf[truth].toObject()) total += n.toInt();
        QCOMPARE(total, 3);

        r = run_cli(m_home, {"route", "--eval", path("eval.tsv"), "--json", "--zero-shot"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(json_of(r)["router"].toString(), QString("zero-shot"));

        r = run_cli(m_home, {"route", "--prompt", "x", "--json", "--retrain"});
        QCOMPARE(json_of(r)["router_info"].toObject()["trained"].toBool(), true);
    }
};

QTEST_GUILESS_MAIN(TestRouteCli)
#include "test_route_cli.moc"
