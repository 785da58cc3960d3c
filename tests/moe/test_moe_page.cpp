// The MoE families page: a plan saved in a temporary catalog shows as a layer × expert grid,
// shared positions marked and coloured apart from per-variant ones, the memory saving in the
// summary, and the distance colouring ordered from the most to the least similar position.
#include <QComboBox>
#include <QLabel>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "meswitch/catalog.h"
#include "meswitch/moe.h"
#include "moe_page.h"
#include "test_support.h"

using namespace meswitch;

class TestMoePage : public QObject {
    Q_OBJECT

private slots:
    void shows_the_plan_grid() {
        QTemporaryDir tmp;
        Catalog cat(std::filesystem::path(tmp.path().toStdString()) / "catalog.sqlite");
        MoePage page(cat);
        page.refresh();
        QCOMPARE(page.grid()->rowCount(), 0);
        QVERIFY(page.summary()->text().contains("meswitch moe plan"));

        // A hand-made 2 × 3 plan for variants a and b: positions 0.1 and 1.2 shared.
        moe::ConsolidationPlan p;
        p.name = "family";
        p.base = "/models/base";
        p.variants = {"/models/a", "/models/b"};
        p.variant_names = {"a", "b"};
        p.layers = 2;
        p.experts = 3;
        p.expert_block_bytes = 1048576;
        p.non_expert_bytes = 4096;
        p.shared = {false, true, false, false, false, true};
        p.distance = {3.0, 1.0, 2.5, 4.0, 5.0, 1.5};
        p.base_distance = {2, 1, 2, 3, 3, 1};
        moe::save_plan(cat, p);
        page.refresh();
        QCOMPARE(page.planBox()->count(), 1);
        QCOMPARE(page.grid()->rowCount(), 2);
        QCOMPARE(page.grid()->columnCount(), 3);
        QVERIFY(page.grid()->item(0, 1)->text().startsWith("shared"));
        QVERIFY(page.grid()->item(0, 0)->text().startsWith("own"));
        QVERIFY(page.grid()->item(0, 1)->background() != page.grid()->item(0, 0)->background());
        QCOMPARE(page.grid()->item(1, 2)->background(), page.grid()->item(0, 1)->background());
        // 2 shared of 6: 2 + 4 × 2 = 10 blocks of 1 MiB instead of 12.
        QVERIFY(page.summary()->text().contains("10.00 MiB"));
        QVERIFY(page.summary()->text().contains("12.00 MiB"));
        QVERIFY(page.summary()->text().contains("saves 2.00 MiB"));

        page.setColouring(MoePage::Colouring::distance);
        QCOMPARE(page.colouringBox()->currentIndex(), 1);
        // Most similar position (0.1) greener (higher hue) than the least similar (1.1).
        QVERIFY(page.grid()->item(0, 1)->background().color().hueF() >
                page.grid()->item(1, 1)->background().color().hueF());
    }
};

QTEST_MAIN(TestMoePage)
#include "test_moe_page.moc"
