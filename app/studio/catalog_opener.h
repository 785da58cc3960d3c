// Opens the catalog at start-up and decides what happens when it cannot be opened: the user
// sees the full error (naming the file) and chooses between moving the file aside and starting
// with a fresh catalog, or quitting. The file is never overwritten. The questions go through
// callbacks so that tests drive the decision without a modal dialog.
#pragma once

#include <QCoreApplication>
#include <QString>

#include <filesystem>
#include <functional>
#include <memory>

#include "meswitch/catalog.h"

class QMessageBox;
class QWidget;

class CatalogOpener {
    Q_DECLARE_TR_FUNCTIONS(CatalogOpener)

public:
    enum class Choice { MoveAside, Quit };
    // Shown the error text (which names the file); returns what the user chose.
    using AskFn = std::function<Choice(const QString& message)>;
    // Tells the user something final: where the old file went (error false), or why the Studio
    // must quit (error true).
    using InformFn = std::function<void(const QString& message, bool error)>;

    struct Result {
        std::unique_ptr<meswitch::Catalog> catalog;  // null: the Studio cannot go on
        QString error;                               // the last error, when catalog is null
        std::filesystem::path movedAsideTo;          // where a corrupt file went, if it was moved
    };

    CatalogOpener(AskFn ask, InformFn inform);

    // The opener the application uses: QMessageBox questions parented to `parent`.
    static CatalogOpener withMessageBoxes(QWidget* parent = nullptr);
    // The question box withMessageBoxes() shows (exposed for screenshots and tests).
    static QMessageBox* createErrorBox(const QString& message, QWidget* parent = nullptr);

    Result open(const std::filesystem::path& file) const;

private:
    AskFn m_ask;
    InformFn m_inform;
};
