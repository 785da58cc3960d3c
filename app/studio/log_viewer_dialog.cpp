#include "log_viewer_dialog.h"

#include <QDesktopServices>
#include <QDir>
#include <QEvent>
#include <QFile>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QUrl>
#include <QVBoxLayout>

#include "message_boxes.h"

LogViewerDialog::LogViewerDialog(const QString& logFile, QWidget* parent)
    : QDialog(parent), m_file(logFile) {
    setObjectName(QStringLiteral("logViewerDialog"));
    m_fileLabel = new QLabel(this);
    m_fileLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_fileLabel->setWordWrap(true);
    m_text = new QPlainTextEdit(this);
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_refresh = new QPushButton(this);
    m_openFolder = new QPushButton(this);
    m_close = new QPushButton(this);
    connect(m_refresh, &QPushButton::clicked, this, &LogViewerDialog::refresh);
    connect(m_openFolder, &QPushButton::clicked, this, &LogViewerDialog::openFolder);
    connect(m_close, &QPushButton::clicked, this, &QDialog::accept);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_refresh);
    buttons->addWidget(m_openFolder);
    buttons->addStretch(1);
    buttons->addWidget(m_close);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_fileLabel);
    layout->addWidget(m_text, 1);
    layout->addLayout(buttons);
    resize(900, 560);
    retranslateUi();
    refresh();
}

void LogViewerDialog::retranslateUi() {
    setWindowTitle(tr("Log"));
    m_refresh->setText(tr("Refresh"));
    m_refresh->setShortcut(QKeySequence::Refresh);
    m_openFolder->setText(tr("Open folder"));
    m_close->setText(tr("Close"));
    m_fileLabel->setText(tr("Log file: %1").arg(QDir::toNativeSeparators(m_file)));
}

void LogViewerDialog::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QDialog::changeEvent(event);
}

QString LogViewerDialog::text() const {
    return m_text->toPlainText();
}

void LogViewerDialog::refresh() {
    QFile file(m_file);
    if (!file.exists()) {
        m_text->setPlainText(
            tr("The log file %1 does not exist yet.").arg(QDir::toNativeSeparators(m_file)));
        return;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        m_text->setPlainText(tr("The log file %1 cannot be read: %2")
                                 .arg(QDir::toNativeSeparators(m_file), file.errorString()));
        return;
    }
    QByteArray data;
    if (file.size() > kTailBytes) {
        file.seek(file.size() - kTailBytes);
        data = file.read(kTailBytes);
        // Drop the partial first line.
        const qsizetype newline = data.indexOf('\n');
        if (newline >= 0) data.remove(0, newline + 1);
        data.prepend(tr("[… earlier lines omitted; showing the last %1 KiB]\n")
                         .arg(kTailBytes / 1024)
                         .toUtf8());
    } else {
        data = file.readAll();
    }
    m_text->setPlainText(QString::fromUtf8(data));
    m_text->verticalScrollBar()->setValue(m_text->verticalScrollBar()->maximum());
}

void LogViewerDialog::openFolder() {
    const QString folder = QFileInfo(m_file).absolutePath();
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(folder)))
        MessageBoxes::error(
            this, tr("Log"),
            tr("No file manager could open %1.").arg(QDir::toNativeSeparators(folder)));
}
