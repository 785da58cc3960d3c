// The Studio's first run, offscreen: a main window over an empty catalog in a temporary home,
// the demo pack offered and accepted, the installation (import, compression, router) followed
// to the end, and the experts listed in the Library. The offer is not made to a catalog that
// has models, nor by windows the application did not enable it for. Screenshot:
// test-output/screenshots/demo_first_run.png.
#include <QAbstractItemModel>
#include <QAction>
#include <QProgressDialog>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

#include "first_run.h"
#include "gui_support.h"
#include "library_model.h"
#include "library_page.h"
#include "main_window.h"
#include "meswitch/catalog.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "studio_app.h"
#include "studio_page.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

const fs::path kPack = MESWITCH_DEMO_PACK_DIR;

QStringList modelNames(const QAbstractItemModel* model, const QModelIndex& parent = {}) {
    QStringList names;
    for (int row = 0; row < model->rowCount(parent); ++row) {
        const QModelIndex index = model->index(row, 0, parent);
        names << index.data().toString();
        names << modelNames(model, index);
    }
    return names;
}

}  // namespace

class TestDemoFirstRun : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (!fs::exists(kPack / "pack.json"))
            QSKIP("the demo pack (resources/demo/pack) is missing");
        QVERIFY(m_tmp.isValid());
        meswitch::test::use_temporary_settings(m_tmp.filePath(QStringLiteral("config")));
        Studio::initApplication();
        meswitch::init_logging({{}, false, "info"});
    }

    void notOfferedUnlessEnabled() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        meswitch::Catalog catalog(meswitch::catalog_path(h));
        FirstRun::setEnabled(false);
        MainWindow window(catalog, h);
        QCoreApplication::processEvents();
        QVERIFY(!window.findChild<FirstRun*>());
    }

    void notOfferedToACatalogWithModels() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        meswitch::Catalog catalog(meswitch::catalog_path(h));
        meswitch::ModelRecord m;
        m.name = "mine";
        m.path = h.string();
        m.architecture = "LlamaForCausalLM";
        m.dtype = "F32";
        m.content_hash = "00";
        catalog.add_model(m);
        FirstRun::setEnabled(true);
        MainWindow window(catalog, h);
        FirstRun::setEnabled(false);
        QVERIFY(!window.findChild<FirstRun*>());
        FirstRun direct(&window, catalog, h);
        bool asked = false;
        direct.setAskHandler([&](const QString&) { return asked = true; });
        QVERIFY(!direct.offer());
        QVERIFY(!asked);
    }

    void declinedOfferInstallsNothing() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        meswitch::Catalog catalog(meswitch::catalog_path(h));
        MainWindow window(catalog, h);
        FirstRun firstRun(&window, catalog, h);
        firstRun.setPackDir(kPack);
        QString question;
        firstRun.setAskHandler([&](const QString& text) {
            question = text;
            return false;
        });
        QVERIFY(!firstRun.offer());
        QVERIFY(question.contains(QStringLiteral("demo expert pack")));
        QVERIFY(!firstRun.running());
        QVERIFY(catalog.list_models().empty());
    }

    // "Not now", then Help > Install demo pack…: installed with progress, a second request
    // while it runs shows the same installation.
    void helpMenuInstallsThePackAfterNotNow() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        meswitch::Catalog catalog(meswitch::catalog_path(h));
        qputenv("MESWITCH_DEMO_DIR", QByteArray::fromStdString(kPack.string()));
        FirstRun::setEnabled(true);
        MainWindow window(catalog, h);
        FirstRun::setEnabled(false);
        window.show();
        auto* offer = window.findChild<FirstRun*>();
        QVERIFY(offer);
        bool asked = false;
        offer->setAskHandler([&](const QString&) {
            asked = true;
            return false;  // Not now
        });
        offer->setShowErrors(false);
        QTRY_VERIFY(asked);
        QVERIFY(!offer->running());
        QVERIFY(catalog.list_models().empty());

        QAction* action = window.findChild<QAction*>(QStringLiteral("installDemoAction"));
        QVERIFY(action);
        QVERIFY(!action->text().isEmpty());
        QSignalSpy finished(offer, &FirstRun::finished);
        action->trigger();
        FirstRun* installer = window.findChild<FirstRun*>();
        QCOMPARE(installer, offer);  // the one installer of the window
        QVERIFY(installer->running());
        QVERIFY(installer->progressDialog() && installer->progressDialog()->isVisible());
        QCOMPARE(window.installDemoPack(), installer);  // again while running: the same job
        QVERIFY(finished.wait(240000) || !finished.isEmpty());
        qunsetenv("MESWITCH_DEMO_DIR");
        QCOMPARE(finished.size(), 1);
        QVERIFY2(finished[0][0].toBool(), qPrintable(finished[0][1].toString()));
        QCOMPARE(catalog.list_models().size(), std::size_t(4));
        QCOMPARE(catalog.delta_artifacts().size(), std::size_t(3));
    }

    void acceptedOfferInstallsAndListsTheExperts() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        meswitch::Catalog catalog(meswitch::catalog_path(h));
        // The application's path: enabled, attached by the window, offered once the loop runs.
        qputenv("MESWITCH_DEMO_DIR", QByteArray::fromStdString(kPack.string()));
        FirstRun::setEnabled(true);
        MainWindow window(catalog, h);
        FirstRun::setEnabled(false);
        window.show();
        auto* firstRun = window.findChild<FirstRun*>();
        QVERIFY(firstRun);
        bool asked = false;
        firstRun->setAskHandler([&](const QString&) { return asked = true; });
        firstRun->setShowErrors(false);
        QSignalSpy progress(firstRun, &FirstRun::progressChanged);
        QSignalSpy finished(firstRun, &FirstRun::finished);
        QTRY_VERIFY(asked);  // the offer comes from the event loop
        QVERIFY(firstRun->running());
        QVERIFY(firstRun->progressDialog() && firstRun->progressDialog()->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), 60000);
        const auto dir = meswitch::test::output_dir("screenshots");
        QTRY_VERIFY_WITH_TIMEOUT(
            firstRun->progressDialog() && firstRun->progressDialog()->value() > 100, 60000);
        window.grab().save(QString::fromStdString((dir / "demo_first_run_progress.png").string()));
        QVERIFY(finished.wait(240000) || !finished.isEmpty());
        qunsetenv("MESWITCH_DEMO_DIR");
        QCOMPARE(finished.size(), 1);
        QVERIFY2(finished[0][0].toBool(), qPrintable(finished[0][1].toString()));
        QVERIFY(!firstRun->running());

        // every stage reported; the last report is completion
        bool sawCompress = false;
        for (const auto& args : progress)
            if (args[1].toString().startsWith(QStringLiteral("compressing demo-")))
                sawCompress = true;
        QVERIFY(sawCompress);
        QCOMPARE(progress.last()[0].toDouble(), 1.0);

        // the catalog holds the pack, compressed, and the Library lists it
        QCOMPARE(catalog.list_models().size(), std::size_t(4));
        QCOMPARE(catalog.delta_artifacts().size(), std::size_t(3));
        const QStringList names = modelNames(window.libraryPage()->model());
        for (const char* name : {"demo-base", "demo-arithmetic", "demo-python", "demo-facts"})
            QVERIFY2(names.contains(QLatin1String(name)), qPrintable(names.join(", ")));
        // Chat opens when the window has it, else the Library stays
        const StudioPage* current = window.currentPage();
        QVERIFY(current);
        bool hasChat = false;
        for (int i = 0; i < window.pageCount(); ++i)
            hasChat = hasChat || window.page(i)->key() == QLatin1String("chat");
        QCOMPARE(current->key(), hasChat ? QStringLiteral("chat") : QStringLiteral("library"));
        window.showPageByKey(QStringLiteral("library"));
        QCoreApplication::processEvents();
        QVERIFY(window.grab().save(QString::fromStdString((dir / "demo_first_run.png").string())));
    }

private:
    QTemporaryDir m_tmp;
};

QTEST_MAIN(TestDemoFirstRun)
#include "test_demo_first_run.moc"
