// The MoE families page: a plan saved in a temporary catalog shows as a layer × expert grid,
// shared positions marked and coloured apart from per-variant ones, the memory saving in the
// summary, and the distance colouring ordered from the most to the least similar position.
// Plans are made from the page (the tiny-mixtral fixture: the same plan as `meswitch moe
// plan`, progress shown, Cancel leaving nothing behind) and deleted from it; the New plan
// dialog lists the catalog's Mixtral models and says what is missing.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "gui_support.h"
#include "language_manager.h"
#include "meswitch/catalog.h"
#include "meswitch/import.h"
#include "meswitch/log.h"
#include "meswitch/moe.h"
#include "moe_page.h"
#include "moe_plan_dialog.h"
#include "studio_app.h"
#include "test_support.h"

using namespace meswitch;

class TestMoePage : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;

    static MoePlanRequest fixtureRequest(const std::filesystem::path& mix) {
        MoePlanRequest r;
        r.name = QStringLiteral("from the page");
        r.base = QString::fromStdString((mix / "base").string());
        for (const char* v : {"math", "code", "qa"})
            r.variants << QString::fromStdString((mix / v).string());
        r.sharedPositions = 6;
        return r;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        meswitch::test::use_temporary_settings(m_tmp.filePath(QStringLiteral("config")));
        Studio::initApplication();
        meswitch::init_logging({{}, false, "warn"});
        LanguageManager::apply(QStringLiteral("en"));
    }

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

        // Deleting (without the question) empties the list again.
        QVERIFY(page.deleteButton()->isEnabled());
        QVERIFY(page.deleteCurrentPlan(false));
        QCOMPARE(page.planBox()->count(), 0);
        QVERIFY(moe::list_plans(cat).empty());
        QVERIFY(!page.deleteButton()->isEnabled());
        QVERIFY(page.jobLabel()->text().contains("deleted"));
    }

    // The page makes the same plan as the CLI's path (expert_distances + plan_consolidation),
    // on the engine thread with progress, saves it and shows it.
    void makes_a_plan_from_the_page() {
        MESWITCH_REQUIRE_FIXTURE(mix, "tiny-mixtral");
        QTemporaryDir tmp;
        Catalog cat(std::filesystem::path(tmp.path().toStdString()) / "catalog.sqlite");
        MoePage page(cat);
        page.resize(1000, 700);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QVERIFY(!page.progressBar()->isVisible());
        QSignalSpy done(&page, &MoePage::planFinished);
        QVERIFY(page.startPlan(fixtureRequest(mix)));
        QVERIFY(page.busy());
        QVERIFY(!page.startPlan(fixtureRequest(mix)));  // one at a time
        QVERIFY(page.cancelButton()->isVisible() && page.progressBar()->isVisible());
        QVERIFY(!page.newButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(done.count() == 1, 60000);
        QCOMPARE(done.at(0).at(0).toBool(), true);
        QVERIFY(!page.busy());
        QVERIFY(!page.cancelButton()->isVisible());
        QCOMPARE(page.progressBar()->value(), 1000);
        QVERIFY2(page.jobLabel()->text().contains("saved"), qPrintable(page.jobLabel()->text()));

        const auto plans = moe::list_plans(cat);
        QCOMPARE(plans.size(), std::size_t(1));
        QCOMPARE(plans[0].name, std::string("from the page"));
        QCOMPARE(plans[0].shared_count(), std::int64_t(6));
        std::vector<std::filesystem::path> variants;
        for (const char* v : {"math", "code", "qa"}) variants.push_back(mix / v);
        moe::PlanOptions o;
        o.shared_positions = 6;
        const moe::ConsolidationPlan cli =
            moe::plan_consolidation(moe::expert_distances(mix / "base", variants), o);
        QCOMPARE(plans[0].shared, cli.shared);
        QCOMPARE(plans[0].distance, cli.distance);
        QCOMPARE(page.planBox()->count(), 1);
        QCOMPARE(page.grid()->rowCount(), int(cli.layers));
        QCOMPARE(page.grid()->columnCount(), int(cli.experts));
        QVERIFY(page.summary()->text().contains("6 of"));
        meswitch::test::save_screenshot(&page, "moe_page_plan_made.png");

        // A folder that is not a model: a clear message, nothing saved.
        MoePlanRequest bad = fixtureRequest(mix);
        bad.variants[1] = QStringLiteral("no-such-model");
        QVERIFY(page.startPlan(bad));
        QTRY_VERIFY_WITH_TIMEOUT(done.count() == 2, 60000);
        QCOMPARE(done.at(1).at(0).toBool(), false);
        QVERIFY2(page.jobLabel()->text().contains("'no-such-model' is neither a model in the "
                                                  "catalog nor a folder"),
                 qPrintable(page.jobLabel()->text()));
        QCOMPARE(moe::list_plans(cat).size(), std::size_t(1));
    }

    // Cancel right after starting: the job stops (between positions or before it runs) and
    // no plan is saved; the page is ready for the next one.
    void cancel_saves_nothing() {
        MESWITCH_REQUIRE_FIXTURE(mix, "tiny-mixtral");
        QTemporaryDir tmp;
        Catalog cat(std::filesystem::path(tmp.path().toStdString()) / "catalog.sqlite");
        MoePage page(cat);
        QSignalSpy done(&page, &MoePage::planFinished);
        QVERIFY(page.startPlan(fixtureRequest(mix)));
        page.cancelButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(done.count() == 1, 60000);
        QCOMPARE(done.at(0).at(0).toBool(), false);
        QVERIFY2(page.jobLabel()->text().contains("Cancelled"),
                 qPrintable(page.jobLabel()->text()));
        QVERIFY(moe::list_plans(cat).empty());
        QVERIFY(page.newButton()->isEnabled() && !page.busy());
    }

    // The dialog offers the catalog's Mixtral base and variants, says what is missing, and
    // turns its fields into the request the page runs.
    void the_dialog_gathers_a_request() {
        MESWITCH_REQUIRE_FIXTURE(mix, "tiny-mixtral");
        QTemporaryDir tmp;
        Catalog cat(std::filesystem::path(tmp.path().toStdString()) / "catalog.sqlite");
        ImportOptions bo;
        bo.name = "mix-base";
        import_model(cat, mix / "base", bo);
        for (const char* v : {"math", "code"}) {
            ImportOptions o;
            o.name = std::string("mix-") + v;
            o.base = "mix-base";
            import_model(cat, mix / v, o);
        }
        MoePage page(cat);
        std::unique_ptr<MoePlanDialog> dialog(page.newPlanDialog());
        QCOMPARE(dialog->baseBox()->currentText(), QStringLiteral("mix-base"));
        QCOMPARE(dialog->variantList()->count(), 3);  // every Mixtral model of the catalog
        QVERIFY(!dialog->makeButton()->isEnabled());
        QVERIFY(dialog->problem().contains("two variants"));
        for (int i = 0; i < dialog->variantList()->count(); ++i)
            if (dialog->variantList()->item(i)->text() != "mix-base")
                dialog->variantList()->item(i)->setCheckState(Qt::Checked);
        dialog->addVariantFolder(QString::fromStdString((mix / "qa").string()));
        QVERIFY(dialog->makeButton()->isEnabled());
        dialog->byBudgetButton()->setChecked(true);
        QVERIFY(!dialog->countBox()->isEnabled() && dialog->budgetBox()->isEnabled());
        dialog->budgetBox()->setValue(2.5);
        dialog->nameEdit()->setText(QStringLiteral("  fam  "));
        const MoePlanRequest r = dialog->request();
        QCOMPARE(r.name, QStringLiteral("fam"));
        QCOMPARE(r.base, QStringLiteral("mix-base"));
        QCOMPARE(r.variants.size(), 3);
        QVERIFY(r.variants.contains("mix-math") && r.variants.contains("mix-code"));
        QVERIFY(!r.sharedPositions.has_value());
        QCOMPARE(r.budgetBytes.value(), quint64(2.5 * 1048576));
        dialog->variantList()->item(0)->setCheckState(Qt::Checked);  // the base itself
        QVERIFY(!dialog->makeButton()->isEnabled());
        QVERIFY(dialog->problem().contains("base cannot also be a variant"));
        dialog->show();
        QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
        meswitch::test::save_screenshot(dialog.get(), "moe_plan_dialog.png");
    }
};

QTEST_MAIN(TestMoePage)
#include "test_moe_page.moc"
