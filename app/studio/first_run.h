// First run: when the catalog holds no model, offer to install the demo expert pack (a small
// base and three experts, resources/demo), install and compress it as a job of the window's
// EngineHost with a progress dialog that can cancel, then show the Library and open Chat.
//
// The application turns it on (main.cpp: FirstRun::setEnabled(true)); MainWindow calls
// FirstRun::attach() when it is built, so windows made by tests never ask unless a test
// drives a FirstRun itself. The question goes through a callback so that tests answer it.
#pragma once

#include <QObject>
#include <QPointer>
#include <QProgressDialog>
#include <QString>

#include <filesystem>
#include <functional>

namespace meswitch {
class Catalog;
}  // namespace meswitch
class EngineHost;
class MainWindow;
class QMessageBox;

class FirstRun : public QObject {
    Q_OBJECT

public:
    // The application's switch (off by default).
    static void setEnabled(bool enabled);
    static bool isEnabled();
    // When enabled and the catalog is empty: a FirstRun child of `window` that offers the pack
    // once the event loop runs. Otherwise nothing.
    static void attach(MainWindow* window, meswitch::Catalog& catalog,
                       const std::filesystem::path& dataHome);

    // The offer's question and the box that asks it (Install demo pack / Not now), for the
    // default handler and for tests that look at it.
    static QString offerText();
    static QMessageBox* questionBox(QWidget* parent, const QString& text);

    FirstRun(MainWindow* window, meswitch::Catalog& catalog, std::filesystem::path dataHome);
    // Cancels a running installation (it rolls back what it added; the window's EngineHost
    // waits for that when it closes).
    ~FirstRun() override;

    // Shown the offer's text; true installs. Default: a question box over the window.
    using AskFn = std::function<bool(const QString& text)>;
    void setAskHandler(AskFn fn) { m_ask = std::move(fn); }
    // Where the pack is read from (default: meswitch::find_demo_pack()).
    void setPackDir(const std::filesystem::path& dir) { m_packDir = dir; }
    // A failed installation is shown in a message box unless turned off (tests).
    void setShowErrors(bool show) { m_showErrors = show; }

    bool running() const { return m_job != 0; }
    QProgressDialog* progressDialog() const { return m_progress; }

public slots:
    // Asks (when the catalog is empty and a pack is found) and starts the installation.
    // Returns true when it started.
    bool offer();
    // Starts the installation without asking.
    void install();
    void cancel();

signals:
    void progressChanged(double fraction, const QString& message);
    // ok: installed; otherwise `message` says why (cancelled: the user cancelled).
    void finished(bool ok, const QString& message, bool cancelled);

private:
    EngineHost* engine();
    void onProgress(quint64 job, double fraction, const QString& message);
    void onDone(bool ok, const QString& message, bool cancelled);

    MainWindow* m_window;
    meswitch::Catalog& m_catalog;
    std::filesystem::path m_home;
    std::filesystem::path m_packDir;
    AskFn m_ask;
    bool m_showErrors = true;
    QPointer<EngineHost> m_engine;
    quint64 m_job = 0;
    bool m_cancelling = false;
    QPointer<QProgressDialog> m_progress;
};
