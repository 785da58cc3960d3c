// Acceptance figures of expert consolidation on the tiny-mixtral family: each variant's
// held-out NLL on its own domain (stories260K-experts/eval/<domain>.txt) when the three
// variants share 10 of the 20 expert positions (40 of 60 blocks stored), for each choice of
// the shared block (mean, medoid, base), against its unconsolidated self and against plain
// parameter averaging of the variants. Writes test-output/moe/acceptance.json.
#include <QtTest>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "meswitch/evaluate.h"
#include "meswitch/model.h"
#include "meswitch/moe.h"
#include "meswitch/tokenizer.h"
#include "moe/delta_variants.h"
#include "test_support.h"

using namespace meswitch;
using namespace meswitch::moe;

class TestMoeAcceptance : public QObject {
    Q_OBJECT

private slots:
    void consolidation_beats_averaging() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        MESWITCH_REQUIRE_FIXTURE(eval_dir, "stories260K-experts/eval");
        const std::vector<std::string> domains{"math", "code", "qa"};
        std::vector<std::filesystem::path> variants;
        for (const auto& d : domains) variants.push_back(dir / d);
        const Tokenizer tok = Tokenizer::from_folder(dir / "base");
        std::vector<std::vector<std::string>> texts;
        for (const auto& d : domains) texts.push_back(read_text_lines(eval_dir / (d + ".txt")));

        const DistanceTable table = expert_distances(dir / "base", variants);
        nlohmann::json report;
        std::map<std::string, std::vector<double>> nll;  // config → per variant
        auto run_plan = [&](const std::string& label, std::int64_t shared, SharedExpert choice) {
            PlanOptions o;
            o.shared_positions = shared;
            o.shared_expert = choice;
            const ConsolidationPlan p = plan_consolidation(table, o);
            ReconfigurableMoe family(p, RuntimeOptions{true, 1});
            for (std::size_t v = 0; v < variants.size(); ++v) {
                family.activate(v);
                nll[label].push_back(evaluate(family.model(), tok, texts[v]).mean_nll);
            }
            report[label]["expert_blocks"] = p.expert_bytes() / p.expert_block_bytes;
        };
        run_plan("own (60 blocks)", 0, SharedExpert::mean);
        run_plan("share 10: mean", 10, SharedExpert::mean);
        run_plan("share 10: medoid", 10, SharedExpert::medoid);
        run_plan("share 10: base", 10, SharedExpert::base);
        run_plan("share 20: mean (expert averaging)", 20, SharedExpert::mean);
        {
            Model avg = average_variants(variants, 1);
            for (std::size_t v = 0; v < variants.size(); ++v)
                nll["parameter averaging"].push_back(evaluate(avg, tok, texts[v]).mean_nll);
        }
        for (const auto& [label, values] : nll) {
            report[label]["nll"] = values;
            qInfo("%-36s math %.3f  code %.3f  qa %.3f", label.c_str(), values[0], values[1],
                  values[2]);
        }
        std::ofstream(test::output_dir("moe") / "acceptance.json") << report.dump(2) << '\n';

        // Unconsolidated = the fixture README's own-domain NLL.
        const double readme[3] = {0.577, 0.424, 0.281};
        for (std::size_t v = 0; v < 3; ++v) {
            QVERIFY(std::fabs(nll["own (60 blocks)"][v] - readme[v]) < 2e-3);
            const double best = std::min(
                {nll["share 10: mean"][v], nll["share 10: medoid"][v], nll["share 10: base"][v]});
            // Consolidation costs something but stays far below parameter averaging: less
            // than half the averaged model's NLL on every domain.
            QVERIFY(best >= nll["own (60 blocks)"][v] - 1e-3);
            QVERIFY2(best < 0.5 * nll["parameter averaging"][v],
                     qPrintable(QString("variant %1: %2 vs %3")
                                    .arg(v)
                                    .arg(best)
                                    .arg(nll["parameter averaging"][v])));
            QVERIFY(nll["share 10: mean"][v] < nll["share 20: mean (expert averaging)"][v]);
        }
    }

    // The same variants kept as ME-Switch deltas against the base (no calibration data:
    // weight-space metric), at 2 and 4 bits: NLL on the own domain and stored bytes.
    void deltas_on_the_same_variants() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        MESWITCH_REQUIRE_FIXTURE(eval_dir, "stories260K-experts/eval");
        const std::vector<std::string> domains{"math", "code", "qa"};
        const Tokenizer tok = Tokenizer::from_folder(dir / "base");
        nlohmann::json report;
        for (int bits : {2, 4}) {
            std::vector<double> nll;
            std::uint64_t delta_bytes = 0, dense_bytes = 0;
            for (const auto& d : domains) {
                DeltaVariantOptions o;
                o.bits = bits;
                o.threads = 1;
                DeltaVariant dv = delta_variant(dir / "base", dir / d, o);
                nll.push_back(
                    evaluate(dv.model, tok, read_text_lines(eval_dir / (d + ".txt"))).mean_nll);
                delta_bytes += dv.delta_bytes;
                dense_bytes = dv.dense_bytes;
            }
            const std::string label = "deltas " + std::to_string(bits) + " bit";
            report[label] = {{"nll", nll},
                             {"delta_bytes_all_variants", delta_bytes},
                             {"base_bytes", dense_bytes},
                             {"total_bytes", delta_bytes + dense_bytes}};
            qInfo("%-14s math %.3f  code %.3f  qa %.3f   base %.2f MiB + deltas %.2f MiB",
                  label.c_str(), nll[0], nll[1], nll[2], dense_bytes / 1048576.0,
                  delta_bytes / 1048576.0);
            QVERIFY(delta_bytes < 3 * dense_bytes);  // smaller than three full variants
            for (double x : nll) QVERIFY(std::isfinite(x) && x > 0);
        }
        // 4 bits is closer to the fine-tuned models than 2 bits on every domain.
        for (std::size_t v = 0; v < 3; ++v)
            QVERIFY(report["deltas 4 bit"]["nll"][v].get<double>() <
                    report["deltas 2 bit"]["nll"][v].get<double>());
        std::ofstream(test::output_dir("moe") / "deltas.json") << report.dump(2) << '\n';
    }
};

QTEST_GUILESS_MAIN(TestMoeAcceptance)
#include "test_moe_acceptance.moc"
