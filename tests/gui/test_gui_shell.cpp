// The Studio's shell: the main window over a real (temporary) catalog, the Library's rows and
// removal, Settings that persist and retranslate, About, the log viewer, the corrupt-catalog
// decision, and the real binary starting offscreen. Screenshots go to test-output/screenshots.
#include <QAbstractButton>
#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTreeView>

#include <sqlite3.h>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "about_dialog.h"
#include "catalog_opener.h"
#include "formatting.h"
#include "gui_support.h"
#include "language_manager.h"
#include "library_model.h"
#include "library_page.h"
#include "log_viewer_dialog.h"
#include "main_window.h"
#include "meswitch/catalog.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "meswitch/system.h"
#include "settings_page.h"
#include "studio_app.h"
#include "studio_page.h"
#include "studio_settings.h"
#include "test_support.h"

namespace fs = std::filesystem;
using meswitch::Catalog;

using meswitch::test::save_screenshot;

namespace {

// The index of the page with `key` (pages are looked up by key: their order may grow).
int pageIndex(const MainWindow& w, const char* key) {
    for (int i = 0; i < w.pageCount(); ++i)
        if (w.page(i)->key() == QLatin1String(key)) return i;
    return -1;
}

QString qs(const fs::path& p) {
    return QString::fromStdString(p.string());
}

QByteArray readAll(const fs::path& p) {
    QFile f(qs(p));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

struct Sample {
    std::int64_t base = 0, math = 0, code = 0;
    fs::path baseDir;
};

// A base with two experts, two domains with example prompts and one delta artifact.
Sample fillCatalog(Catalog& cat, const fs::path& modelsDir) {
    Sample s;
    s.baseDir = modelsDir / "stories260K";
    fs::create_directories(s.baseDir);
    fs::create_directories(modelsDir / "stories260K-math");
    fs::create_directories(modelsDir / "stories260K-code");

    meswitch::ModelRecord base;
    base.name = "stories260K";
    base.path = s.baseDir.string();
    base.architecture = "LlamaForCausalLM";
    base.dtype = "F32";
    base.parameter_count = 260'000;
    base.bytes = 1'040'000;
    base.content_hash = "0123456789abcdef";
    base.role = meswitch::ModelRole::base;
    s.base = cat.add_model(base);

    meswitch::ModelRecord math = base;
    math.name = "stories260K-math";
    math.path = (modelsDir / "stories260K-math").string();
    math.content_hash = "fedcba9876543210";
    math.role = meswitch::ModelRole::expert;
    math.base_model_id = s.base;
    s.math = cat.add_model(math);

    meswitch::ModelRecord code = math;
    code.name = "stories260K-code";
    code.path = (modelsDir / "stories260K-code").string();
    code.content_hash = "00112233aabbccdd";
    s.code = cat.add_model(code);

    const auto mathDomain =
        cat.add_domain("math", "arithmetic and algebra", {"What is 12 times 7?", "Solve x^2 = 9."});
    const auto codeDomain = cat.add_domain("code", "programming", {"Write a C++ hello world."});
    cat.link_expert_domain(s.math, mathDomain);
    cat.link_expert_domain(s.code, codeDomain);

    meswitch::DeltaArtifactRecord artifact;
    artifact.expert_id = s.math;
    artifact.path = (modelsDir / "stories260K-math.msd").string();
    artifact.method = "meswitch";
    artifact.bits = 2;
    artifact.salient_count = 16;
    artifact.bytes = 80'000;
    artifact.bits_per_param = 2.45;
    cat.add_delta_artifact(artifact);
    return s;
}

// The row of the model named `name` (top level or child of the first base).
QModelIndex findRow(const LibraryModel* model, const QString& name) {
    for (int r = 0; r < model->rowCount(); ++r) {
        const QModelIndex top = model->index(r, 0);
        if (top.data().toString() == name) return top;
        for (int c = 0; c < model->rowCount(top); ++c)
            if (model->index(c, 0, top).data().toString() == name) return model->index(c, 0, top);
    }
    return {};
}

QString cell(const LibraryModel* model, const QModelIndex& row, int column) {
    return model->index(row.row(), column, row.parent()).data().toString();
}

}  // namespace

class TestGuiShell : public QObject {
    Q_OBJECT

private:
    // Opens `file` answering "move aside" to the question (kept in `asked`); what the opener
    // tells the user afterwards is collected in `told`.
    static CatalogOpener::Result openMovingAside(const fs::path& file, QString& asked,
                                                 QStringList& told) {
        CatalogOpener opener(
            [&](const QString& message) {
                asked = message;
                return CatalogOpener::Choice::MoveAside;
            },
            [&](const QString& message, bool) { told << message; });
        return opener.open(file);
    }

    QTemporaryDir m_tmp;
    int m_homes = 0;

    // A fresh data folder for one test.
    fs::path newHome() {
        const fs::path home =
            fs::path(m_tmp.path().toStdString()) / ("home" + std::to_string(++m_homes));
        fs::create_directories(home);
        return home;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        // No user settings or data are touched: settings go to the temporary folder.
        meswitch::test::use_temporary_settings(m_tmp.filePath(QStringLiteral("config")));
        Studio::initApplication();
        QVERIFY(QSettings().fileName().startsWith(m_tmp.path()));
        meswitch::init_logging({{}, false, "info"});
    }

    void init() {
        QSettings().clear();
        LanguageManager::apply(QStringLiteral("en"));
        meswitch::set_log_level("info");
    }

    void formatsNumbersForPeople() {
        QCOMPARE(Formatting::parameterCount(950), QStringLiteral("950"));
        QCOMPARE(Formatting::parameterCount(260'000), QStringLiteral("260.0 K"));
        QCOMPARE(Formatting::parameterCount(15'191'712), QStringLiteral("15.2 M"));
        QCOMPARE(Formatting::parameterCount(7'241'732'096), QStringLiteral("7.24 B"));
        QCOMPARE(Formatting::byteSize(512), QStringLiteral("512 B"));
        QCOMPARE(Formatting::byteSize(1536), QStringLiteral("1.50 KiB"));
        QCOMPARE(Formatting::byteSize(14'483'464'192), QStringLiteral("13.49 GiB"));
        QCOMPARE(Formatting::compressionSummary({}), QStringLiteral("not compressed"));
        meswitch::DeltaArtifactRecord a;
        a.id = 1;
        a.method = "rtn";
        a.bits = 4;
        a.bits_per_param = 4.0;
        meswitch::DeltaArtifactRecord b = a;
        b.id = 2;
        b.method = "meswitch";
        b.bits = 2;
        b.bits_per_param = 2.4512;
        QCOMPARE(Formatting::compressionSummary({a, b}),
                 QStringLiteral("2-bit ME-Switch, 2.45 bits/param (+1 more)"));
    }

    void commandLineAndDataHome() {
        const auto options = Studio::parseCommandLine(
            {QStringLiteral("meswitch-studio"), QStringLiteral("--home"), QStringLiteral("/tmp/x"),
             QStringLiteral("--log-level"), QStringLiteral("debug")});
        QVERIFY(options.has_value());
        QCOMPARE(qs(*options->home), QStringLiteral("/tmp/x"));
        QCOMPARE(*options->logLevel, QStringLiteral("debug"));
        QVERIFY(!Studio::parseCommandLine({QStringLiteral("meswitch-studio"),
                                           QStringLiteral("--log-level"), QStringLiteral("loud")})
                     .has_value());
        const fs::path home = newHome();
        QCOMPARE(Studio::resolveDataHome(home, QStringLiteral("/elsewhere")),
                 meswitch::data_home(home));
        // $MESWITCH_HOME wins over the folder saved in Settings; without it the saved one is used.
        const QByteArray previous = qgetenv("MESWITCH_HOME");
        const fs::path envHome = newHome();
        qputenv("MESWITCH_HOME", QByteArray::fromStdString(envHome.string()));
        QCOMPARE(Studio::resolveDataHome(std::nullopt, QStringLiteral("/elsewhere")),
                 meswitch::data_home(envHome));
        qunsetenv("MESWITCH_HOME");
        QCOMPARE(Studio::resolveDataHome(std::nullopt, QStringLiteral("/elsewhere")),
                 meswitch::data_home(fs::path("/elsewhere")));
        // Which of them chose the folder (the Settings page says so).
        using Source = SettingsPage::HomeSource;
        QCOMPARE(Studio::dataHomeSource(home, QStringLiteral("/elsewhere")), Source::commandLine);
        QCOMPARE(Studio::dataHomeSource(std::nullopt, QStringLiteral("/elsewhere")),
                 Source::settings);
        QCOMPARE(Studio::dataHomeSource(std::nullopt, QString()), Source::standard);
        qputenv("MESWITCH_HOME", QByteArray::fromStdString(envHome.string()));
        QCOMPARE(Studio::dataHomeSource(std::nullopt, QStringLiteral("/elsewhere")),
                 Source::environment);
        qunsetenv("MESWITCH_HOME");
        if (!previous.isEmpty()) qputenv("MESWITCH_HOME", previous);
    }

    void libraryShowsBaseAndExperts() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        const Sample s = fillCatalog(cat, home / "models");
        MainWindow w(cat, home);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QCOMPARE(w.currentPage()->key(), QStringLiteral("library"));
        QCOMPARE(w.windowTitle(), QStringLiteral("Library"));  // + " — ME-Switch Studio" by Qt

        const LibraryModel* model = w.libraryPage()->model();
        QCOMPARE(model->modelCount(), 3);
        QCOMPARE(model->rowCount(), 1);  // the base, its experts are its children
        const QModelIndex base = model->index(0, 0);
        QCOMPARE(base.data().toString(), QStringLiteral("stories260K"));
        QCOMPARE(model->rowCount(base), 2);
        QCOMPARE(model->index(0, 0, base).data().toString(), QStringLiteral("stories260K-code"));
        QCOMPARE(model->index(1, 0, base).data().toString(), QStringLiteral("stories260K-math"));

        QCOMPARE(model->headerData(LibraryModel::CompressionColumn, Qt::Horizontal).toString(),
                 QStringLiteral("Compression"));
        QCOMPARE(cell(model, base, LibraryModel::RoleColumn), QStringLiteral("base"));
        QCOMPARE(cell(model, base, LibraryModel::ArchitectureColumn),
                 QStringLiteral("LlamaForCausalLM"));
        QCOMPARE(cell(model, base, LibraryModel::DtypeColumn), QStringLiteral("F32"));
        QCOMPARE(cell(model, base, LibraryModel::ParametersColumn), QStringLiteral("260.0 K"));
        QCOMPARE(cell(model, base, LibraryModel::SizeColumn), QStringLiteral("1015.6 KiB"));
        QCOMPARE(cell(model, base, LibraryModel::PathColumn), qs(s.baseDir));

        const QModelIndex math = findRow(model, QStringLiteral("stories260K-math"));
        const QModelIndex code = findRow(model, QStringLiteral("stories260K-code"));
        QCOMPARE(cell(model, math, LibraryModel::RoleColumn), QStringLiteral("expert"));
        QCOMPARE(cell(model, math, LibraryModel::DomainsColumn), QStringLiteral("math"));
        QCOMPARE(cell(model, math, LibraryModel::CompressionColumn),
                 QStringLiteral("2-bit ME-Switch, 2.45 bits/param"));
        QCOMPARE(cell(model, code, LibraryModel::DomainsColumn), QStringLiteral("code"));
        QCOMPARE(cell(model, code, LibraryModel::CompressionColumn),
                 QStringLiteral("not compressed"));
        QCOMPARE(model->data(math, LibraryModel::ModelIdRole).toLongLong(), s.math);
        QVERIFY(w.libraryPage()->view()->isExpanded(base));
        QVERIFY(!w.libraryPage()->emptyLabel()->isVisible());

        // Details of the selected expert: hash, path, base, domains with example prompts.
        QVERIFY(w.libraryPage()->selectModel(s.math));
        const QString details = w.libraryPage()->details()->toPlainText();
        QVERIFY2(details.contains(QStringLiteral("fedcba9876543210")), qPrintable(details));
        QVERIFY(details.contains(QStringLiteral("expert of stories260K")));
        QVERIFY(details.contains(QStringLiteral("What is 12 times 7?")));
        QVERIFY(details.contains(QStringLiteral("Solve x^2 = 9.")));
        QVERIFY(details.contains(QStringLiteral("16 salient channels")));
        QVERIFY(w.libraryPage()->removeAction()->isEnabled());
        save_screenshot(&w, "library.png");

        // Refresh (F5) picks up a change made behind the window's back.
        meswitch::ModelRecord extra;
        extra.name = "another-base";
        extra.path = (home / "models" / "another-base").string();
        extra.architecture = "Qwen2ForCausalLM";
        extra.dtype = "BF16";
        extra.parameter_count = 494'032'768;
        extra.bytes = 988'065'536;
        extra.content_hash = "aa";
        cat.add_model(extra);
        QCOMPARE(model->rowCount(), 1);
        w.libraryPage()->refreshAction()->trigger();
        QCOMPARE(model->rowCount(), 2);
        QCOMPARE(model->modelCount(), 4);
        QCOMPARE(w.libraryPage()->refreshAction()->shortcut(), QKeySequence(Qt::Key_F5));
    }

    void removeAsksAndRemovesOnlyTheCatalogRow() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        const Sample s = fillCatalog(cat, home / "models");
        MainWindow w(cat, home);
        LibraryPage* page = w.libraryPage();
        QString question;
        bool answer = false;
        page->setConfirmHandler([&](const QString& q) {
            question = q;
            return answer;
        });
        QStringList errors;
        page->setErrorHandler([&](const QString& e) { errors << e; });

        QVERIFY(page->selectModel(s.math));
        page->removeAction()->trigger();  // answered "Cancel"
        QVERIFY(question.contains(QStringLiteral("stories260K-math")));
        QVERIFY2(question.contains(QStringLiteral("NOT deleted")), qPrintable(question));
        QCOMPARE(cat.list_models().size(), std::size_t(3));
        QCOMPARE(page->model()->modelCount(), 3);

        answer = true;
        QVERIFY(page->selectModel(s.math));
        page->removeAction()->trigger();
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
        QCOMPARE(cat.list_models().size(), std::size_t(2));
        QVERIFY(!cat.model(s.math).has_value());
        QVERIFY(cat.delta_artifacts(s.math).empty());
        QCOMPARE(page->model()->modelCount(), 2);
        QCOMPARE(page->model()->rowCount(page->model()->index(0, 0)), 1);
        QVERIFY(!findRow(page->model(), QStringLiteral("stories260K-math")).isValid());
        QVERIFY(fs::is_directory(home / "models" / "stories260K-math"));  // files stay

        // A base that still has experts: the catalog refuses, the user is told why.
        QVERIFY(page->selectModel(s.base));
        page->removeAction()->trigger();
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors.front().contains(QStringLiteral("stories260K")),
                 qPrintable(errors.front()));
        QVERIFY(cat.model(s.base).has_value());
        QCOMPARE(page->model()->modelCount(), 2);
    }

    void openFolderOpensTheModelFolder() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        const Sample s = fillCatalog(cat, home / "models");
        MainWindow w(cat, home);
        LibraryPage* page = w.libraryPage();
        QStringList opened, errors;
        page->setOpenFolderHandler([&](const QString& folder) {
            opened << folder;
            return true;
        });
        page->setErrorHandler([&](const QString& e) { errors << e; });
        QVERIFY(page->selectModel(s.base));
        page->openFolderAction()->trigger();
        QCOMPARE(opened, QStringList{qs(s.baseDir)});
        QVERIFY(errors.isEmpty());

        // A folder that was deleted behind the catalog's back is reported, not opened.
        fs::remove_all(home / "models" / "stories260K-code");
        QVERIFY(page->selectModel(s.code));
        page->openFolderAction()->trigger();
        QCOMPARE(opened.size(), 1);
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors.front().contains(QStringLiteral("stories260K-code")),
                 qPrintable(errors.front()));
    }

    void emptyLibraryExplainsImport() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        MainWindow w(cat, home);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QCOMPARE(w.libraryPage()->model()->rowCount(), 0);
        QVERIFY(w.libraryPage()->emptyLabel()->isVisible());
        QVERIFY(
            w.libraryPage()->emptyLabel()->text().contains(QStringLiteral("meswitch import PATH")));
        QVERIFY(!w.libraryPage()->view()->isVisible());
        QVERIFY(!w.libraryPage()->removeAction()->isEnabled());
        save_screenshot(&w, "library_empty.png");
    }

    void settingsPersistAcrossWindows() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        {
            MainWindow w(cat, home);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            SettingsPage* settings = w.settingsPage();
            QCOMPARE(settings->dataHomeLabel()->text(), qs(home));

            QComboBox* level = settings->logLevelCombo();
            QCOMPARE(level->currentData().toString(), QStringLiteral("info"));
            level->setCurrentIndex(level->findData(QStringLiteral("debug")));
            QCOMPARE(spdlog::get_level(), spdlog::level::debug);  // applied at once
            QCOMPARE(StudioSettings::logLevel(), QStringLiteral("debug"));

            settings->setChooseDirHandler(
                [&](const QString&) { return m_tmp.filePath(QStringLiteral("chosen-home")); });
            settings->chooseDataHome();
            QCOMPARE(StudioSettings::dataHome(), m_tmp.filePath(QStringLiteral("chosen-home")));
            QVERIFY(
                settings->pendingDataHomeLabel()->text().contains(QStringLiteral("chosen-home")));
            QCOMPARE(settings->dataHomeLabel()->text(), qs(home));  // only after a restart

            QVERIFY(w.showPageByKey(QStringLiteral("settings")));
            save_screenshot(&w, "settings.png");

            QComboBox* language = settings->languageCombo();
            QCOMPARE(language->currentData().toString(), QStringLiteral("system"));
            language->setCurrentIndex(language->findData(QStringLiteral("zh_CN")));
            QCoreApplication::processEvents();
            QCOMPARE(LanguageManager::current(), QStringLiteral("zh_CN"));
            QCOMPARE(QSettings().value(QStringLiteral("ui/language")).toString(),
                     QStringLiteral("zh_CN"));
            // The visible widgets were retranslated.
            QCOMPARE(w.navigation()->item(0)->text(), QStringLiteral("模型库"));
            QCOMPARE(w.navigation()->item(pageIndex(w, "settings"))->text(),
                     QStringLiteral("设置"));
            QCOMPARE(w.pageAction(0)->text(), QStringLiteral("模型库"));
            QCOMPARE(language->itemText(2), QStringLiteral("简体中文"));
            QCOMPARE(w.libraryPage()
                         ->model()
                         ->headerData(LibraryModel::NameColumn, Qt::Horizontal)
                         .toString(),
                     QStringLiteral("名称"));
            save_screenshot(&w, "settings_zh_CN.png");
            w.showPage(0);
            save_screenshot(&w, "library_empty_zh_CN.png");
            QVERIFY(w.showPageByKey(QStringLiteral("settings")));
            w.close();
        }
        meswitch::set_log_level("info");
        QCOMPARE(StudioSettings::logLevel(), QStringLiteral("debug"));
        QCOMPARE(StudioSettings::language(), QStringLiteral("zh_CN"));
        MainWindow again(cat, home);
        QCOMPARE(again.settingsPage()->languageCombo()->currentData().toString(),
                 QStringLiteral("zh_CN"));
        QCOMPARE(again.currentPage()->key(), QStringLiteral("settings"));  // the last page
        QCOMPARE(again.navigation()->item(0)->text(), QStringLiteral("模型库"));

        LanguageManager::apply(QStringLiteral("en"));
        QCoreApplication::processEvents();
        QCOMPARE(again.navigation()->item(0)->text(), QStringLiteral("Library"));
    }

    void pageShortcutsAndGeometryAreRemembered() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        {
            MainWindow w(cat, home);
            // Library first, Settings last; page N is Ctrl+N.
            QVERIFY(w.pageCount() >= 2);
            QCOMPARE(w.page(0)->key(), QStringLiteral("library"));
            const int settingsIndex = pageIndex(w, "settings");
            QCOMPARE(settingsIndex, w.pageCount() - 1);
            for (int i = 0; i < w.pageCount(); ++i)
                QCOMPARE(w.pageAction(i)->shortcut(),
                         QKeySequence(QStringLiteral("Ctrl+%1").arg(i + 1)));
            w.resize(1310, 790);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            QApplication::setActiveWindow(&w);
            QVERIFY(QTest::qWaitForWindowActive(&w));
            QTest::keyClick(&w, Qt::Key(Qt::Key_1 + settingsIndex), Qt::ControlModifier);
            QCOMPARE(w.currentPage()->key(), QStringLiteral("settings"));
            QTest::keyClick(&w, Qt::Key_1, Qt::ControlModifier);
            QCOMPARE(w.currentPage()->key(), QStringLiteral("library"));
            QVERIFY(w.showPageByKey(QStringLiteral("settings")));
            w.close();
        }
        MainWindow again(cat, home);
        QCOMPARE(again.currentPage()->key(), QStringLiteral("settings"));
        QCOMPARE(again.size(), QSize(1310, 790));
    }

    void statusBarAndAboutNameTheDevice() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        MainWindow w(cat, home);
        w.show();
        QTRY_VERIFY_WITH_TIMEOUT(w.deviceScan().has_value(), 60000);
        const meswitch::DeviceScan& scan = *w.deviceScan();
        auto* label = w.statusBar()->findChild<QLabel*>(QStringLiteral("deviceLabel"));
        QVERIFY(label);
        if (scan.devices.empty()) {
            QCOMPARE(label->text(), QStringLiteral("Device: CPU (no GPU found)"));
        } else {
            QVERIFY2(label->text().contains(QString::fromStdString(scan.devices[0].name)),
                     qPrintable(label->text()));
        }

        AboutDialog* about = w.showAbout();
        QVERIFY(about);
        QVERIFY(QTest::qWaitForWindowExposed(about));
        auto* body = about->findChild<QLabel*>(QStringLiteral("aboutBody"));
        QVERIFY(body);
        const QString text = body->text();
        QVERIFY2(text.contains(QLatin1String(qVersion())), qPrintable(text));
        QVERIFY(text.contains(QString::fromStdString(meswitch::build_info().version)));
        QVERIFY(about->plainText().contains(QLatin1String(qVersion())));
        if (!meswitch::build_info().cuda_compiled)
            QVERIFY(text.contains(QStringLiteral("not compiled in")));
        if (scan.devices.empty()) {
            QVERIFY2(text.contains(QStringLiteral("no GPU found")), qPrintable(text));
            QVERIFY(text.contains(QString::fromStdString(scan.note).toHtmlEscaped()));
        } else {
            for (const auto& d : scan.devices)
                QVERIFY(text.contains(QString::fromStdString(d.name).toHtmlEscaped()));
        }
        QCOMPARE(w.showAbout(), about);  // raised, not duplicated

        // Opened before the scan finished, the dialog says so and then shows the result.
        AboutDialog early(std::nullopt);
        QVERIFY(early.plainText().contains(QStringLiteral("still scanning")));
        early.setDeviceScan(scan);
        QVERIFY(!early.plainText().contains(QStringLiteral("still scanning")));
        QVERIFY(early.plainText().contains(scan.devices.empty()
                                               ? QStringLiteral("no GPU found")
                                               : QString::fromStdString(scan.devices[0].name)));
        save_screenshot(about, "about.png");
        about->close();
    }

    void logViewerShowsTheLogTail() {
        const fs::path home = newHome();
        meswitch::init_logging({meswitch::log_dir(home), false, "info"});
        spdlog::info("gui-test marker: the log viewer shows this line");
        spdlog::default_logger()->flush();
        Catalog cat(meswitch::catalog_path(home));
        MainWindow w(cat, home);
        LogViewerDialog* log = w.showLog();
        QVERIFY(log);
        QVERIFY(QTest::qWaitForWindowExposed(log));
        QVERIFY2(log->text().contains(QStringLiteral("gui-test marker")), qPrintable(log->text()));
        spdlog::warn("gui-test second marker after refresh");
        spdlog::default_logger()->flush();
        QVERIFY(!log->text().contains(QStringLiteral("second marker")));
        log->refresh();
        QVERIFY(log->text().contains(QStringLiteral("second marker")));
        save_screenshot(log, "log_viewer.png");
        log->close();
        meswitch::init_logging({{}, false, "info"});

        // A folder without a log yet says so instead of showing nothing.
        LogViewerDialog missing(qs(newHome() / "logs" / "meswitch.log"));
        QVERIFY(missing.text().contains(QStringLiteral("does not exist yet")));
    }

    void corruptCatalogMovedAsideOnRequest() {
        const fs::path home = newHome();
        const fs::path file = meswitch::catalog_path(home);
        QByteArray garbage;
        for (int i = 0; i < 200; ++i) garbage += "this is not an SQLite database, only bytes\n";
        {
            std::ofstream out(file, std::ios::binary);
            out.write(garbage.constData(), garbage.size());
        }
        QString asked;
        QStringList told;
        auto result = openMovingAside(file, asked, told);

        QVERIFY2(asked.contains(qs(file)), qPrintable(asked));  // the error names the file
        QVERIFY(result.catalog);
        QVERIFY(result.error.isEmpty());
        QVERIFY(!result.movedAsideTo.empty());
        QVERIFY(result.movedAsideTo != file);
        QCOMPARE(readAll(result.movedAsideTo), garbage);  // kept byte-identical
        QCOMPARE(told.size(), 1);
        QVERIFY2(told.front().contains(qs(result.movedAsideTo)), qPrintable(told.front()));
        QVERIFY(result.catalog->list_models().empty());
        QCOMPARE(result.catalog->path(), file);
        QVERIFY(readAll(file) != garbage);

        // The question box the application shows, for a look.
        std::unique_ptr<QMessageBox> box(CatalogOpener::createErrorBox(asked));
        QVERIFY(box->informativeText().contains(qs(file)));
        QVERIFY(box->findChild<QAbstractButton*>(QStringLiteral("moveAsideButton")));
        QVERIFY(box->findChild<QAbstractButton*>(QStringLiteral("quitButton")));
        box->show();
        QVERIFY(QTest::qWaitForWindowExposed(box.get()));
        save_screenshot(box.get(), "catalog_error.png");
        box->close();
    }

    void truncatedCatalogIsDamageNotAFreshStart() {
        // A catalog truncated to 0 bytes used to open as a new, empty catalog without a word.
        const fs::path home = newHome();
        const fs::path file = meswitch::catalog_path(home);
        { std::ofstream out(file, std::ios::binary); }
        QString asked;
        QStringList told;
        auto result = openMovingAside(file, asked, told);
        QVERIFY2(asked.contains(qs(file)), qPrintable(asked));
        QVERIFY2(asked.contains(QStringLiteral("empty (0 bytes)")), qPrintable(asked));
        QVERIFY(result.catalog);
        QVERIFY(!result.movedAsideTo.empty());
        QCOMPARE(fs::file_size(result.movedAsideTo), std::uintmax_t(0));
        QCOMPARE(told.size(), 1);
        QCOMPARE(result.catalog->schema_version(), meswitch::Catalog::current_schema_version);
    }

    void corruptCatalogQuitLeavesTheFileAlone() {
        const fs::path home = newHome();
        const fs::path file = meswitch::catalog_path(home);
        const QByteArray garbage(4096, '\x5a');
        {
            std::ofstream out(file, std::ios::binary);
            out.write(garbage.constData(), garbage.size());
        }
        bool asked = false;
        CatalogOpener opener(
            [&](const QString&) {
                asked = true;
                return CatalogOpener::Choice::Quit;
            },
            [](const QString&, bool) {});
        auto result = opener.open(file);
        QVERIFY(asked);
        QVERIFY(!result.catalog);
        QVERIFY(result.error.contains(qs(file)));
        QVERIFY(result.movedAsideTo.empty());
        QCOMPARE(readAll(file), garbage);
        for (const auto& entry : fs::directory_iterator(home))
            QVERIFY2(entry.path().filename().string().find("corrupt") == std::string::npos,
                     entry.path().c_str());
    }

    void newerCatalogIsNotOfferedForMovingAside() {
        const fs::path home = newHome();
        const fs::path file = meswitch::catalog_path(home);
        {
            Catalog cat(file);
            QCOMPARE(
                sqlite3_exec(cat.handle(), "PRAGMA user_version = 999", nullptr, nullptr, nullptr),
                SQLITE_OK);
        }
        const QByteArray before = readAll(file);
        bool asked = false;
        QStringList told;
        CatalogOpener opener(
            [&](const QString&) {
                asked = true;
                return CatalogOpener::Choice::MoveAside;
            },
            [&](const QString& message, bool error) {
                QVERIFY(error);
                told << message;
            });
        auto result = opener.open(file);
        QVERIFY(!asked);  // moving a newer catalog aside would hide the user's data
        QVERIFY(!result.catalog);
        QCOMPARE(told.size(), 1);
        QVERIFY2(told.front().contains(qs(file)), qPrintable(told.front()));
        QVERIFY(told.front().contains(QStringLiteral("--home")));
        QCOMPARE(readAll(file), before);
    }

    void studioBinaryStartsAndExitsCleanly() {
        const fs::path home = newHome();
        QProcess studio;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_tmp.filePath(QStringLiteral("xdg-config")));
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_tmp.filePath(QStringLiteral("xdg-data")));
        studio.setProcessEnvironment(env);
        studio.start(QStringLiteral(MESWITCH_STUDIO_BINARY), {QStringLiteral("--home"), qs(home)});
        QVERIFY2(studio.waitForStarted(30000), qPrintable(studio.errorString()));
        QTest::qWait(3000);
        QVERIFY2(studio.state() == QProcess::Running,
                 qPrintable(QString::fromLocal8Bit(studio.readAllStandardError())));
        studio.terminate();  // SIGTERM: the Studio closes its window and quits normally
        QVERIFY(studio.waitForFinished(30000));
        const QString err = QString::fromLocal8Bit(studio.readAllStandardError());
        QCOMPARE(studio.exitStatus(), QProcess::NormalExit);
        QVERIFY2(studio.exitCode() == 0, qPrintable(err));
        QVERIFY2(!err.contains(QStringLiteral("[info]")), qPrintable(err));  // no stderr spam
        QVERIFY(fs::exists(meswitch::catalog_path(home)));
        const QByteArray log = readAll(meswitch::log_file_path(meswitch::log_dir(home)));
        QVERIFY2(log.contains("ME-Switch Studio"), log.constData());
        QVERIFY(log.contains("termination signal received"));
        QVERIFY(log.contains("exiting with code 0"));
        QVERIFY(fs::exists(m_tmp.filePath(QStringLiteral("xdg-config")).toStdString()));
    }
};

QTEST_MAIN(TestGuiShell)
#include "test_gui_shell.moc"
