#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QFile>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QProgressDialog>
#include <QStackedWidget>
#include <QStatusBar>
#include <QThread>
#include <QTimer>

#include <unistd.h>

#include <algorithm>
#include <memory>

#include <spdlog/spdlog.h>

#include "about_dialog.h"
#include "api_server_controller.h"
#include "chat_engine_backend.h"
#include "chat_page.h"
#include "compress_page.h"
#include "engine_worker.h"
#include "first_run.h"
#include "formatting.h"
#include "library_page.h"
#include "log_viewer_dialog.h"
#include "message_boxes.h"
#include "meswitch/demo.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "moe_page.h"
#include "settings_page.h"
#include "studio_page.h"
#include "studio_settings.h"

using Formatting::qs;

MainWindow::MainWindow(meswitch::Catalog& catalog, const std::filesystem::path& dataHome,
                       QWidget* parent)
    : QMainWindow(parent), m_catalog(catalog), m_home(dataHome) {
    setObjectName(QStringLiteral("mainWindow"));

    m_navigation = new QListWidget(this);
    m_navigation->setObjectName(QStringLiteral("navigation"));
    m_navigation->setIconSize(QSize(32, 32));
    m_navigation->setSpacing(2);
    m_navigation->setFixedWidth(180);
    m_stack = new QStackedWidget(this);

    auto* central = new QWidget(this);
    auto* layout = new QHBoxLayout(central);
    layout->addWidget(m_navigation);
    layout->addWidget(m_stack, 1);
    setCentralWidget(central);

    m_fileMenu = menuBar()->addMenu(QString());
    m_newChatAction = m_fileMenu->addAction(QString(), this, &MainWindow::newChat);
    m_newChatAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_N));
    m_fileMenu->addSeparator();
    m_quitAction = m_fileMenu->addAction(QString(), this, &QWidget::close);
    m_quitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    m_quitAction->setMenuRole(QAction::QuitRole);
    m_viewMenu = menuBar()->addMenu(QString());
    m_helpMenu = menuBar()->addMenu(QString());
    m_installDemoAction = m_helpMenu->addAction(QString(), this, &MainWindow::installDemoPack);
    m_installDemoAction->setObjectName(QStringLiteral("installDemoAction"));
    m_helpMenu->addSeparator();
    m_aboutAction = m_helpMenu->addAction(QString(), this, &MainWindow::showAbout);
    m_aboutAction->setMenuRole(QAction::AboutRole);

    // The pages, in navigation order: adding a page is one line here.
    addPage(m_library = new LibraryPage(m_catalog, this));
    addPage(new CompressPage(m_catalog, this));
    // One engine for the chat and the Local API server: the backend owns it, the server is a
    // client of it. Threads as the Chat page's own backend: a core is left to the GUI thread.
    auto backend = std::make_unique<EngineChatBackend>(
        m_catalog.path(), std::max(1, QThread::idealThreadCount() - 1));
    m_apiServer = new ApiServerController(*backend, m_catalog.path(), this);
    addPage(m_chat = new ChatPage(m_catalog, std::move(backend), this));
    addPage(new MoePage(m_catalog, this));
    addPage(m_settings = new SettingsPage(m_home, this));
    m_settings->setApiServer(m_apiServer);  // starts it when the remembered switch is on
    connect(m_settings, &SettingsPage::deviceChanged, this, &MainWindow::updateDeviceStatus);

    m_viewMenu->addSeparator();
    m_showLogAction = m_viewMenu->addAction(QString(), this, &MainWindow::showLog);
    m_showLogAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));

    connect(m_navigation, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0 || row >= pageCount()) return;
        m_stack->setCurrentIndex(row);
        m_pageActions[row]->setChecked(true);
        updateWindowTitle();
        StudioSettings::setLastPage(m_pages[row]->key());
    });

    m_deviceLabel = new QLabel(this);
    m_deviceLabel->setObjectName(QStringLiteral("deviceLabel"));
    statusBar()->addPermanentWidget(m_deviceLabel);
    m_memoryLabel = new QLabel(this);
    m_memoryLabel->setObjectName(QStringLiteral("memoryLabel"));
    statusBar()->addPermanentWidget(m_memoryLabel);
    auto* memoryTimer = new QTimer(this);  // free memory changes as models load
    memoryTimer->setObjectName(QStringLiteral("memoryTimer"));
    connect(memoryTimer, &QTimer::timeout, this, &MainWindow::refreshMemoryStatus);
    memoryTimer->start(kMemoryRefreshMs);

    setWindowIcon(QApplication::windowIcon());
    retranslateUi();
    if (!restoreGeometry(StudioSettings::windowGeometry())) resize(defaultSize());
    if (!showPageByKey(StudioSettings::lastPage())) showPage(0);
    startDeviceScan();
    FirstRun::attach(this, m_catalog, m_home);  // offers the demo pack to an empty catalog
}

// The API server stops before the Chat page's engine goes; the EngineHost (a child) cancels its
// jobs and waits for the running one when it goes.
MainWindow::~MainWindow() {
    delete m_apiServer;
}

void MainWindow::addPage(StudioPage* page) {
    const int index = pageCount();
    m_pages.push_back(page);
    m_stack->addWidget(page);
    auto* item = new QListWidgetItem(page->icon(), page->windowTitle(), m_navigation);
    item->setData(Qt::UserRole, page->key());
    auto* action = m_viewMenu->addAction(page->icon(), page->windowTitle());
    action->setCheckable(true);
    if (index < 9) action->setShortcut(QKeySequence(Qt::CTRL | (Qt::Key_1 + index)));
    connect(action, &QAction::triggered, this, [this, index] { showPage(index); });
    m_pageActions.push_back(action);
    connect(page, &QWidget::windowTitleChanged, this, [this, item, action](const QString& title) {
        item->setText(title);
        action->setText(title);
        updateWindowTitle();
    });
}

StudioPage* MainWindow::page(int index) const {
    return index >= 0 && index < pageCount() ? m_pages[index] : nullptr;
}

StudioPage* MainWindow::currentPage() const {
    return page(m_stack->currentIndex());
}

QAction* MainWindow::pageAction(int index) const {
    return index >= 0 && index < pageCount() ? m_pageActions[index] : nullptr;
}

void MainWindow::showPage(int index) {
    if (index >= 0 && index < pageCount()) m_navigation->setCurrentRow(index);
}

bool MainWindow::showPageByKey(const QString& key) {
    for (int i = 0; i < pageCount(); ++i) {
        if (m_pages[i]->key() == key) {
            showPage(i);
            return true;
        }
    }
    return false;
}

void MainWindow::updateWindowTitle() {
    // Qt appends the application display name: "Library — ME-Switch Studio".
    const StudioPage* current = currentPage();
    setWindowTitle(current ? current->windowTitle() : QString());
}

void MainWindow::retranslateUi() {
    updateWindowTitle();
    m_fileMenu->setTitle(tr("&File"));
    m_quitAction->setText(tr("&Quit"));
    m_newChatAction->setText(tr("&New chat"));
    m_viewMenu->setTitle(tr("&View"));
    m_showLogAction->setText(tr("Show &log"));
    m_helpMenu->setTitle(tr("&Help"));
    m_aboutAction->setText(tr("&About ME-Switch Studio"));
    m_installDemoAction->setText(tr("Install &demo pack…"));
    m_installDemoAction->setStatusTip(
        tr("Add the bundled demo base model and its three experts to the catalog (compressed, "
           "with the router trained)"));
    updateDeviceStatus();
}

void MainWindow::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QMainWindow::changeEvent(event);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    StudioSettings::setWindowGeometry(saveGeometry());
    QMainWindow::closeEvent(event);
}

namespace {
MainWindow::DeviceScanFn& deviceScanFunction() {
    static MainWindow::DeviceScanFn fn;
    return fn;
}
}  // namespace

void MainWindow::setDeviceScanFunction(DeviceScanFn fn) {
    deviceScanFunction() = std::move(fn);
}

quint64 MainWindow::postScan() {
    EngineHost* engine = EngineHost::forWindow(this, m_catalog.path(), m_home);
    return engine->post(QStringLiteral("device-scan"), [fn = deviceScanFunction()](JobContext&) {
        return QVariant::fromValue(fn ? fn() : meswitch::scan_devices());
    });
}

void MainWindow::startDeviceScan() {
    // The GUI thread never runs engine work: with a CUDA build the first driver call can take
    // a while.
    EngineHost* engine = EngineHost::forWindow(this, m_catalog.path(), m_home);
    connect(engine, &EngineHost::finished, this,
            [this](quint64 job, const QString&, const QVariant& result) {
                if (job == m_memoryJob) {
                    m_memoryJob = 0;
                    onMemoryScan(result.value<meswitch::DeviceScan>());
                }
                if (job != m_scanJob) return;
                m_scanJob = 0;
                onDeviceScan(result.value<meswitch::DeviceScan>());
            });
    connect(engine, &EngineHost::failed, this,
            [this](quint64 job, const QString&, const QString& message, bool cancelled) {
                if (job == m_memoryJob) m_memoryJob = 0;  // the last figures stay shown
                if (job != m_scanJob) return;
                m_scanJob = 0;
                if (cancelled) return;  // the window is closing
                spdlog::warn("device: the scan failed: {}", message.toStdString());
                meswitch::DeviceScan none;
                none.note = "the device scan failed: " + message.toStdString();
                onDeviceScan(none);
            });
    m_scanJob = postScan();
}

void MainWindow::onMemoryScan(const meswitch::DeviceScan& scan) {
    if (!m_scan) return;
    for (auto& shown : m_scan->devices)
        for (const auto& now : scan.devices)
            if (now.index == shown.index) shown.free_memory = now.free_memory;
    updateDeviceStatus();
    emit memoryStatusRefreshed();
}

void MainWindow::onDeviceScan(const meswitch::DeviceScan& scan) {
    m_scan = scan;
    if (m_scan->devices.empty()) spdlog::info("device: CPU (no GPU found: {})", m_scan->note);
    for (const auto& d : m_scan->devices)
        spdlog::info("device: GPU {} {} ({} bytes)", d.index, d.name, d.total_memory);
    m_settings->setDeviceScan(*m_scan);
    updateDeviceStatus();
    if (m_about) m_about->setDeviceScan(*m_scan);
    emit deviceScanFinished();
}

namespace {

// The GPU the Settings choice ("auto", "cpu", "gpu:NAME") selects, or null for the CPU.
const meswitch::DeviceInfo* chosenGpu(const meswitch::DeviceScan& scan, const QString& setting) {
    if (setting == QLatin1String("cpu")) return nullptr;
    if (setting.startsWith(QLatin1String("gpu:"))) {
        for (const auto& d : scan.devices)
            if (qs(d.name) == setting.mid(4)) return &d;
        return nullptr;
    }
    return scan.devices.empty() ? nullptr : &scan.devices.front();
}

// System memory (total, available) in bytes from /proc/meminfo; zeros when unreadable.
std::pair<std::int64_t, std::int64_t> systemMemory() {
    std::int64_t total = 0, available = 0;
    QFile file(QStringLiteral("/proc/meminfo"));
    if (file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        for (const QByteArray& line : file.readAll().split('\n')) {
            const QList<QByteArray> parts = line.simplified().split(' ');
            if (parts.size() < 2) continue;
            if (parts[0] == "MemTotal:") total = parts[1].toLongLong() * 1024;
            if (parts[0] == "MemAvailable:") available = parts[1].toLongLong() * 1024;
        }
    }
    if (total == 0) {
        const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
        if (pages > 0 && size > 0) total = static_cast<std::int64_t>(pages) * size;
    }
    return {total, available};
}

}  // namespace

QString MainWindow::deviceStatusText() const {
    if (!m_scan) return tr("Device: scanning…");
    const QString setting = StudioSettings::device();
    if (const meswitch::DeviceInfo* d = chosenGpu(*m_scan, setting))
        return tr("Device: %1 (%2, %3 free)")
            .arg(qs(d->name), Formatting::byteSize(static_cast<std::int64_t>(d->total_memory)),
                 Formatting::byteSize(static_cast<std::int64_t>(d->free_memory)));
    if (setting == QLatin1String("cpu")) return tr("Device: CPU (chosen in Settings)");
    if (setting.startsWith(QLatin1String("gpu:")))
        return tr("Device: CPU (%1 not found)").arg(setting.mid(4));
    return tr("Device: CPU (no GPU found)");
}

QString MainWindow::memoryStatusText() const {
    if (m_scan)
        if (const meswitch::DeviceInfo* d = chosenGpu(*m_scan, StudioSettings::device()))
            return tr("Memory: %1 free of %2")
                .arg(Formatting::byteSize(static_cast<std::int64_t>(d->free_memory)),
                     Formatting::byteSize(static_cast<std::int64_t>(d->total_memory)));
    const auto [total, available] = systemMemory();
    if (total <= 0) return {};
    return available > 0 ? tr("Memory: %1 free of %2")
                               .arg(Formatting::byteSize(available), Formatting::byteSize(total))
                         : tr("Memory: %1").arg(Formatting::byteSize(total));
}

void MainWindow::updateDeviceStatus() {
    m_deviceLabel->setText(deviceStatusText());
    m_deviceLabel->setToolTip(m_scan && !m_scan->note.empty() ? qs(m_scan->note) : QString());
    m_memoryLabel->setText(memoryStatusText());
}

void MainWindow::newChat() {
    if (!showPageByKey(QStringLiteral("chat"))) return;
    m_chat->newChat();
}

AboutDialog* MainWindow::showAbout() {
    if (!m_about) {
        m_about = new AboutDialog(m_scan, this);
        m_about->setAttribute(Qt::WA_DeleteOnClose);
    }
    m_about->show();
    m_about->raise();
    m_about->activateWindow();
    return m_about;
}

LogViewerDialog* MainWindow::showLog() {
    const auto file = meswitch::log_file_path(meswitch::log_dir(m_home));
    if (!m_log) {
        m_log = new LogViewerDialog(qs(file.string()), this);
        m_log->setAttribute(Qt::WA_DeleteOnClose);
    } else {
        m_log->refresh();
    }
    m_log->show();
    m_log->raise();
    m_log->activateWindow();
    return m_log;
}

FirstRun* MainWindow::installDemoPack() {
    // The first-run offer's installer, if it is there (a second request shows its progress).
    FirstRun* installer = findChild<FirstRun*>();
    if (installer && installer->running()) {
        if (installer->progressDialog()) installer->progressDialog()->raise();
        return installer;
    }
    std::optional<std::filesystem::path> pack;
    try {
        pack = meswitch::find_demo_pack();
    } catch (const std::exception& e) {
        MessageBoxes::error(this, tr("Install demo pack"), QString::fromUtf8(e.what()));
        return nullptr;
    }
    if (!pack) {
        MessageBoxes::error(this, tr("Install demo pack"),
                            tr("No demo pack was found. It is installed with the application "
                               "under share/meswitch-studio/demo; MESWITCH_DEMO_DIR can point "
                               "to another folder that holds a pack.json."));
        return nullptr;
    }
    if (!installer) installer = new FirstRun(this, m_catalog, m_home);
    installer->setPackDir(*pack);
    installer->install();
    return installer;
}

void MainWindow::refreshMemoryStatus() {
    if (!m_scan || !chosenGpu(*m_scan, StudioSettings::device())) {
        m_memoryLabel->setText(memoryStatusText());  // /proc/meminfo, read now
        emit memoryStatusRefreshed();
        return;
    }
    // A GPU's free memory comes from the driver: asked on the engine thread, one scan at a time
    // (a long job ahead in the queue delays it; the last figures stay shown meanwhile).
    if (!m_memoryJob && !m_scanJob) m_memoryJob = postScan();
}
