// Expert consolidation on the tiny-mixtral family: distances against the fixture README's
// table, plans under a budget, catalog storage (and the migration that adds its tables),
// and the reconfigurable runtime: a switch copies no expert block and each variant's
// logits are its own model's.
#include <sqlite3.h>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "meswitch/catalog.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "meswitch/moe.h"
#include "test_support.h"

using namespace meswitch;
using namespace meswitch::moe;

namespace {

std::vector<std::filesystem::path> variants_of(const std::filesystem::path& dir) {
    return {dir / "math", dir / "code", dir / "qa"};
}

std::vector<float> logits_of(Model& m, const std::vector<std::int32_t>& ids) {
    KvCache c = m.make_cache(64);
    ForwardOptions all;
    all.all_positions = true;
    return m.forward(ids, c, all);
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::fabs(a[i] - b[i])));
    return d;
}

const std::vector<std::int32_t> probe{1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};

}  // namespace

class TestMoe : public QObject {
    Q_OBJECT

private slots:
    void distances_match_the_fixture() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        const DistanceTable d = expert_distances(dir / "base", variants_of(dir));
        QCOMPARE(d.positions.size(), std::size_t(20));
        QCOMPARE(d.variant_names, (std::vector<std::string>{"math", "code", "qa"}));
        QCOMPARE(d.expert_block_bytes, std::uint64_t(3 * 172 * 64 * 4));
        // README "Per position": 0.0 math-code 2.891, math-qa 2.769, code-qa 2.858,
        // math-base 2.175; 4.1 math-code 4.298; ‖base‖ 22.23 / 24.11.
        const PositionDistances& p0 = d.positions[0];
        QVERIFY(std::fabs(p0.pairwise[0] - 2.891) < 1e-3);
        QVERIFY(std::fabs(p0.pairwise[1] - 2.769) < 1e-3);
        QVERIFY(std::fabs(p0.pairwise[2] - 2.858) < 1e-3);
        QVERIFY(std::fabs(p0.to_base[0] - 2.175) < 1e-3);
        QVERIFY(std::fabs(p0.base_norm - 22.23) < 1e-2);
        const PositionDistances& p17 = d.positions[17];
        QCOMPARE(p17.layer, std::int64_t(4));
        QCOMPARE(p17.expert, std::int64_t(1));
        QVERIFY(std::fabs(p17.pairwise[0] - 4.298) < 1e-3);
        const DistanceTable c =
            expert_distances(dir / "base", variants_of(dir), DistanceMetric::cosine);
        for (const auto& p : c.positions)
            for (double x : p.pairwise) QVERIFY(x > 0 && x < 0.1);
    }

    void plan_under_a_budget() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        const DistanceTable d = expert_distances(dir / "base", variants_of(dir));
        const std::uint64_t block = d.expert_block_bytes;
        PlanOptions o;
        o.budget_bytes = 40 * block;  // two thirds of the 60 blocks
        const ConsolidationPlan p = plan_consolidation(d, o);
        QCOMPARE(p.shared_count(), std::int64_t(10));
        QCOMPARE(p.expert_bytes(), 40 * block);
        QCOMPARE(p.saved_bytes(), 20 * block);
        // The most similar positions are the shared ones.
        double max_shared = 0, min_own = 1e9;
        for (std::size_t i = 0; i < 20; ++i)
            (p.shared[i] ? max_shared : min_own) = p.shared[i] ? std::max(max_shared, p.distance[i])
                                                               : std::min(min_own, p.distance[i]);
        QVERIFY(max_shared <= min_own);
        QVERIFY(p.is_shared(0, 3));       // 0.3 is the closest position in the README table
        QVERIFY(!p.is_shared(4, 1));      // 4.1 among the farthest
        o.budget_bytes = 41 * block - 1;  // one byte over 40 blocks still needs 10 shared
        QCOMPARE(plan_consolidation(d, o).shared_count(), std::int64_t(10));
        o.budget_bytes = 60 * block;
        QCOMPARE(plan_consolidation(d, o).shared_count(), std::int64_t(0));
        o.budget_bytes = 20 * block - 1;
        QVERIFY_THROWS_EXCEPTION(Error, plan_consolidation(d, o));
        PlanOptions n;
        n.shared_positions = 21;
        QVERIFY_THROWS_EXCEPTION(Error, plan_consolidation(d, n));
    }

    void plan_round_trips_through_the_catalog() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        QTemporaryDir tmp;
        Catalog cat(std::filesystem::path(tmp.path().toStdString()) / "catalog.sqlite");
        QCOMPARE(cat.schema_version(), Catalog::current_schema_version);
        PlanOptions o;
        o.shared_positions = 10;
        o.shared_expert = SharedExpert::medoid;
        ConsolidationPlan p =
            plan_consolidation(expert_distances(dir / "base", variants_of(dir)), o);
        p.name = "tiny family";
        const std::int64_t id = save_plan(cat, p);
        QCOMPARE(p.catalog_id, std::optional<std::int64_t>(id));
        const auto back = load_plan(cat, id);
        QVERIFY(back);
        QCOMPARE(back->name, std::string("tiny family"));
        QCOMPARE(back->shared, p.shared);
        QCOMPARE(back->variant_names, p.variant_names);
        QCOMPARE(back->variants, p.variants);
        QCOMPARE(back->shared_expert, SharedExpert::medoid);
        QCOMPARE(back->expert_bytes(), p.expert_bytes());
        QVERIFY(std::fabs(back->distance[7] - p.distance[7]) < 1e-12);
        QCOMPARE(list_plans(cat).size(), std::size_t(1));
        remove_plan(cat, id);
        QVERIFY(!load_plan(cat, id));
        QVERIFY(list_plans(cat).empty());
    }

    void migration_from_schema_3_adds_the_plan_tables() {
        QTemporaryDir tmp;
        const auto file = std::filesystem::path(tmp.path().toStdString()) / "old.sqlite";
        {
            Catalog cat(file);
            ModelRecord m;
            m.name = "kept";
            m.role = ModelRole::base;
            cat.add_model(m);
        }
        {  // turn it back into a schema-3 catalog (undo migrations 6, 5 and 4)
            sqlite3* db = nullptr;
            QCOMPARE(sqlite3_open(file.c_str(), &db), SQLITE_OK);
            QCOMPARE(sqlite3_exec(db,
                                  "ALTER TABLE models DROP COLUMN generation_config; "
                                  "DROP TABLE message_alternatives; "
                                  "ALTER TABLE messages DROP COLUMN alternative; "
                                  "DROP TABLE moe_plan_positions; DROP TABLE moe_plan_variants; "
                                  "DROP TABLE moe_plans; PRAGMA user_version = 3;",
                                  nullptr, nullptr, nullptr),
                     SQLITE_OK);
            sqlite3_close(db);
        }
        Catalog cat(file);
        QCOMPARE(cat.schema_version(), Catalog::current_schema_version);
        QVERIFY(cat.find_model("kept"));
        QVERIFY(list_plans(cat).empty());  // the tables exist again
    }

    void switching_copies_no_expert_block() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        PlanOptions o;
        o.shared_positions = 10;
        const ConsolidationPlan p =
            plan_consolidation(expert_distances(dir / "base", variants_of(dir)), o);
        ReconfigurableMoe family(p, RuntimeOptions{true, 1});
        const ResidentMemory mem = family.memory();
        QCOMPARE(mem.shared_expert_bytes, 10 * p.expert_block_bytes);
        QCOMPARE(mem.own_expert_bytes, 30 * p.expert_block_bytes);
        QCOMPARE(mem.non_expert_bytes, p.non_expert_bytes);

        // Shared blocks: one address for every variant, the one the model runs, before and
        // after switches; own blocks: a different address per variant.
        std::vector<const std::byte*> shared_before;
        for (std::int64_t l = 0; l < 5; ++l)
            for (std::int64_t e = 0; e < 4; ++e)
                if (p.is_shared(l, e)) {
                    const auto name = expert_tensor_names(l, e)[1];
                    shared_before.push_back(family.model().weight(name).data);
                    QCOMPARE(family.expert_block(0, l, e, 1), family.expert_block(2, l, e, 1));
                } else {
                    QVERIFY(family.expert_block(0, l, e, 1) != family.expert_block(1, l, e, 1));
                }
        for (std::size_t v : {1u, 2u, 0u, 2u}) {
            const SwitchStats s = family.activate(v);
            QCOMPARE(s.expert_bytes_copied, std::uint64_t(0));
            QCOMPARE(s.bytes_copied, p.non_expert_bytes);  // only the non-expert layers move
            std::size_t k = 0;
            for (std::int64_t l = 0; l < 5; ++l)
                for (std::int64_t e = 0; e < 4; ++e) {
                    const auto name = expert_tensor_names(l, e)[1];
                    const std::byte* now = family.model().weight(name).data;
                    QCOMPARE(now, family.expert_block(v, l, e, 1));
                    if (p.is_shared(l, e)) QCOMPARE(now, shared_before[k++]);
                }
        }
        QCOMPARE(family.total_bytes_copied(), 4 * p.non_expert_bytes);
        QCOMPARE(family.activate(2).bytes_copied, std::uint64_t(0));  // already active
    }

    void unconsolidated_variants_are_their_own_models() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        PlanOptions o;
        o.shared_positions = 0;
        const ConsolidationPlan p =
            plan_consolidation(expert_distances(dir / "base", variants_of(dir)), o);
        for (bool swap : {true, false}) {
            ReconfigurableMoe family(p, RuntimeOptions{swap, 1});
            for (std::size_t v : {2u, 0u, 1u}) {
                family.activate(v);
                Model own = Model::load(p.variants[v], ModelOptions{1});
                QCOMPARE(max_diff(logits_of(family.model(), probe), logits_of(own, probe)), 0.0);
            }
        }
        QCOMPARE(ReconfigurableMoe(p).variant_index("qa"), std::size_t(2));
        QVERIFY_THROWS_EXCEPTION(Error, ReconfigurableMoe(p).variant_index("poetry"));
    }

    void mismatched_variant_is_refused() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        MESWITCH_REQUIRE_FIXTURE(dense, "stories260K-hf");
        try {
            expert_distances(dir / "base", {dir / "math", dense});
            QFAIL("a dense model was accepted as a variant");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("stories260K-hf") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(Error, expert_distances(dir / "base", {dir / "math"}));
    }
};

QTEST_GUILESS_MAIN(TestMoe)
#include "test_moe.moc"
