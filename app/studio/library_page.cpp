#include "library_page.h"

#include <QAction>
#include <QDesktopServices>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMimeData>
#include <QSplitter>
#include <QStackedWidget>
#include <QTextBrowser>
#include <QToolBar>
#include <QTreeView>
#include <QUrl>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include "compress_page.h"
#include "engine_worker.h"
#include "formatting.h"
#include "import_wizard.h"
#include "library_model.h"
#include "main_window.h"
#include "message_boxes.h"
#include "meswitch/catalog.h"

using Formatting::qs;

namespace {
QString esc(const QString& s) {
    return s.toHtmlEscaped();
}
QString esc(const std::string& s) {
    return qs(s).toHtmlEscaped();
}
}  // namespace

LibraryPage::LibraryPage(meswitch::Catalog& catalog, QWidget* parent)
    : StudioPage(QStringLiteral("library"), navigationIcon(QStringLiteral("library")), parent),
      m_catalog(catalog) {
    m_model = new LibraryModel(this);

    m_toolBar = new QToolBar(this);
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_importAction = m_toolBar->addAction(QString(), this, [this] { importModel(); });
    m_importAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_compressAction = m_toolBar->addAction(QString(), this, &LibraryPage::compressSelected);
    m_compressAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_refreshAction = m_toolBar->addAction(QString(), this, &LibraryPage::refresh);
    m_refreshAction->setShortcut(QKeySequence::Refresh);
    m_removeAction = m_toolBar->addAction(QString(), this, &LibraryPage::removeSelected);
    m_removeAction->setShortcut(QKeySequence::Delete);
    m_openFolderAction = m_toolBar->addAction(QString(), this, &LibraryPage::openSelectedFolder);

    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("librarySummary"));

    m_emptyLabel = new QLabel(this);
    m_emptyLabel->setObjectName(QStringLiteral("libraryEmptyLabel"));
    m_emptyLabel->setAlignment(Qt::AlignCenter);
    m_emptyLabel->setWordWrap(true);
    m_emptyLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_view = new QTreeView(this);
    m_view->setObjectName(QStringLiteral("libraryView"));
    m_view->setModel(m_model);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->header()->setStretchLastSection(true);
    // Paths (the last column) lose their middle, not their end; the tooltip has them in full.
    m_view->setTextElideMode(Qt::ElideMiddle);
    m_view->addAction(m_compressAction);
    m_view->addAction(m_removeAction);
    m_view->addAction(m_openFolderAction);
    m_view->setContextMenuPolicy(Qt::ActionsContextMenu);

    m_details = new QTextBrowser(this);
    m_details->setObjectName(QStringLiteral("libraryDetails"));
    m_details->setOpenLinks(false);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_view);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_emptyLabel);
    m_stack->addWidget(splitter);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_toolBar);
    layout->addWidget(m_summary);
    layout->addWidget(m_stack, 1);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        updateActions();
        updateDetails();
    });
    connect(m_model, &QAbstractItemModel::layoutChanged, this, &LibraryPage::updateDetails);

    setAcceptDrops(true);
    // Imports and compressions change what the Library shows.
    connect(engine(), &EngineHost::finished, this, [this](quint64, const QString& kind) {
        if (kind == QLatin1String("import") || kind == QLatin1String("compress")) refresh();
    });

    retranslateUi();
    refresh();
}

EngineHost* LibraryPage::engine() {
    return EngineHost::forWindow(this, m_catalog.path(), dataHome());
}

std::filesystem::path LibraryPage::dataHome() const {
    return m_catalog.path().parent_path();
}

void LibraryPage::retranslateUi() {
    setWindowTitle(tr("Library"));
    m_refreshAction->setText(tr("Refresh"));
    m_refreshAction->setToolTip(tr("Read the catalog again (F5)"));
    m_removeAction->setText(tr("Remove…"));
    m_removeAction->setToolTip(
        tr("Remove the selected model from the catalog (its files stay on disk)"));
    m_openFolderAction->setText(tr("Open containing folder"));
    m_openFolderAction->setToolTip(tr("Show the selected model's folder in the file manager"));
    m_importAction->setText(tr("Import…"));
    m_importAction->setToolTip(
        tr("Import a Hugging Face model folder as a base or an expert (Ctrl+I); you can also "
           "drop a folder on this page"));
    m_compressAction->setText(tr("Compress…"));
    m_compressAction->setToolTip(tr("Compress the selected expert's delta (Ctrl+Shift+C)"));
    m_emptyLabel->setText(
        tr("No models yet.\n\nImport one with Import… (Ctrl+I), by dropping a model folder "
           "here, or with:\n    meswitch import PATH"));
    m_model->retranslate();
    // Translated roles, headers and compression texts have other widths.
    for (int c = 0; c < LibraryModel::PathColumn; ++c) m_view->resizeColumnToContents(c);
    updateSummary();
    updateDetails();
}

void LibraryPage::refresh() {
    const QModelIndex current = m_view->currentIndex();
    const auto* selected = m_model->entry(current);
    const std::int64_t selectedId = selected ? selected->model.id : -1;
    try {
        m_model->reload(m_catalog);
    } catch (const std::exception& e) {
        spdlog::error("library: cannot read the catalog: {}", e.what());
        showError(tr("The catalog could not be read:\n\n%1").arg(QString::fromUtf8(e.what())));
    }
    m_view->expandAll();
    for (int c = 0; c < LibraryModel::PathColumn; ++c) m_view->resizeColumnToContents(c);
    m_stack->setCurrentIndex(m_model->modelCount() == 0 ? 0 : 1);
    if (selectedId >= 0) selectModel(selectedId);
    updateSummary();
    updateActions();
}

void LibraryPage::updateSummary() {
    int bases = 0;
    for (int r = 0; r < m_model->rowCount(); ++r) {
        const auto* e = m_model->entry(m_model->index(r, 0));
        if (e && e->model.role == meswitch::ModelRole::base) ++bases;
    }
    m_summary->setText(tr("Models: %1 (bases: %2, experts: %3) — catalog: %4")
                           .arg(m_model->modelCount())
                           .arg(bases)
                           .arg(m_model->modelCount() - bases)
                           .arg(QDir::toNativeSeparators(qs(m_catalog.path().string()))));
}

bool LibraryPage::selectModel(std::int64_t id) {
    const QModelIndex index = m_model->indexOfModel(id);
    if (!index.isValid()) return false;
    m_view->setCurrentIndex(index);
    m_view->scrollTo(index);
    return true;
}

void LibraryPage::updateActions() {
    const bool any = m_model->entry(m_view->currentIndex()) != nullptr;
    const auto* e = m_model->entry(m_view->currentIndex());
    m_compressAction->setEnabled(e && e->model.role == meswitch::ModelRole::expert);
    m_removeAction->setEnabled(any);
    m_openFolderAction->setEnabled(any);
}

void LibraryPage::updateDetails() {
    const auto* e = m_model->entry(m_view->currentIndex());
    if (!e) {
        m_details->setHtml(
            QStringLiteral("<p><i>%1</i></p>").arg(esc(tr("Select a model to see its details."))));
        return;
    }
    const auto& m = e->model;
    const bool expert = m.role == meswitch::ModelRole::expert;
    QString role = expert ? tr("expert") : tr("base");
    if (expert && e->parent >= 0) {
        const QModelIndex base = m_model->parent(m_view->currentIndex());
        if (const auto* b = m_model->entry(base)) role = tr("expert of %1").arg(qs(b->model.name));
    }
    const QLocale locale;
    QString html =
        QStringLiteral("<h3>%1</h3><table cellspacing='2' cellpadding='2'>").arg(esc(m.name));
    auto row = [&html](const QString& label, const QString& value) {
        html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(esc(label), value);
    };
    row(tr("Role"), esc(role));
    row(tr("Architecture"), esc(m.architecture));
    row(tr("Dtype"), esc(m.dtype));
    row(tr("Parameters"), esc(QStringLiteral("%1 (%2)").arg(
                              Formatting::parameterCount(m.parameter_count),
                              locale.toString(static_cast<qlonglong>(m.parameter_count)))));
    row(tr("Size on disk"),
        esc(QStringLiteral("%1 (%2)").arg(
            Formatting::byteSize(m.bytes),
            tr("%1 bytes").arg(locale.toString(static_cast<qlonglong>(m.bytes))))));
    row(tr("Content hash"), QStringLiteral("<tt>%1</tt>").arg(esc(m.content_hash)));
    row(tr("Path"), esc(m.path));
    row(tr("Added"), esc(m.created_at));
    if (!expert)
        row(tr("Experts"), esc(QString::number(static_cast<qulonglong>(e->children.size()))));
    html += QStringLiteral("</table>");

    html += QStringLiteral("<h4>%1</h4>").arg(esc(tr("Domains")));
    if (e->domains.empty()) html += QStringLiteral("<p>%1</p>").arg(esc(tr("none")));
    for (const auto& d : e->domains) {
        html += QStringLiteral("<p><b>%1</b>").arg(esc(d.name));
        if (!d.description.empty()) html += QStringLiteral(" — ") + esc(d.description);
        html += QStringLiteral("</p>");
        if (d.examples.empty()) continue;
        html += QStringLiteral("<p>%1</p><ul>").arg(esc(tr("Example prompts:")));
        for (const auto& ex : d.examples) html += QStringLiteral("<li>%1</li>").arg(esc(ex));
        html += QStringLiteral("</ul>");
    }

    if (expert) {
        html += QStringLiteral("<h4>%1</h4>").arg(esc(tr("Compressed deltas")));
        if (e->artifacts.empty())
            html += QStringLiteral("<p>%1</p>").arg(esc(Formatting::compressionSummary({})));
        html += QStringLiteral("<ul>");
        for (const auto& a : e->artifacts) {
            const QString line =
                tr("%1-bit %2, %3 bits/param, %4 salient channels, %5 — %6 (created %7)")
                    .arg(a.bits)
                    .arg(Formatting::methodName(a.method))
                    .arg(a.bits_per_param, 0, 'f', 2)
                    .arg(a.salient_count)
                    .arg(Formatting::byteSize(a.bytes), qs(a.path), qs(a.created_at));
            html += QStringLiteral("<li>%1</li>").arg(esc(line));
        }
        html += QStringLiteral("</ul>");
    }
    m_details->setHtml(html);
}

void LibraryPage::removeSelected() {
    const auto* e = m_model->entry(m_view->currentIndex());
    if (!e) return;
    const meswitch::ModelRecord model = e->model;  // the model is reset below
    const QString question =
        tr("Remove “%1” from the catalog?\n\nThe files on disk are NOT deleted:\n%2\n\nIts domain "
           "links, compressed-delta records and compression runs are removed from the catalog; "
           "delta files stay on disk too.")
            .arg(qs(model.name), qs(model.path));
    const bool yes = m_confirm ? m_confirm(question)
                               : MessageBoxes::confirm(this, tr("Remove model"), question,
                                                       tr("Remove from catalog"));
    if (!yes) return;
    try {
        m_catalog.remove_model(model.id);
        spdlog::info("library: removed model '{}' (id {}) from the catalog; files kept at {}",
                     model.name, model.id, model.path);
    } catch (const std::exception& ex) {
        spdlog::warn("library: removing '{}' failed: {}", model.name, ex.what());
        showError(
            tr("“%1” was not removed:\n\n%2").arg(qs(model.name), QString::fromUtf8(ex.what())));
    }
    refresh();
}

void LibraryPage::openSelectedFolder() {
    const auto* e = m_model->entry(m_view->currentIndex());
    if (!e) return;
    // A model is a folder; should a path name a file, open the folder that holds it.
    const QFileInfo info(qs(e->model.path));
    if (!info.exists()) {
        showError(tr("The folder %1 does not exist any more (moved or deleted?).")
                      .arg(QDir::toNativeSeparators(info.absoluteFilePath())));
        return;
    }
    const QString folder = info.isDir() ? info.absoluteFilePath() : info.absolutePath();
    const bool opened = m_openFolder ? m_openFolder(folder)
                                     : QDesktopServices::openUrl(QUrl::fromLocalFile(folder));
    if (!opened)
        showError(tr("No file manager could open %1.").arg(QDir::toNativeSeparators(folder)));
}

void LibraryPage::showError(const QString& message) {
    if (m_error)
        m_error(message);
    else
        MessageBoxes::error(this, tr("Library"), message);
}

ImportWizard* LibraryPage::importModel(const QString& folder) {
    auto* wizard = new ImportWizard(m_catalog, engine(), this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    wizard->setWindowModality(Qt::WindowModal);
    if (!folder.isEmpty()) wizard->setFolder(folder);
    connect(wizard, &ImportWizard::modelImported, this, [this](qint64 id) {
        refresh();
        selectModel(id);
    });
    wizard->show();
    return wizard;
}

void LibraryPage::compressSelected() {
    const auto* e = m_model->entry(m_view->currentIndex());
    if (!e || e->model.role != meswitch::ModelRole::expert) return;
    const qint64 id = e->model.id;
    emit compressRequested(id);
    if (auto* page = window()->findChild<CompressPage*>()) {
        page->selectExpert(id);
        if (auto* main = qobject_cast<MainWindow*>(window())) main->showPageByKey(page->key());
    }
}

void LibraryPage::dragEnterEvent(QDragEnterEvent* event) {
    const QMimeData* mime = event->mimeData();
    if (mime->hasUrls() && mime->urls().size() == 1 && mime->urls().first().isLocalFile() &&
        QFileInfo(mime->urls().first().toLocalFile()).isDir())
        event->acceptProposedAction();
}

void LibraryPage::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() != 1 || !urls.first().isLocalFile()) return;
    event->acceptProposedAction();
    importModel(urls.first().toLocalFile());
}
