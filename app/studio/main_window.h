// The main window: a navigation list on the left (icon + title per page), the pages in a
// QStackedWidget, File/View/Help menus, and a status bar that names the compute device. Window
// geometry and the last page are remembered. Devices are scanned as a job of the window's
// EngineHost. The window makes the Chat page's engine backend and the Local API server
// (ApiServerController) that shares its engine, driven from the Settings page.
#pragma once

#include <QMainWindow>
#include <QPointer>

#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "meswitch/system.h"

namespace meswitch {
class Catalog;
}
class AboutDialog;
class FirstRun;
class ApiServerController;
class ChatPage;
class LibraryPage;
class LogViewerDialog;
class QAction;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;
class SettingsPage;
class StudioPage;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    MainWindow(meswitch::Catalog& catalog, const std::filesystem::path& dataHome,
               QWidget* parent = nullptr);
    ~MainWindow() override;

    // The size the window opens at when none is remembered.
    static QSize defaultSize() { return {1200, 760}; }

    int pageCount() const { return static_cast<int>(m_pages.size()); }
    StudioPage* page(int index) const;
    StudioPage* currentPage() const;
    QListWidget* navigation() const { return m_navigation; }
    QAction* pageAction(int index) const;
    LibraryPage* libraryPage() const { return m_library; }
    SettingsPage* settingsPage() const { return m_settings; }
    ChatPage* chatPage() const { return m_chat; }
    ApiServerController* apiServer() const { return m_apiServer; }

    // The device in use under the Settings choice: "Device: CPU (no GPU found)",
    // "Device: CPU (chosen in Settings)", "Device: NVIDIA … (80 GiB, 79 GiB free)" or
    // "Device: scanning…".
    QString deviceStatusText() const;
    // The memory of that device: "Memory: 12.1 GiB free of 15.5 GiB" (system memory for the CPU).
    QString memoryStatusText() const;
    const std::optional<meswitch::DeviceScan>& deviceScan() const { return m_scan; }

    // What scans the devices (default meswitch::scan_devices), on the EngineHost's thread; tests
    // set one that reports a GPU whose free memory changes. Set it before the window is made.
    using DeviceScanFn = std::function<meswitch::DeviceScan()>;
    static void setDeviceScanFunction(DeviceScanFn fn);
    // The status bar's timer interval for refreshMemoryStatus().
    static constexpr int kMemoryRefreshMs = 5000;

public slots:
    void showPage(int index);
    // Shows the Chat page and starts a new conversation (File > New chat, Ctrl+N).
    void newChat();
    bool showPageByKey(const QString& key);
    // Both dialogs are non-modal and delete themselves on close; a second call raises the first.
    AboutDialog* showAbout();
    LogViewerDialog* showLog();
    // Help > Install demo pack…: installs the bundled pack with progress and cancel (also after
    // "Not now" on first run); a running installation shows its progress again. nullptr (and
    // the reason shown) when no pack is found.
    FirstRun* installDemoPack();
    // Re-reads the free memory of the device in use (every kMemoryRefreshMs): a new device scan
    // when a GPU is in use, /proc/meminfo for the CPU. The label changes when the answer comes.
    void refreshMemoryStatus();

signals:
    void deviceScanFinished();
    // A refresh of the free memory arrived and is shown.
    void memoryStatusRefreshed();

protected:
    void closeEvent(QCloseEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    // Adds a page to the navigation, the stack and the View menu (with Ctrl+N).
    void addPage(StudioPage* page);
    void retranslateUi();
    void updateWindowTitle();
    void startDeviceScan();
    quint64 postScan();
    void onMemoryScan(const meswitch::DeviceScan& scan);
    void onDeviceScan(const meswitch::DeviceScan& scan);
    void updateDeviceStatus();

    meswitch::Catalog& m_catalog;
    std::filesystem::path m_home;
    QListWidget* m_navigation = nullptr;
    QStackedWidget* m_stack = nullptr;
    std::vector<StudioPage*> m_pages;
    std::vector<QAction*> m_pageActions;
    LibraryPage* m_library = nullptr;
    SettingsPage* m_settings = nullptr;
    ChatPage* m_chat = nullptr;
    ApiServerController* m_apiServer = nullptr;
    QMenu* m_fileMenu = nullptr;
    QMenu* m_viewMenu = nullptr;
    QMenu* m_helpMenu = nullptr;
    QAction* m_quitAction = nullptr;
    QAction* m_newChatAction = nullptr;
    QAction* m_showLogAction = nullptr;
    QAction* m_aboutAction = nullptr;
    QAction* m_installDemoAction = nullptr;
    QLabel* m_deviceLabel = nullptr;
    QLabel* m_memoryLabel = nullptr;
    quint64 m_scanJob = 0;
    quint64 m_memoryJob = 0;
    std::optional<meswitch::DeviceScan> m_scan;
    QPointer<AboutDialog> m_about;
    QPointer<LogViewerDialog> m_log;
};
