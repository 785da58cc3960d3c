#include "catalog_opener.h"

#include <QGridLayout>
#include <QMessageBox>
#include <QPushButton>

#include <spdlog/spdlog.h>

#include "formatting.h"
#include "meswitch/error.h"

using Formatting::qs;

CatalogOpener::CatalogOpener(AskFn ask, InformFn inform)
    : m_ask(std::move(ask)), m_inform(std::move(inform)) {}

namespace {

// Opens the catalog; on failure returns null and fills `error` (and `recoverable`: the file is
// there but unusable, so moving it aside can help).
std::unique_ptr<meswitch::Catalog> tryOpen(const std::filesystem::path& file, QString& error,
                                           bool& recoverable) {
    try {
        return std::make_unique<meswitch::Catalog>(file);
    } catch (const meswitch::CatalogOpenError& e) {
        // Only a damaged file or another program's database is helped by moving it aside; a
        // catalog from a newer version or one that may not be read is left for the user.
        error = QString::fromUtf8(e.what());
        std::error_code ec;
        recoverable = e.can_move_aside() && std::filesystem::is_regular_file(file, ec);
    } catch (const std::exception& e) {
        error = QString::fromUtf8(e.what());
        recoverable = false;
    }
    // Make sure the message names the file even if an error forgot to.
    const QString name = qs(file.string());
    if (!error.contains(name)) error = CatalogOpener::tr("%1 (catalog file: %2)").arg(error, name);
    spdlog::error("cannot open catalog: {}", error.toStdString());
    return nullptr;
}

}  // namespace

CatalogOpener::Result CatalogOpener::open(const std::filesystem::path& file) const {
    Result result;
    bool recoverable = false;
    result.catalog = tryOpen(file, result.error, recoverable);
    if (result.catalog) return result;

    if (!recoverable) {
        m_inform(
            tr("ME-Switch Studio cannot open its catalog and has to quit.\n\n%1\n\nTo start with "
               "another data folder, run: meswitch-studio --home DIR")
                .arg(result.error),
            true);
        return result;
    }
    if (m_ask(result.error) != Choice::MoveAside) {
        spdlog::info("user chose to quit rather than move the catalog aside");
        return result;
    }

    try {
        result.movedAsideTo = meswitch::move_aside_corrupt_catalog(file);
    } catch (const std::exception& e) {
        result.error = QString::fromUtf8(e.what());
        m_inform(tr("The catalog could not be moved aside, so ME-Switch Studio has to quit.\n\n%1")
                     .arg(result.error),
                 true);
        return result;
    }
    spdlog::warn("moved the unreadable catalog {} aside to {}", file.string(),
                 result.movedAsideTo.string());

    result.catalog = tryOpen(file, result.error, recoverable);
    if (!result.catalog) {
        m_inform(tr("The old catalog was moved to:\n%1\n\nbut a new catalog could not be "
                    "created either, so ME-Switch Studio has to quit.\n\n%2")
                     .arg(qs(result.movedAsideTo.string()), result.error),
                 true);
        return result;
    }
    result.error.clear();
    m_inform(tr("The old catalog was kept and moved to:\n%1\n\nA new, empty catalog was created "
                "at:\n%2")
                 .arg(qs(result.movedAsideTo.string()), qs(file.string())),
             false);
    return result;
}

QMessageBox* CatalogOpener::createErrorBox(const QString& message, QWidget* parent) {
    auto* box = new QMessageBox(parent);
    box->setIcon(QMessageBox::Critical);
    box->setWindowTitle(tr("Catalog cannot be opened"));
    box->setText(tr("ME-Switch Studio cannot open its catalog."));
    box->setInformativeText(
        tr("%1\n\nYou can move the file aside (it is kept, renamed, for recovery) and start with "
           "a fresh, empty catalog, or quit and investigate.")
            .arg(message));
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* moveAside = box->addButton(tr("Move aside and start fresh"), QMessageBox::AcceptRole);
    auto* quit = box->addButton(tr("Quit"), QMessageBox::RejectRole);
    box->setDefaultButton(quit);
    box->setEscapeButton(quit);
    // QMessageBox is narrow by default; the error names a path, give it room.
    if (auto* grid = qobject_cast<QGridLayout*>(box->layout()))
        grid->addItem(new QSpacerItem(560, 0, QSizePolicy::Minimum, QSizePolicy::Expanding),
                      grid->rowCount(), 0, 1, grid->columnCount());
    moveAside->setObjectName(QStringLiteral("moveAsideButton"));
    quit->setObjectName(QStringLiteral("quitButton"));
    return box;
}

CatalogOpener CatalogOpener::withMessageBoxes(QWidget* parent) {
    auto ask = [parent](const QString& message) {
        std::unique_ptr<QMessageBox> box(createErrorBox(message, parent));
        box->exec();
        const bool move = box->clickedButton() &&
                          box->clickedButton()->objectName() == QLatin1String("moveAsideButton");
        return move ? Choice::MoveAside : Choice::Quit;
    };
    auto inform = [parent](const QString& message, bool error) {
        QMessageBox box(parent);
        box.setIcon(error ? QMessageBox::Critical : QMessageBox::Information);
        box.setWindowTitle(tr("ME-Switch Studio catalog"));
        box.setText(message);
        box.setTextInteractionFlags(Qt::TextSelectableByMouse);
        box.addButton(tr("OK"), QMessageBox::AcceptRole);
        box.exec();
    };
    return CatalogOpener(ask, inform);
}
