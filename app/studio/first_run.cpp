#include "first_run.h"

#include <QMessageBox>
#include <QProgressDialog>
#include <QPushButton>
#include <QTimer>

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

#include "engine_worker.h"
#include "library_page.h"
#include "main_window.h"
#include "message_boxes.h"
#include "meswitch/catalog.h"
#include "meswitch/demo.h"
#include "meswitch/error.h"
#include "meswitch/paths.h"

namespace {

std::atomic<bool> g_enabled{false};

bool askWithMessageBox(QWidget* parent, const QString& text) {
    std::unique_ptr<QMessageBox> box(FirstRun::questionBox(parent, text));
    box->exec();
    return box->clickedButton() == box->defaultButton();
}

}  // namespace

QMessageBox* FirstRun::questionBox(QWidget* parent, const QString& text) {
    auto* box = new QMessageBox(parent);
    box->setObjectName(QStringLiteral("demoOfferBox"));
    box->setIcon(QMessageBox::Question);
    box->setWindowTitle(tr("Welcome to ME-Switch Studio"));
    box->setText(text);
    auto* install = box->addButton(tr("Install demo pack"), QMessageBox::AcceptRole);
    auto* later = box->addButton(tr("Not now"), QMessageBox::RejectRole);
    box->setDefaultButton(install);
    box->setEscapeButton(later);
    return box;
}

QString FirstRun::offerText() {
    return tr(
        "Your catalog is empty. Install the demo expert pack?\n\nIt adds a small base model "
        "and three experts fine-tuned from it (arithmetic, Python functions, facts), with "
        "their domains and example prompts, compresses the experts and trains the router, "
        "so that you can chat with automatically routed experts at once. It takes about a "
        "minute and needs no download.");
}

void FirstRun::setEnabled(bool enabled) {
    g_enabled = enabled;
}

bool FirstRun::isEnabled() {
    return g_enabled;
}

void FirstRun::attach(MainWindow* window, meswitch::Catalog& catalog,
                      const std::filesystem::path& dataHome) {
    if (!isEnabled()) return;
    try {
        if (!meswitch::catalog_is_empty(catalog)) return;
    } catch (const std::exception& e) {
        spdlog::warn("first run: cannot read the catalog: {}", e.what());
        return;
    }
    auto* firstRun = new FirstRun(window, catalog, dataHome);
    // After the window is on screen: the question is asked over it.
    QTimer::singleShot(0, firstRun, [firstRun] { firstRun->offer(); });
}

FirstRun::FirstRun(MainWindow* window, meswitch::Catalog& catalog, std::filesystem::path dataHome)
    : QObject(window), m_window(window), m_catalog(catalog), m_home(std::move(dataHome)) {
    setObjectName(QStringLiteral("firstRun"));
    m_ask = [this](const QString& text) { return askWithMessageBox(m_window, text); };
}

FirstRun::~FirstRun() {
    if (m_job && m_engine) m_engine->cancel(m_job);
}

EngineHost* FirstRun::engine() {
    if (!m_engine) {
        m_engine = EngineHost::forWindow(m_window, m_catalog.path(), m_home);
        connect(m_engine, &EngineHost::progress, this, &FirstRun::onProgress);
        connect(m_engine, &EngineHost::finished, this, [this](quint64 job) {
            if (job == m_job) onDone(true, {}, false);
        });
        connect(m_engine, &EngineHost::failed, this,
                [this](quint64 job, const QString&, const QString& message, bool cancelled) {
                    if (job == m_job) onDone(false, message, cancelled);
                });
    }
    return m_engine;
}

bool FirstRun::offer() {
    if (m_job) return false;
    try {
        if (!meswitch::catalog_is_empty(m_catalog)) return false;
        if (m_packDir.empty()) {
            const auto found = meswitch::find_demo_pack();
            if (!found) {
                spdlog::info("first run: no demo pack found; nothing offered");
                return false;
            }
            m_packDir = *found;
        }
    } catch (const std::exception& e) {
        spdlog::warn("first run: {}", e.what());
        return false;
    }
    if (!m_ask(offerText())) {
        spdlog::info("first run: demo pack declined");
        return false;
    }
    install();
    return true;
}

void FirstRun::install() {
    if (m_job) return;
    if (m_packDir.empty()) {
        if (auto found = meswitch::find_demo_pack()) m_packDir = *found;
    }
    m_cancelling = false;

    m_progress = new QProgressDialog(m_window);
    m_progress->setObjectName(QStringLiteral("demoInstallProgress"));
    m_progress->setWindowTitle(tr("Installing the demo pack"));
    m_progress->setLabelText(tr("Preparing…"));
    m_progress->setCancelButtonText(tr("Cancel"));
    m_progress->setRange(0, 1000);
    m_progress->setAutoClose(false);
    m_progress->setAutoReset(false);
    m_progress->setMinimumDuration(0);
    m_progress->setWindowModality(Qt::WindowModal);
    m_progress->setMinimumWidth(520);
    connect(m_progress, &QProgressDialog::canceled, this, &FirstRun::cancel);
    m_progress->show();

    // The job uses the worker's own catalog connection: the GUI's belongs to the GUI thread.
    m_job = engine()->postInstallDemoPack(m_packDir, m_home);
    spdlog::info("first run: installing the demo pack from {}", m_packDir.string());
}

void FirstRun::cancel() {
    if (!m_job) return;
    m_cancelling = true;
    if (m_engine) m_engine->cancel(m_job);
    if (m_progress) m_progress->setLabelText(tr("Cancelling…"));
}

void FirstRun::onProgress(quint64 job, double fraction, const QString& message) {
    if (job != m_job) return;
    if (m_progress && !m_cancelling) {
        m_progress->setValue(static_cast<int>(fraction * 1000));
        m_progress->setLabelText(message);
    }
    emit progressChanged(fraction, message);
}

void FirstRun::onDone(bool ok, const QString& message, bool cancelled) {
    m_job = 0;
    if (m_progress) {
        m_progress->hide();
        m_progress->deleteLater();
    }
    if (m_window->libraryPage()) m_window->libraryPage()->refresh();
    if (ok) {
        spdlog::info("first run: demo pack installed");
        if (!m_window->showPageByKey(QStringLiteral("chat")))
            m_window->showPageByKey(QStringLiteral("library"));
    } else if (cancelled) {
        spdlog::info("first run: demo pack installation cancelled");
    } else {
        spdlog::error("first run: demo pack installation failed: {}", message.toStdString());
        if (m_showErrors)
            MessageBoxes::error(m_window, tr("Installing the demo pack"),
                                tr("The demo pack could not be installed:\n\n%1").arg(message));
    }
    emit finished(ok, message, cancelled);
}
