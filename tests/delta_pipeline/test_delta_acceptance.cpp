// Acceptance figures of ME-Switch delta compression on the stories260K expert family
// (shared/fixtures/stories260K-experts): held-out output error against plain RTN, held-out
// NLL of base + Δ̂ against the uncompressed expert, and the storage cost. Skips when the
// fixture is absent.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "meswitch/compress.h"
#include "meswitch/evaluate.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace meswitch;

namespace {

constexpr std::size_t calibration_lines = 64;

// fixtures README: mean per-token NLL on the held-out files.
const std::map<std::string, std::map<std::string, double>> readme_nll = {
    {"base", {{"math", 5.828}, {"code", 7.248}, {"qa", 3.211}}},
    {"math", {{"math", 0.556}, {"code", 9.881}, {"qa", 6.460}}},
    {"code", {{"math", 9.946}, {"code", 0.423}, {"qa", 9.600}}},
    {"qa", {{"math", 8.024}, {"code", 11.040}, {"qa", 0.279}}},
};

void write_lines(const fs::path& file, const std::vector<std::string>& lines, std::size_t from,
                 std::size_t to) {
    std::ofstream out(file, std::ios::binary);
    for (std::size_t i = from; i < to; ++i) out << lines[i] << '\n';
}

std::string layer_type(const std::string& name) {
    for (const char* t :
         {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
        if (name.find(t) != std::string::npos) return t;
    return "other";
}

}  // namespace

class TestDeltaAcceptance : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void uncompressedNllTable() {
        MESWITCH_REQUIRE_FIXTURE(root, "stories260K-experts");
        MESWITCH_REQUIRE_FIXTURE(base, "stories260K-hf");
        const Tokenizer tok = Tokenizer::from_folder(base);
        std::map<std::string, std::map<std::string, double>> nll;
        for (const auto& [model_name, row] : readme_nll) {
            Model m = Model::load(model_name == "base" ? base : root / model_name, ModelOptions{2});
            for (const auto& [domain, expected] : row) {
                const EvalResult r =
                    evaluate(m, tok, read_text_lines(root / "eval" / (domain + ".txt")));
                nll[model_name][domain] = r.mean_nll;
                QVERIFY2(std::abs(r.mean_nll - expected) <= 1e-3,
                         qPrintable(QString("%1 on %2: %3, README %4")
                                        .arg(model_name.c_str(), domain.c_str())
                                        .arg(r.mean_nll)
                                        .arg(expected)));
            }
        }
        for (const char* d : {"math", "code", "qa"}) QVERIFY(nll[d][d] < nll["base"][d]);
    }

    void compressedExpertsMeetTargets_data() {
        QTest::addColumn<QString>("domain");
        QTest::newRow("math") << "math";
        QTest::newRow("code") << "code";
        QTest::newRow("qa") << "qa";
    }
    void compressedExpertsMeetTargets() {
        MESWITCH_REQUIRE_FIXTURE(root, "stories260K-experts");
        MESWITCH_REQUIRE_FIXTURE(base, "stories260K-hf");
        QFETCH(QString, domain);
        const std::string d = domain.toStdString();
        const fs::path tmp = m_dir.path().toStdString();
        const auto lines = read_text_lines(root / "eval" / (d + ".txt"));
        QVERIFY(lines.size() > calibration_lines);
        write_lines(tmp / (d + "-calib.txt"), lines, 0, calibration_lines);
        write_lines(tmp / (d + "-heldout.txt"), lines, calibration_lines, lines.size());
        const std::vector<std::string> heldout(lines.begin() + calibration_lines, lines.end());

        CompressOptions o;  // defaults: ME-Switch, 2 bits
        o.calibration_file = tmp / (d + "-calib.txt");
        o.heldout_file = tmp / (d + "-heldout.txt");
        o.baseline = true;
        o.threads = 2;
        o.out = tmp / (d + ".msd");
        const CompressResult r = compress_expert(base, root / d, o);

        // Held-out output error per layer type, ME-Switch / RTN (per-row min/max).
        std::map<std::string, std::pair<double, double>> by_type;
        for (const auto& l : r.layers) {
            auto& acc = by_type[layer_type(l.name)];
            acc.first += l.heldout_rel_output_error;
            acc.second += l.heldout_baseline_rel_output_error;
        }
        QString table;
        for (const auto& [type, acc] : by_type)
            table += QString(" %1 %2").arg(type.c_str()).arg(acc.first / acc.second, 0, 'f', 3);
        const double ratio =
            r.mean_heldout_rel_output_error / r.mean_heldout_baseline_rel_output_error;

        const Tokenizer tok = Tokenizer::from_folder(base);
        Model expert = Model::load(root / d, ModelOptions{2});
        const double nll_expert = evaluate(expert, tok, heldout).mean_nll;
        Model model = Model::load(base, ModelOptions{2});
        AppliedDelta applied(model, r.artifact, checkpoint_hash(base), DeltaMode::separate);
        const double nll_compressed = evaluate(model, tok, heldout).mean_nll;
        const double nll_change = nll_compressed / nll_expert - 1.0;
        qInfo(
            "%s: held-out error ratio %.3f (ME-Switch %.4f, RTN %.4f), per type:%s; NLL %.4f -> "
            "%.4f (%+.2f%%); %.3f bits/param",
            d.c_str(), ratio, r.mean_heldout_rel_output_error,
            r.mean_heldout_baseline_rel_output_error, qPrintable(table), nll_expert, nll_compressed,
            100 * nll_change, r.bits_per_param);

        QVERIFY2(ratio <= 0.6, qPrintable(QString("error ratio %1 > 0.6").arg(ratio)));
        QVERIFY2(nll_change <= 0.015, qPrintable(QString("NLL +%1%").arg(100 * nll_change)));
        QVERIFY2(r.bits_per_param <= 2.7,
                 qPrintable(QString("%1 bits/param").arg(r.bits_per_param)));
    }
};

QTEST_GUILESS_MAIN(TestDeltaAcceptance)
#include "test_delta_acceptance.moc"
