// The Settings page's engine choices (device, memory budget for resident experts, compression
// defaults, routing threshold) and the Chat page's sampling are remembered between runs
// (QSettings in a temporary location), and the status bar names the device in use and its
// memory. Screenshot: test-output/screenshots/settings.png.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <filesystem>

#include "chat_page.h"
#include "gui_support.h"
#include "language_manager.h"
#include "main_window.h"
#include "meswitch/catalog.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "meswitch/pool.h"
#include "settings_page.h"
#include "studio_app.h"
#include "studio_settings.h"
#include "test_support.h"

namespace fs = std::filesystem;

class TestGuiSettings : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    fs::path m_home;

    static meswitch::DeviceScan fakeScan() {
        meswitch::DeviceScan scan;
        meswitch::DeviceInfo gpu;
        gpu.index = 0;
        gpu.name = "Test GPU";
        gpu.total_memory = 8ull << 30;
        gpu.free_memory = 6ull << 30;
        scan.devices.push_back(gpu);
        return scan;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        meswitch::test::use_temporary_settings(m_tmp.filePath(QStringLiteral("config")));
        Studio::initApplication();
        QVERIFY(QSettings().fileName().startsWith(m_tmp.path()));
        meswitch::init_logging({{}, false, "warn"});
        m_home = fs::path(m_tmp.path().toStdString()) / "home";
        fs::create_directories(m_home);
    }

    void init() {
        QSettings().clear();
        LanguageManager::apply(QStringLiteral("en"));
    }

    void defaultsBeforeAnyChoice() {
        SettingsPage page(m_home);
        QCOMPARE(page.deviceCombo()->currentData().toString(), QStringLiteral("auto"));
        QCOMPARE(page.deviceCombo()->itemText(0), QStringLiteral("Automatic"));
        QCOMPARE(page.deviceCombo()->itemText(1), QStringLiteral("CPU"));
        QCOMPARE(page.memoryBudgetSpin()->value(), 4096);
        // The budget's meaning in experts, from the engine's estimate of a Mistral-7B 2-bit
        // expert: 4 GiB holds 2 of them, 16 GiB holds 8.
        const std::uint64_t expert =
            meswitch::compressed_delta_bytes(meswitch::mistral_7b_shape(), 2);
        const auto fits = [&](int mib) {
            return QString::number((static_cast<std::uint64_t>(mib) << 20) / expert);
        };
        QVERIFY2(page.budgetHintLabel()->text().startsWith(QStringLiteral("About ") + fits(4096) +
                                                           QStringLiteral(" Mistral-7B")),
                 qPrintable(page.budgetHintLabel()->text()));
        page.memoryBudgetSpin()->setValue(16384);
        QVERIFY2(page.budgetHintLabel()->text().startsWith(QStringLiteral("About ") + fits(16384)),
                 qPrintable(page.budgetHintLabel()->text()));
        QVERIFY(fits(16384).toInt() > fits(4096).toInt());
        page.memoryBudgetSpin()->setValue(4096);
        QCOMPARE(page.compressionMethodCombo()->currentData().toString(),
                 QStringLiteral("meswitch"));
        QCOMPARE(page.compressionBitsSpin()->value(), 2);
        QCOMPARE(page.salientSpin()->value(), 0.5);
        QCOMPARE(page.routingThresholdSpin()->value(), 0.5);
    }

    void choicesAreRememberedBetweenRuns() {
        {
            SettingsPage page(m_home);
            page.setDeviceScan(fakeScan());
            QComboBox* device = page.deviceCombo();
            QCOMPARE(device->count(), 3);
            QCOMPARE(device->itemText(2), QStringLiteral("GPU 0: Test GPU"));
            device->setCurrentIndex(2);
            page.memoryBudgetSpin()->setValue(8192);
            auto* method = page.compressionMethodCombo();
            method->setCurrentIndex(method->findData(QStringLiteral("rtn")));
            page.compressionBitsSpin()->setValue(3);
            page.salientSpin()->setValue(1.5);
            page.routingThresholdSpin()->setValue(0.65);
            page.logLevelCombo()->setCurrentIndex(
                page.logLevelCombo()->findData(QStringLiteral("debug")));
        }
        QSettings().sync();
        QCOMPARE(QSettings().value(QStringLiteral("engine/device")).toString(),
                 QStringLiteral("gpu:Test GPU"));
        QCOMPARE(StudioSettings::expertMemoryBudgetMiB(), 8192);
        QCOMPARE(StudioSettings::compressionMethod(), QStringLiteral("rtn"));
        QCOMPARE(StudioSettings::compressionBits(), 3);
        QCOMPARE(StudioSettings::compressionSalientPercent(), 1.5);
        QCOMPARE(StudioSettings::routingThreshold(), 0.65);

        // A new page (a new run) shows them; a GPU that is gone stays chosen, marked.
        SettingsPage again(m_home);
        QCOMPARE(again.deviceCombo()->currentData().toString(), QStringLiteral("gpu:Test GPU"));
        QCOMPARE(again.deviceCombo()->currentText(), QStringLiteral("Test GPU (not found)"));
        QCOMPARE(again.memoryBudgetSpin()->value(), 8192);
        QCOMPARE(again.compressionMethodCombo()->currentData().toString(), QStringLiteral("rtn"));
        QCOMPARE(again.compressionBitsSpin()->value(), 3);
        QCOMPARE(again.salientSpin()->value(), 1.5);
        QCOMPARE(again.routingThresholdSpin()->value(), 0.65);
        QCOMPARE(again.logLevelCombo()->currentData().toString(), QStringLiteral("debug"));
        meswitch::set_log_level("warn");

        // Values a hand-edited file might hold are clamped, never used as they are.
        QSettings().setValue(QStringLiteral("compression/bits"), 99);
        QSettings().setValue(QStringLiteral("routing/threshold"), -3);
        QCOMPARE(StudioSettings::compressionBits(), 8);
        QCOMPARE(StudioSettings::routingThreshold(), 0.0);
    }

    void chatSamplingIsRemembered() {
        meswitch::Catalog cat(meswitch::catalog_path(m_home));
        {
            ChatPage page(cat);
            page.temperatureSpin()->setValue(0.2);
            page.topPSpin()->setValue(0.8);
            page.maxTokensSpin()->setValue(99);
            page.seedSpin()->setValue(1234);
        }
        ChatPage page(cat);
        QCOMPARE(page.temperatureSpin()->value(), 0.2);
        QCOMPARE(page.topPSpin()->value(), 0.8);
        QCOMPARE(page.maxTokensSpin()->value(), 99);
        QCOMPARE(page.seedSpin()->value(), 1234);
    }

    void statusBarNamesTheDeviceInUseAndItsMemory() {
        meswitch::Catalog cat(meswitch::catalog_path(m_home));
        MainWindow w(cat, m_home);
        w.show();
        QTRY_VERIFY_WITH_TIMEOUT(w.deviceScan().has_value(), 60000);
        auto* device = w.statusBar()->findChild<QLabel*>(QStringLiteral("deviceLabel"));
        auto* memory = w.statusBar()->findChild<QLabel*>(QStringLiteral("memoryLabel"));
        QVERIFY(device && memory);
        QVERIFY2(memory->text().startsWith(QStringLiteral("Memory: ")), qPrintable(memory->text()));

        QComboBox* combo = w.settingsPage()->deviceCombo();
        combo->setCurrentIndex(combo->findData(QStringLiteral("cpu")));
        QCOMPARE(device->text(), QStringLiteral("Device: CPU (chosen in Settings)"));
        QVERIFY(memory->text().contains(QStringLiteral(" free of ")) ||
                memory->text().startsWith(QStringLiteral("Memory: ")));

        // A GPU (as a scan would list it) chosen in Settings: its name and memory.
        w.settingsPage()->setDeviceScan(fakeScan());
        StudioSettings::setDevice(QStringLiteral("gpu:Missing GPU"));
        combo->setCurrentIndex(combo->findData(QStringLiteral("auto")));
        if (w.deviceScan()->devices.empty())
            QCOMPARE(device->text(), QStringLiteral("Device: CPU (no GPU found)"));
        else
            QVERIFY(device->text().contains(
                QString::fromStdString(w.deviceScan()->devices.front().name)));
        w.showPageByKey(QStringLiteral("settings"));
        QCoreApplication::processEvents();
        const fs::path file = meswitch::test::output_dir("screenshots") / "settings.png";
        QVERIFY(w.grab().save(QString::fromStdString(file.string())));
    }

    // With a GPU in use, the status bar's free memory is asked of the driver again (on the
    // engine thread) and the label follows it.
    void gpuFreeMemoryIsRefreshed() {
        static std::atomic<int> scans{0};
        scans = 0;
        MainWindow::setDeviceScanFunction([] {
            meswitch::DeviceScan scan;
            meswitch::DeviceInfo gpu;
            gpu.name = "Test GPU";
            gpu.total_memory = 80ull << 30;
            gpu.free_memory = (70ull - 10ull * static_cast<unsigned>(scans++ % 3)) << 30;
            gpu.compute_major = 9;
            scan.devices.push_back(gpu);
            scan.driver_version = "13.0";
            return scan;
        });
        StudioSettings::setDevice(QStringLiteral("auto"));
        {
            meswitch::Catalog cat(meswitch::catalog_path(m_home));
            MainWindow w(cat, m_home);
            w.show();
            QTRY_VERIFY_WITH_TIMEOUT(w.deviceScan().has_value(), 60000);
            auto* memory = w.statusBar()->findChild<QLabel*>(QStringLiteral("memoryLabel"));
            QVERIFY(memory);
            QTRY_VERIFY(memory->text().contains(QStringLiteral("70")));
            const QString before = memory->text();
            QSignalSpy refreshed(&w, &MainWindow::memoryStatusRefreshed);
            w.refreshMemoryStatus();
            QVERIFY(refreshed.wait(30000));
            QVERIFY2(memory->text() != before && memory->text().contains(QStringLiteral("60")),
                     qPrintable(before + QStringLiteral(" -> ") + memory->text()));
        }
        MainWindow::setDeviceScanFunction({});
    }

    // A data folder given with --home or MESWITCH_HOME is not promised to change "after a
    // restart": the page says what chose it.
    void dataHomeChosenOutsideSettingsIsSaid() {
        meswitch::Catalog cat(meswitch::catalog_path(m_home));
        MainWindow w(cat, m_home);
        SettingsPage* page = w.settingsPage();
        page->setDataHomeSource(SettingsPage::HomeSource::commandLine);
        QVERIFY2(page->pendingDataHomeLabel()->text().contains(QStringLiteral("--home")),
                 qPrintable(page->pendingDataHomeLabel()->text()));
        page->setDataHomeSource(SettingsPage::HomeSource::environment);
        QVERIFY(page->pendingDataHomeLabel()->text().contains(QStringLiteral("MESWITCH_HOME")));
        page->setDataHomeSource(SettingsPage::HomeSource::standard);
        QVERIFY(!page->pendingDataHomeLabel()->text().contains(QStringLiteral("--home")));
    }
};

QTEST_MAIN(TestGuiSettings)
#include "test_gui_settings.moc"
