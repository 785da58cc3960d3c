// Library: every model in the catalog (bases with their experts), what each is and how it is
// compressed, with Refresh, Remove… (the catalog row only, never files) and Open containing
// folder, and a details pane for the selected model. Import… opens the Import wizard (also when
// a model folder is dropped on the page); Compress… shows the Compress page for an expert.
#pragma once

#include <QString>

#include <filesystem>
#include <functional>

#include "studio_page.h"

namespace meswitch {
class Catalog;
}
class EngineHost;
class ImportWizard;
class LibraryModel;
class QAction;
class QDragEnterEvent;
class QDropEvent;
class QLabel;
class QStackedWidget;
class QTextBrowser;
class QToolBar;
class QTreeView;

class LibraryPage : public StudioPage {
    Q_OBJECT

public:
    // Asked before removing: the question text; true removes.
    using ConfirmFn = std::function<bool(const QString& question)>;
    // Shows an error (a failed refresh, a refused removal, a missing folder).
    using ErrorFn = std::function<void(const QString& message)>;
    // Opens a local folder in the desktop's file manager; false when that failed.
    using OpenFolderFn = std::function<bool(const QString& folder)>;

    LibraryPage(meswitch::Catalog& catalog, QWidget* parent = nullptr);

    void setConfirmHandler(ConfirmFn fn) { m_confirm = std::move(fn); }
    void setErrorHandler(ErrorFn fn) { m_error = std::move(fn); }
    void setOpenFolderHandler(OpenFolderFn fn) { m_openFolder = std::move(fn); }

    LibraryModel* model() const { return m_model; }
    QTreeView* view() const { return m_view; }
    QTextBrowser* details() const { return m_details; }
    QLabel* emptyLabel() const { return m_emptyLabel; }
    QAction* refreshAction() const { return m_refreshAction; }
    QAction* removeAction() const { return m_removeAction; }
    QAction* openFolderAction() const { return m_openFolderAction; }
    QAction* importAction() const { return m_importAction; }
    QAction* compressAction() const { return m_compressAction; }

    // The engine thread shared by the window's pages (created on first use).
    EngineHost* engine();
    // The data folder: the catalog's folder (catalog.sqlite lives in it).
    std::filesystem::path dataHome() const;

    // Selects a model by catalog id (false when it is not listed).
    bool selectModel(std::int64_t id);

public slots:
    void refresh();
    void removeSelected();
    void openSelectedFolder();
    // Opens the Import wizard (non-modal), on `folder` when given; returns it.
    ImportWizard* importModel(const QString& folder = QString());
    // Shows the Compress page with the selected expert chosen.
    void compressSelected();

signals:
    // Asked for by Compress…: the window shows the Compress page for this expert.
    void compressRequested(qint64 expertId);

protected:
    void retranslateUi() override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void updateActions();
    void updateSummary();
    void updateDetails();
    void showError(const QString& message);

    meswitch::Catalog& m_catalog;
    LibraryModel* m_model = nullptr;
    QToolBar* m_toolBar = nullptr;
    QAction* m_refreshAction = nullptr;
    QAction* m_removeAction = nullptr;
    QAction* m_openFolderAction = nullptr;
    QAction* m_importAction = nullptr;
    QAction* m_compressAction = nullptr;
    QStackedWidget* m_stack = nullptr;  // the empty-state label or the tree + details
    QLabel* m_emptyLabel = nullptr;
    QTreeView* m_view = nullptr;
    QTextBrowser* m_details = nullptr;
    QLabel* m_summary = nullptr;
    ConfirmFn m_confirm;
    ErrorFn m_error;
    OpenFolderFn m_openFolder;
};
