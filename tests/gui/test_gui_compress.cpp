// The Compress page driven as a user would over a real (temporary) catalog holding a tiny base
// and expert: a small compression fills the charts (one point per layer, ME-Switch and the RTN
// baseline), the saliency view shows every input channel with the salient ones highlighted and
// both heat maps, a finished run reopens from the catalog at once, Cancel leaves no file and
// the catalog as it was, and the GUI thread never stalls for more than 100 ms meanwhile (a
// watchdog timer measures the longest gap between its ticks). Screenshots go to
// test-output/screenshots.
#include <QBarSeries>
#include <QBarSet>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QLabel>
#include <QLineSeries>
#include <QProgressBar>
#include <QPushButton>
#include <QScatterSeries>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QTreeWidget>
#include <QValueAxis>

#include <atomic>
#include <filesystem>
#include <functional>

#include "compress_charts.h"
#include "compress_page.h"
#include "engine_worker.h"
#include "gui_support.h"
#include "import_wizard.h"
#include "language_manager.h"
#include "library_page.h"
#include "main_window.h"
#include "meswitch/catalog.h"
#include "meswitch/import.h"
#include "meswitch/inspect.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "saliency_view.h"
#include "studio_app.h"
#include "test_support.h"
#include "tiny_model.h"

namespace fs = std::filesystem;
using meswitch::Catalog;

using meswitch::test::save_screenshot;

namespace {

QString qs(const fs::path& p) {
    return QString::fromStdString(p.string());
}

// Nanoseconds this thread has waited on a run queue (ready to run, but the CPU was given to
// another thread or process): the second field of /proc/thread-self/schedstat; -1 where the
// kernel does not provide it.
qint64 runQueueWaitNs() {
    QFile f(QStringLiteral("/proc/thread-self/schedstat"));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    const QList<QByteArray> fields = f.readAll().simplified().split(' ');
    bool ok = false;
    const qint64 wait = fields.size() >= 2 ? fields[1].toLongLong(&ok) : -1;
    return ok ? wait : -1;
}

// Measures the longest gap between ticks of a 10 ms timer on the GUI thread: in wall-clock
// time, and without the time the thread was ready but the kernel ran something else (on a
// machine shared with other heavy processes that time says nothing about the Studio: a stall
// of the Studio's own making is time the GUI thread spends working or blocked).
class Watchdog : public QObject {
public:
    Watchdog() {
        m_timer.setInterval(10);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 gap = m_clock.restart();
            const qint64 wait = runQueueWaitNs();
            const qint64 waited = wait >= 0 && m_lastWait >= 0 ? (wait - m_lastWait) / 1000000 : 0;
            m_lastWait = wait;
            const qint64 own = std::max<qint64>(0, gap - waited);
            if (gap > 50 && m_onLongGap) m_onLongGap(gap, own);
            m_longest = std::max(m_longest, gap);
            m_longestOwn = std::max(m_longestOwn, own);
            ++m_ticks;
        });
    }
    void start() {
        m_longest = m_longestOwn = 0;
        m_ticks = 0;
        m_lastWait = runQueueWaitNs();
        m_clock.start();
        m_timer.start();
    }
    void stop() { m_timer.stop(); }
    bool schedstatAvailable() const { return m_lastWait >= 0; }
    qint64 longestGapMs() const { return m_longest; }
    qint64 longestOwnGapMs() const { return m_longestOwn; }
    int ticks() const { return m_ticks; }
    // Called with every gap over 50 ms: wall-clock and own milliseconds.
    std::function<void(qint64, qint64)> m_onLongGap;

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_longest = 0, m_longestOwn = 0, m_lastWait = -1;
    int m_ticks = 0;
};

QString snapshot(const Catalog& cat) {
    QStringList out;
    for (const auto& a : cat.delta_artifacts())
        out << QStringLiteral("artifact %1 %2").arg(a.id).arg(QString::fromStdString(a.path));
    for (const auto& r : cat.compression_runs())
        out << QStringLiteral("run %1 %2").arg(r.id).arg(meswitch::to_string(r.status));
    out << QStringLiteral("models %1").arg(cat.list_models().size());
    return out.join(QLatin1Char('\n'));
}

int msdFiles(const fs::path& home) {
    int n = 0;
    std::error_code ec;
    if (!fs::exists(meswitch::deltas_dir(home))) return 0;
    for (const auto& e : fs::directory_iterator(meswitch::deltas_dir(home), ec))
        if (e.is_regular_file()) ++n;  // .msd files and any leftover temporary file
    return n;
}

}  // namespace

class TestGuiCompress : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    fs::path m_models;
    int m_homes = 0;

    // A fresh data folder whose catalog holds the tiny base and its "math" expert.
    fs::path newHome(std::int64_t* expertId) {
        const fs::path home =
            fs::path(m_tmp.path().toStdString()) / ("home" + std::to_string(++m_homes));
        fs::create_directories(home);
        Catalog cat(meswitch::catalog_path(home));
        meswitch::ImportOptions base;
        base.name = "tiny-base";
        meswitch::import_model(cat, m_models / "tiny-base", base);
        meswitch::ImportOptions expert;
        expert.name = "tiny-math";
        expert.base = "tiny-base";
        expert.domain = "math";
        expert.examples = {"What is 2 + 2?", "Solve x + 1 = 3."};
        *expertId = meswitch::import_model(cat, m_models / "tiny-math", expert).id;
        return home;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        meswitch::test::use_temporary_settings(m_tmp.filePath(QStringLiteral("config")));
        Studio::initApplication();
        meswitch::init_logging({{}, false, "warn"});
        LanguageManager::apply(QStringLiteral("en"));
        m_models = fs::path(m_tmp.path().toStdString()) / "models";
        meswitch::test::TinyModelSpec spec;
        spec.hidden = 128;
        spec.intermediate = 256;
        spec.layers = 3;
        spec.heads = 4;
        spec.kv_heads = 2;
        meswitch::test::write_tiny_model(m_models / "tiny-base", spec);
        meswitch::test::write_expert_of(m_models / "tiny-base", m_models / "tiny-math", 0.01, 3);
    }

    void init() { QSettings().clear(); }

    void compressionFillsTheChartsWithoutStallingTheUi() {
        std::int64_t expertId = 0;
        const fs::path home = newHome(&expertId);
        Catalog cat(meswitch::catalog_path(home));
        MainWindow w(cat, home);
        w.resize(1400, 900);
        QVERIFY(w.showPageByKey(QStringLiteral("compress")));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* page = w.findChild<CompressPage*>();
        QVERIFY(page);
        QVERIFY(page->selectExpert(expertId));
        QCOMPARE(page->expertCombo()->currentText(), QStringLiteral("tiny-math"));
        QCOMPARE(page->methodCombo()->currentText(), QStringLiteral("ME-Switch"));
        page->bitsSpin()->setValue(2);
        page->salientSpin()->setValue(2.0);
        page->baselineCheck()->setChecked(true);
        const auto options = page->compressOptions();
        QCOMPARE(options.salient, std::string("2%"));
        QVERIFY(options.baseline);
        QCOMPARE(page->charts()->methodErrorSeries()->count(), 0);
        // Empty charts: whole layer ticks ("0 1", not "0 0 0 0 1"), a 0..1 size axis (not
        // five ticks reading "0.0").
        QCOMPARE(page->charts()->errorAxisX()->tickType(), QValueAxis::TicksDynamic);
        QCOMPARE(page->charts()->errorAxisX()->tickInterval(), 1.0);
        QCOMPARE(page->charts()->sizeAxisY()->max(), 1.0);

        QStringList steps;
        connect(page->engine(), &EngineHost::progress, this,
                [&](quint64, double, const QString& m) { steps << m; });
        // Live charts: each finished layer arrives while the run goes on, and the chart has
        // that layer's point when it arrives (before the run's result).
        int liveLayers = 0, pointsWhenLive = 0;
        connect(page->engine(), &EngineHost::event, this,
                [&](quint64, const QString& name, const QVariant&) {
                    if (name != QLatin1String("layer")) return;
                    ++liveLayers;
                    if (page->running())
                        pointsWhenLive = page->charts()->methodErrorSeries()->count();
                });
        QString stopped;
        connect(page, &CompressPage::compressionStopped, this,
                [&](const QString& m, bool) { stopped = m; });
        Watchdog watchdog;
        watchdog.m_onLongGap = [page](qint64 gap, qint64 own) {
            qInfo("watchdog: %lld ms gap (%lld ms not waiting for a CPU), step: %s", gap, own,
                  qPrintable(page->stepLabel()->text()));
        };
        watchdog.start();
        QTest::mouseClick(page->compressButton(), Qt::LeftButton);
        QVERIFY(page->running());
        QVERIFY(page->cancelButton()->isEnabled());
        QVERIFY(!page->compressButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(!page->running(), 300000);
        watchdog.stop();
        QVERIFY2(stopped.isEmpty(), qPrintable(stopped));
        QVERIFY(page->shownRun().has_value());

        // The run is in the catalog, and every chart has one point per layer.
        const auto run = cat.compression_run(*page->shownRun());
        QVERIFY(run.has_value());
        QCOMPARE(run->status, meswitch::RunStatus::finished);
        const int layers = static_cast<int>(run->layers.size());
        QVERIFY(layers >= 3 * 7);
        QCOMPARE(liveLayers, layers);
        QVERIFY2(pointsWhenLive > 0, "no chart point was drawn while the run was going on");
        QCOMPARE(page->charts()->methodErrorSeries()->count(), layers);
        QCOMPARE(page->charts()->baselineErrorSeries()->count(), layers);
        QCOMPARE(page->charts()->bitsSeries()->count(), layers);
        QCOMPARE(page->charts()->sizeSet()->count(), 2);
        QVERIFY(page->charts()->sizeSet()->at(1) < page->charts()->sizeSet()->at(0));
        QVERIFY(page->charts()->sizeSeries()->labelsPrecision() <= 4);  // "0.7747", not raw
        // Layer ticks are whole numbers, at most about six of them.
        QVERIFY(page->charts()->errorAxisX()->tickInterval() >= (layers - 1) / 5.0);
        // ME-Switch beats RTN on average, as the charts show.
        double me = 0, rtn = 0;
        for (int i = 0; i < layers; ++i) {
            me += page->charts()->methodErrorSeries()->at(i).y();
            rtn += page->charts()->baselineErrorSeries()->at(i).y();
        }
        QVERIFY2(me < rtn, qPrintable(QStringLiteral("%1 vs %2").arg(me).arg(rtn)));
        QVERIFY(page->stepLabel()->text().startsWith(QStringLiteral("Done")));
        QVERIFY2(steps.filter(QStringLiteral(".weight")).size() >= 3 * 7,
                 qPrintable(steps.join(QLatin1Char('\n'))));
        QCOMPARE(page->progressBar()->value(), 1000);
        // The time by stage, as meswitch compress prints it.
        for (const char* stage : {"calibration forward", "statistics", "layers", "writing"})
            QVERIFY2(page->timeLabel()->text().contains(QLatin1String(stage)),
                     qPrintable(page->timeLabel()->text()));
        QCOMPARE(page->runsView()->topLevelItemCount(), 1);
        const auto artifacts = cat.delta_artifacts(expertId);
        QCOMPARE(artifacts.size(), std::size_t(1));
        QVERIFY(fs::is_regular_file(artifacts[0].path));
        save_screenshot(&w, "compress_charts.png");

        // The UI thread was never blocked for long while the engine thread worked. Where the
        // kernel reports run-queue waits, the time the GUI thread was ready but another process
        // had the CPU is not counted (a machine shared with parallel builds); elsewhere the
        // wall-clock gap is asserted.
        qInfo("watchdog: %d ticks, longest gap %lld ms wall-clock, %lld ms not waiting for a CPU",
              watchdog.ticks(), watchdog.longestGapMs(), watchdog.longestOwnGapMs());
        QVERIFY(watchdog.ticks() > 0);
        const qint64 stall =
            watchdog.schedstatAvailable() ? watchdog.longestOwnGapMs() : watchdog.longestGapMs();
        QVERIFY2(stall < 100,
                 qPrintable(QStringLiteral("the GUI thread stalled for %1 ms (wall-clock "
                                           "%2 ms)")
                                .arg(stall)
                                .arg(watchdog.longestGapMs())));

        // Saliency: the first layer, every input channel, the salient ones highlighted.
        SaliencyView* sal = page->saliency();
        page->tabs()->setCurrentWidget(sal);
        QTRY_VERIFY_WITH_TIMEOUT(sal->inspection().has_value(), 30000);
        const auto& li = *sal->inspection();
        QVERIFY(li.has_artifact);
        QCOMPARE(sal->maxSeries()->count(), static_cast<int>(li.cols));
        QCOMPARE(sal->minSeries()->count(), static_cast<int>(li.cols));
        QVERIFY(!li.salient.empty());
        QCOMPARE(sal->salientSeries()->count(), static_cast<int>(li.salient.size()));
        QCOMPARE(static_cast<std::int64_t>(li.salient.size()), run->layers[0].salient);
        QVERIFY(!sal->heatMap()->image().isNull());
        const QImage deltaMap = sal->heatMap()->image();
        sal->mapCombo()->setCurrentIndex(1);
        QVERIFY(!sal->heatMap()->image().isNull());
        QVERIFY(sal->heatMap()->image() != deltaMap);
        sal->heatMap()->zoomIn();
        QVERIFY(sal->heatMap()->zoom() > 1.0);
        save_screenshot(&w, "compress_saliency.png");
        // Another layer (the head, 300 × 128), shrunk to 16 × 32 cells: zooming in reads the
        // visible part again in finer detail.
        sal->setMapCells(16, 32);
        sal->mapCombo()->setCurrentIndex(0);
        sal->layerCombo()->setCurrentIndex(sal->layerCombo()->count() - 1);
        QTRY_VERIFY_WITH_TIMEOUT(
            !sal->busy() && sal->inspection().has_value() &&
                sal->inspection()->layer == sal->layerCombo()->currentText().toStdString(),
            30000);
        QCOMPARE(sal->heatMap()->image().size(), QSize(32, 16));
        QVERIFY(sal->heatMap()->detailImage().isNull());
        for (int i = 0; i < 4; ++i) sal->heatMap()->zoomIn();
        QVERIFY(sal->heatMap()->zoom() >= 2.0);
        QTRY_VERIFY_WITH_TIMEOUT(!sal->heatMap()->detailImage().isNull(), 30000);
        const meswitch::HeatMap& detail = sal->heatMap()->detail();
        const auto& whole = sal->inspection()->delta_abs;
        QVERIFY(detail.row0 >= 0 && detail.row1 <= whole.row1 && detail.col1 <= whole.col1);
        QVERIFY2(
            (detail.row1 - detail.row0) < whole.row1 || (detail.col1 - detail.col0) < whole.col1,
            "the detail covers only the visible part");
        // Finer than the whole-layer map over the same part.
        QVERIFY(static_cast<double>(detail.col1 - detail.col0) / detail.cols <
                static_cast<double>(whole.col1 - whole.col0) / whole.cols);
        save_screenshot(sal, "compress_saliency_zoomed.png");
        sal->heatMap()->fit();
        QVERIFY(sal->heatMap()->detailImage().isNull());

        // A finished run reopens from the catalog at once (no engine work for the charts).
        CompressPage again(cat);
        QVERIFY(again.selectExpert(expertId));
        QCOMPARE(again.runsView()->topLevelItemCount(), 1);
        QVERIFY(again.openRun(*page->shownRun()));
        QCOMPARE(again.charts()->methodErrorSeries()->count(), layers);
        QCOMPARE(again.charts()->baselineErrorSeries()->count(), layers);
        QCOMPARE(again.charts()->bitsSeries()->count(), layers);
        QCOMPARE(again.charts()->methodErrorSeries()->at(layers - 1).y(),
                 run->layers.back().rel_output_error);
    }

    // Before a run, the page says how many input channels the salient setting keeps of the
    // selected expert's layers, and warns when it rounds to none.
    void salientSettingShowsTheChannelsKept() {
        std::int64_t expertId = 0;
        const fs::path home = newHome(&expertId);  // hidden 128, intermediate 256
        Catalog cat(meswitch::catalog_path(home));
        MainWindow w(cat, home);
        QVERIFY(w.showPageByKey(QStringLiteral("compress")));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* page = w.findChild<CompressPage*>();
        QVERIFY(page->selectExpert(expertId));
        page->salientSpin()->setValue(2.0);  // 2.56 -> 3 of 128, 5.12 -> 5 of 256
        QVERIFY(page->salientInfoLabel()->isVisible());
        QVERIFY2(page->salientInfoLabel()->text().contains(QStringLiteral("3 of 128")) &&
                     page->salientInfoLabel()->text().contains(QStringLiteral("5 of 256")),
                 qPrintable(page->salientInfoLabel()->text()));
        QVERIFY(!page->salientWarning());
        page->salientSpin()->setValue(0.25);  // 0.32 -> none of 128
        QVERIFY(page->salientWarning());
        QVERIFY2(page->salientInfoLabel()->text().contains(QStringLiteral("0.40")),
                 qPrintable(page->salientInfoLabel()->text()));
        page->methodCombo()->setCurrentIndex(
            page->methodCombo()->findData(QStringLiteral("bitdelta")));
        QVERIFY(!page->salientInfoLabel()->isVisible());
    }

    void cancelLeavesNoFileAndTheCatalogAsItWas() {
        std::int64_t expertId = 0;
        const fs::path home = newHome(&expertId);
        Catalog cat(meswitch::catalog_path(home));
        const QString before = snapshot(cat);
        MainWindow w(cat, home);
        QVERIFY(w.showPageByKey(QStringLiteral("compress")));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* page = w.findChild<CompressPage*>();
        QVERIFY(page->selectExpert(expertId));

        // Cancel as soon as the engine reports that it has started.
        bool cancelled = false;
        QString message;
        connect(page->engine(), &EngineHost::progress, page, [&] {
            if (page->cancelButton()->isEnabled())
                QTest::mouseClick(page->cancelButton(), Qt::LeftButton);
        });
        connect(page, &CompressPage::compressionStopped, this, [&](const QString& m, bool c) {
            message = m;
            cancelled = c;
        });
        QTest::mouseClick(page->compressButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!page->running(), 120000);
        QVERIFY2(cancelled, qPrintable(message));
        QVERIFY(page->messageLabel()->isVisible());
        QVERIFY2(page->messageLabel()->text().contains(QStringLiteral("cancelled")),
                 qPrintable(page->messageLabel()->text()));
        QVERIFY(page->messageLabel()->text().contains(QStringLiteral("catalog is unchanged")));
        QCOMPARE(page->stepLabel()->text(), QStringLiteral("Cancelled."));
        QVERIFY(page->compressButton()->isEnabled());
        QCOMPARE(page->charts()->methodErrorSeries()->count(), 0);
        save_screenshot(&w, "compress_cancelled.png");
        QCOMPARE(msdFiles(home), 0);
        QCOMPARE(snapshot(cat), before);
        // A language switch keeps the state: still "Cancelled.", not "Ready.".
        LanguageManager::apply(QStringLiteral("zh_CN"));
        QCoreApplication::processEvents();
        LanguageManager::apply(QStringLiteral("en"));
        QCoreApplication::processEvents();
        QCOMPARE(page->stepLabel()->text(), QStringLiteral("Cancelled."));
        // Another expert does not show this one's "cancelled" message.
        meswitch::ImportOptions other;
        other.name = "tiny-other";
        other.base = "tiny-base";
        const auto otherId = meswitch::import_model(cat, m_models / "tiny-math", other).id;
        QVERIFY(page->selectExpert(otherId));
        QVERIFY(!page->messageLabel()->isVisible());
        QCOMPARE(page->stepLabel()->text(), QStringLiteral("Ready."));
        QCOMPARE(page->progressBar()->value(), 0);
    }

    void pagesFollowTheLanguage() {
        std::int64_t expertId = 0;
        const fs::path home = newHome(&expertId);
        Catalog cat(meswitch::catalog_path(home));
        MainWindow w(cat, home);
        QVERIFY(w.showPageByKey(QStringLiteral("compress")));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* page = w.findChild<CompressPage*>();
        QCOMPARE(page->windowTitle(), QStringLiteral("Compress"));
        LanguageManager::apply(QStringLiteral("zh_CN"));
        QCoreApplication::processEvents();
        QCOMPARE(page->windowTitle(), QStringLiteral("压缩"));
        QCOMPARE(page->compressButton()->text(), QStringLiteral("压缩(&C)"));
        QCOMPARE(page->charts()->findChild<QTabWidget*>()->tabText(0),
                 QStringLiteral("逐层输出误差"));
        ImportWizard* wizard = w.libraryPage()->importModel();
        QCOMPARE(wizard->windowTitle(), QStringLiteral("导入模型"));
        save_screenshot(&w, "compress_zh_CN.png");
        wizard->reject();
        LanguageManager::apply(QStringLiteral("en"));
        QCoreApplication::processEvents();
        QCOMPARE(page->compressButton()->text(), QStringLiteral("&Compress"));
    }

    void engineHostRunsPostedJobsInOrderAndCancelsQueuedOnes() {
        // Any page can post its own jobs: they run one at a time, in order, off the GUI thread.
        const fs::path home = fs::path(m_tmp.path().toStdString()) / "engine-host";
        fs::create_directories(home);
        EngineHost host(meswitch::catalog_path(home), home);
        QStringList order;
        QHash<quint64, QString> failures;
        QHash<quint64, QVariant> results;
        QList<QString> events;
        connect(&host, &EngineHost::finished, this,
                [&](quint64 id, const QString&, const QVariant& r) { results.insert(id, r); });
        connect(&host, &EngineHost::failed, this,
                [&](quint64 id, const QString&, const QString& m, bool c) {
                    failures.insert(id, (c ? QStringLiteral("cancelled: ") : QString()) + m);
                });
        connect(&host, &EngineHost::event, this,
                [&](quint64, const QString& name, const QVariant&) { events << name; });
        QThread* gui = QThread::currentThread();
        std::atomic<bool> release{false};
        const quint64 first = host.post(QStringLiteral("test"), [&](JobContext& ctx) {
            ctx.event(QStringLiteral("started"), {});
            while (!release.load()) QThread::msleep(1);  // holds the engine thread
            return QVariant(QThread::currentThread() != gui);
        });
        const quint64 second = host.post(QStringLiteral("test"), [&](JobContext&) {
            return QVariant(QStringLiteral("never runs"));
        });
        const quint64 third = host.post(QStringLiteral("test"), [&](JobContext& ctx) {
            ctx.catalog();  // the worker's own connection opens on its thread
            throw meswitch::Error(meswitch::ErrorKind::io, "cannot read /nowhere/file: gone");
            return QVariant();
        });
        QVERIFY(first < second && second < third);
        QVERIFY(host.busy());
        host.cancel(second);  // queued: fails as cancelled without running
        QTRY_COMPARE(events.size(), 1);
        release = true;
        QTRY_VERIFY(!host.busy());
        QCOMPARE(results.value(first).toBool(), true);  // ran on the engine thread
        QVERIFY(!results.contains(second));
        QVERIFY2(failures.value(second).startsWith(QStringLiteral("cancelled: ")),
                 qPrintable(failures.value(second)));
        QCOMPARE(failures.value(third), QStringLiteral("cannot read /nowhere/file: gone"));
        QVERIFY(fs::exists(meswitch::catalog_path(home)));
    }

    void inspectLayerWithoutArtifact() {
        // The engine side of the saliency view: Δ only, and a zoomed region.
        meswitch::LayerInspectOptions o;
        o.max_map_rows = 16;
        o.max_map_cols = 8;
        o.row0 = 10;
        o.row1 = 42;
        const auto li = meswitch::inspect_layer(m_models / "tiny-base", m_models / "tiny-math", {},
                                                "model.layers.0.mlp.down_proj.weight", o);
        QCOMPARE(li.rows, std::int64_t(128));
        QCOMPARE(li.cols, std::int64_t(256));
        QVERIFY(!li.has_artifact);
        QVERIFY(li.error_abs.values.empty());
        QCOMPARE(li.delta_abs.rows, std::int64_t(16));
        QCOMPARE(li.delta_abs.cols, std::int64_t(8));
        QCOMPARE(li.delta_abs.row0, std::int64_t(10));
        QCOMPARE(li.delta_abs.row1, std::int64_t(42));
        QCOMPARE(li.channel_max.size(), std::size_t(256));
        for (std::size_t i = 0; i < li.channel_max.size(); ++i)
            QVERIFY(li.channel_min[i] <= li.channel_max[i]);
        QVERIFY(li.delta_abs.max_value > 0);
        QVERIFY_THROWS_EXCEPTION(
            meswitch::Error, meswitch::inspect_layer(m_models / "tiny-base", m_models / "tiny-math",
                                                     {}, "model.norm.weight"));
    }
};

QTEST_MAIN(TestGuiCompress)
#include "test_gui_compress.moc"
