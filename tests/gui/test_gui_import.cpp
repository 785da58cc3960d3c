// The Import wizard driven as a user would, over a real (temporary) catalog and tiny model
// folders: a base and an expert imported through it (with a new domain and example prompts),
// a folder without a tokenizer and a mismatched expert refused with a clear message and the
// catalog left exactly as it was, a dropped folder opening the wizard, and the Library's
// Compress… action. Screenshots go to test-output/screenshots.
#include <QAbstractButton>
#include <QAction>
#include <QComboBox>
#include <QDropEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QRadioButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTreeView>
#include <QUrl>

#include <filesystem>

#include "compress_page.h"
#include "engine_worker.h"
#include "gui_support.h"
#include "import_wizard.h"
#include "language_manager.h"
#include "library_model.h"
#include "library_page.h"
#include "main_window.h"
#include "meswitch/catalog.h"
#include "meswitch/import.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
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

// Everything a refused import must leave alone, as text.
QString snapshot(const Catalog& cat) {
    QStringList out;
    for (const auto& m : cat.list_models())
        out << QStringLiteral("model %1 %2 %3 %4")
                   .arg(QString::fromStdString(m.name), QString::fromStdString(m.content_hash))
                   .arg(meswitch::to_string(m.role))
                   .arg(m.base_model_id.value_or(-1));
    for (const auto& d : cat.list_domains())
        out << QStringLiteral("domain %1 %2")
                   .arg(QString::fromStdString(d.name))
                   .arg(d.examples.size());
    out << QStringLiteral("artifacts %1 runs %2")
               .arg(cat.delta_artifacts().size())
               .arg(cat.compression_runs().size());
    return out.join(QLatin1Char('\n'));
}

QAbstractButton* nextButton(ImportWizard* w) {
    return w->button(QWizard::NextButton);
}

}  // namespace

class TestGuiImport : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    fs::path m_models;
    int m_homes = 0;

    fs::path newHome() {
        const fs::path home =
            fs::path(m_tmp.path().toStdString()) / ("home" + std::to_string(++m_homes));
        fs::create_directories(home);
        return home;
    }

    // Runs the wizard from the folder page to the report; returns once it is shown.
    static void toReport(ImportWizard* wizard) {
        QCOMPARE(wizard->currentId(), int(ImportWizard::FolderPage));
        QTRY_VERIFY(nextButton(wizard)->isEnabled());
        QTest::mouseClick(nextButton(wizard), Qt::LeftButton);
        QCOMPARE(wizard->currentId(), int(ImportWizard::ReportPage));
        QTRY_VERIFY_WITH_TIMEOUT(wizard->inspectionDone(), 30000);
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
        meswitch::test::write_tiny_model(m_models / "tiny-base", spec);
        meswitch::test::write_expert_of(m_models / "tiny-base", m_models / "tiny-math", 0.01, 7);
        // The same model without its tokenizer.
        meswitch::test::write_tiny_model(m_models / "no-tokenizer", spec);
        fs::remove(m_models / "no-tokenizer" / "tokenizer.json");
        // An "expert" of another shape.
        meswitch::test::TinyModelSpec wide = spec;
        wide.hidden = 64;
        wide.intermediate = 96;
        meswitch::test::write_tiny_model(m_models / "wide-model", wide);
    }

    void init() { QSettings().clear(); }

    void importsBaseAndExpertThroughTheWizard() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        MainWindow w(cat, home);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        LibraryPage* library = w.libraryPage();
        QVERIFY(library->importAction()->isEnabled());
        QCOMPARE(library->importAction()->shortcut(), QKeySequence(QStringLiteral("Ctrl+I")));

        // ---- the base
        ImportWizard* wizard = library->importModel(qs(m_models / "tiny-base"));
        QVERIFY(QTest::qWaitForWindowExposed(wizard));
        toReport(wizard);
        const QString report = wizard->reportView()->toPlainText();
        QVERIFY2(report.contains(QStringLiteral("LlamaForCausalLM")), qPrintable(report));
        QVERIFY2(report.contains(QStringLiteral("F32")), qPrintable(report));
        QVERIFY2(report.contains(QStringLiteral("300 tokens")), qPrintable(report));
        QVERIFY2(report.contains(QStringLiteral("can be imported")), qPrintable(report));
        QVERIFY(nextButton(wizard)->isEnabled());
        save_screenshot(wizard, "import_report.png");
        QTest::mouseClick(nextButton(wizard), Qt::LeftButton);
        QCOMPARE(wizard->currentId(), int(ImportWizard::RolePage));
        QVERIFY(wizard->baseRadio()->isChecked());
        QVERIFY(!wizard->expertRadio()->isEnabled());  // no base to be an expert of yet
        QCOMPARE(wizard->nameEdit()->text(), QStringLiteral("tiny-base"));
        QTest::mouseClick(nextButton(wizard), Qt::LeftButton);
        QCOMPARE(wizard->currentId(), int(ImportWizard::ImportPage));
        QTRY_VERIFY_WITH_TIMEOUT(wizard->imported().has_value() || !wizard->importError().isEmpty(),
                                 30000);
        QVERIFY2(wizard->importError().isEmpty(), qPrintable(wizard->importError()));
        QVERIFY(wizard->statusLabel()->text().contains(QStringLiteral("Done")));
        QCOMPARE(wizard->progressBar()->value(), 1000);
        QVERIFY(wizard->button(QWizard::FinishButton)->isEnabled());
        // The import is done: only Finish is left.
        QVERIFY(!wizard->button(QWizard::BackButton)->isEnabled());
        QVERIFY(!wizard->button(QWizard::CancelButton)->isEnabled());
        wizard->accept();
        QCOMPARE(cat.list_models().size(), std::size_t(1));
        QTRY_COMPARE(library->model()->modelCount(), 1);

        // ---- an expert of it, with a new domain and example prompts
        wizard = library->importModel(qs(m_models / "tiny-math"));
        toReport(wizard);
        QVERIFY2(wizard->reportView()->toPlainText().contains(QStringLiteral("tiny-base")),
                 qPrintable(wizard->reportView()->toPlainText()));
        QTest::mouseClick(nextButton(wizard), Qt::LeftButton);
        QCOMPARE(wizard->currentId(), int(ImportWizard::RolePage));
        QVERIFY(wizard->expertRadio()->isChecked());  // it matches a base
        QCOMPARE(wizard->baseCombo()->currentText(), QStringLiteral("tiny-base"));
        QVERIFY(!wizard->matchWarning()->isVisible());
        // An existing domain shows its description; typing a new name does not keep it.
        cat.add_domain("code", "programming questions", {});
        wizard->domainCombo()->setEditText(QStringLiteral("code"));
        QCOMPARE(wizard->domainDescriptionEdit()->text(), QStringLiteral("programming questions"));
        QVERIFY(!wizard->domainDescriptionEdit()->isEnabled());
        wizard->domainCombo()->setEditText(QStringLiteral("math"));
        QVERIFY(wizard->domainDescriptionEdit()->text().isEmpty());
        QVERIFY(wizard->domainDescriptionEdit()->isEnabled());
        wizard->domainDescriptionEdit()->setText(QStringLiteral("arithmetic"));
        wizard->examplesEdit()->setPlainText(
            QStringLiteral("What is 2 + 2?\n\nSolve x + 1 = 3.\n"));
        save_screenshot(wizard, "import_role.png");
        QTest::mouseClick(nextButton(wizard), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(wizard->imported().has_value() || !wizard->importError().isEmpty(),
                                 30000);
        QVERIFY2(wizard->importError().isEmpty(), qPrintable(wizard->importError()));
        save_screenshot(wizard, "import_done.png");
        wizard->accept();

        const auto expert = cat.find_model("tiny-math");
        QVERIFY(expert.has_value());
        QCOMPARE(expert->role, meswitch::ModelRole::expert);
        QCOMPARE(expert->base_model_id.value_or(-1), cat.find_model("tiny-base")->id);
        const auto domains = cat.domains_of(expert->id);
        QCOMPARE(domains.size(), std::size_t(1));
        QCOMPARE(domains[0].name, std::string("math"));
        QCOMPARE(domains[0].description, std::string("arithmetic"));
        QCOMPARE(domains[0].examples,
                 (std::vector<std::string>{"What is 2 + 2?", "Solve x + 1 = 3."}));
        QTRY_COMPARE(library->model()->modelCount(), 2);
        QVERIFY(library->selectModel(expert->id));
        QVERIFY(library->compressAction()->isEnabled());
        save_screenshot(&w, "library_after_import.png");

        // Compress… on the expert shows the Compress page with it chosen.
        library->compressAction()->trigger();
        QCOMPARE(w.currentPage()->key(), QStringLiteral("compress"));
        auto* compress = w.findChild<CompressPage*>();
        QVERIFY(compress);
        QCOMPARE(compress->selectedExpert(), std::optional<std::int64_t>(expert->id));
        QVERIFY(library->selectModel(cat.find_model("tiny-base")->id));
        QVERIFY(!library->compressAction()->isEnabled());  // a base is not compressed
    }

    void folderWithoutTokenizerIsRefusedClearly() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        meswitch::ImportOptions base;
        base.name = "tiny-base";
        meswitch::import_model(cat, m_models / "tiny-base", base);
        const QString before = snapshot(cat);

        MainWindow w(cat, home);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        ImportWizard* wizard = w.libraryPage()->importModel(qs(m_models / "no-tokenizer"));
        toReport(wizard);
        const QString report = wizard->reportView()->toPlainText();
        QVERIFY2(report.contains(QStringLiteral("cannot be imported")), qPrintable(report));
        QVERIFY2(report.contains(QStringLiteral("tokenizer")), qPrintable(report));
        QVERIFY2(report.contains(QStringLiteral("missing or unreadable")), qPrintable(report));
        // A folder that cannot be imported is not offered as a base either.
        QVERIFY2(!report.contains(QStringLiteral("it can be imported as a base")),
                 qPrintable(report));
        QVERIFY(!nextButton(wizard)->isEnabled());  // the user cannot go on
        save_screenshot(wizard, "import_no_tokenizer.png");
        wizard->reject();
        QCOMPARE(snapshot(cat), before);
    }

    void mismatchedExpertIsRefusedClearly() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        meswitch::ImportOptions base;
        base.name = "tiny-base";
        meswitch::import_model(cat, m_models / "tiny-base", base);
        const QString before = snapshot(cat);

        MainWindow w(cat, home);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        ImportWizard* wizard = w.libraryPage()->importModel(qs(m_models / "wide-model"));
        toReport(wizard);
        QVERIFY2(wizard->reportView()->toPlainText().contains(QStringLiteral("none")),
                 qPrintable(wizard->reportView()->toPlainText()));
        QTest::mouseClick(nextButton(wizard), Qt::LeftButton);
        QCOMPARE(wizard->currentId(), int(ImportWizard::RolePage));
        QVERIFY(wizard->baseRadio()->isChecked());  // it matches no base
        wizard->expertRadio()->setChecked(true);
        QCOMPARE(wizard->baseCombo()->currentText(), QStringLiteral("tiny-base"));
        QVERIFY(wizard->matchWarning()->isVisible());
        QVERIFY(wizard->matchWarning()->text().contains(QStringLiteral("will be refused")));
        wizard->domainCombo()->setEditText(QStringLiteral("code"));
        wizard->examplesEdit()->setPlainText(QStringLiteral("Write a loop."));
        QTest::mouseClick(nextButton(wizard), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(wizard->imported().has_value() || !wizard->importError().isEmpty(),
                                 30000);
        QVERIFY(!wizard->imported().has_value());
        const QString error = wizard->errorView()->toPlainText();
        QVERIFY2(error.contains(QStringLiteral("does not match base 'tiny-base'")),
                 qPrintable(error));
        QVERIFY2(error.contains(qs(m_models / "wide-model")),
                 qPrintable(error));  // names the folder
        QVERIFY(wizard->errorView()->isVisible());
        QVERIFY(wizard->statusLabel()->text().contains(QStringLiteral("catalog is unchanged")));
        QVERIFY(!wizard->button(QWizard::FinishButton)->isEnabled());
        save_screenshot(wizard, "import_mismatch.png");
        wizard->reject();
        QCOMPARE(snapshot(cat), before);
        QVERIFY(!cat.find_domain("code").has_value());
    }

    void droppedFolderOpensTheWizard() {
        const fs::path home = newHome();
        Catalog cat(meswitch::catalog_path(home));
        MainWindow w(cat, home);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        LibraryPage* library = w.libraryPage();
        QVERIFY(library->acceptDrops());
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(qs(m_models / "tiny-base"))});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton,
                              Qt::NoModifier);
        enter.setAccepted(false);
        QCoreApplication::sendEvent(library, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(library, &drop);
        auto* wizard = library->findChild<ImportWizard*>();
        QVERIFY(wizard);
        QCOMPARE(wizard->folder(), qs(m_models / "tiny-base"));
        // A file (not a folder) is not accepted.
        QMimeData file;
        file.setUrls({QUrl::fromLocalFile(qs(m_models / "tiny-base" / "config.json"))});
        QDragEnterEvent enterFile(QPoint(10, 10), Qt::CopyAction, &file, Qt::LeftButton,
                                  Qt::NoModifier);
        enterFile.setAccepted(false);
        QCoreApplication::sendEvent(library, &enterFile);
        QVERIFY(!enterFile.isAccepted());
        wizard->reject();
    }
};

QTEST_MAIN(TestGuiImport)
#include "test_gui_import.moc"
