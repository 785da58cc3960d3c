#include "chat_code_block.h"

#include <QAbstractTextDocumentLayout>
#include <QClipboard>
#include <QEvent>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "chat_code_highlighter.h"

ChatCodeBlock::ChatCodeBlock(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("codeBlock"));
    setFrameShape(QFrame::StyledPanel);
    m_languageLabel = new QLabel(this);
    m_languageLabel->setObjectName(QStringLiteral("codeLanguage"));
    QPalette dim = m_languageLabel->palette();
    dim.setColor(QPalette::WindowText, dim.color(QPalette::PlaceholderText));
    m_languageLabel->setPalette(dim);
    m_copy = new QToolButton(this);
    m_copy->setObjectName(QStringLiteral("copyCodeButton"));
    m_copy->setAutoRaise(true);
    connect(m_copy, &QToolButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(m_code); });

    m_editor = new QPlainTextEdit(this);
    m_editor->setObjectName(QStringLiteral("codeText"));
    m_editor->setReadOnly(true);
    m_editor->setUndoRedoEnabled(false);
    m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_editor->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_editor->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_editor->setFrameShape(QFrame::NoFrame);
    m_editor->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    QPalette code = m_editor->palette();
    code.setColor(QPalette::Base, QColor(0xf6, 0xf8, 0xfa));
    code.setColor(QPalette::Text, QColor(0x24, 0x29, 0x2f));
    m_editor->setPalette(code);
    m_editor->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_highlighter = new ChatCodeHighlighter(m_editor->document(), {});

    auto* header = new QHBoxLayout;
    header->setContentsMargins(6, 0, 0, 0);
    header->addWidget(m_languageLabel);
    header->addStretch(1);
    header->addWidget(m_copy);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(1, 1, 1, 1);
    layout->setSpacing(0);
    layout->addLayout(header);
    layout->addWidget(m_editor);
    retranslateUi();
    updateHeight();
}

void ChatCodeBlock::setCode(const QString& code, const QString& language) {
    if (language != m_language) {
        m_language = language;
        m_languageLabel->setText(language);
        m_highlighter->setLanguage(language);
    }
    if (code == m_code) return;
    if (!m_code.isEmpty() && code.startsWith(m_code)) {
        // Streaming: append what is new; only the new lines are laid out and coloured.
        const QString added = code.mid(m_code.size());
        QTextCursor end(m_editor->document());
        end.movePosition(QTextCursor::End);
        end.insertText(added);
        measureLines(m_editor->document()->lastBlock().text());
        measureLines(added);
    } else {
        m_editor->setPlainText(code);
        m_widestLine = 0;
        measureLines(code);
    }
    m_code = code;
    updateHeight();
}

void ChatCodeBlock::measureLines(const QString& text) {
    const QFontMetrics metrics(m_editor->font());
    for (const QStringView line : QStringView(text).split(QLatin1Char('\n')))
        m_widestLine = std::max(m_widestLine, metrics.horizontalAdvance(line.toString()));
}

void ChatCodeBlock::updateHeight() {
    QTextDocument* doc = m_editor->document();
    const QTextBlock first = doc->firstBlock();
    qreal lineHeight = doc->documentLayout()->blockBoundingRect(first).height();
    if (lineHeight <= 0) lineHeight = m_editor->fontMetrics().lineSpacing();
    const int lines = std::max(1, doc->blockCount());
    int height = int(std::ceil(lines * lineHeight + 2 * doc->documentMargin())) + 2;
    const int room =
        m_editor->viewport()->width() > 0 ? m_editor->viewport()->width() : m_editor->width();
    if (m_widestLine + 2 * doc->documentMargin() > room)
        height += m_editor->horizontalScrollBar()->sizeHint().height();
    if (m_editor->height() != height || m_editor->minimumHeight() != height)
        m_editor->setFixedHeight(height);
}

void ChatCodeBlock::resizeEvent(QResizeEvent* event) {
    QFrame::resizeEvent(event);
    updateHeight();  // the horizontal scroll bar comes and goes with the width
}

void ChatCodeBlock::retranslateUi() {
    m_copy->setText(tr("Copy"));
    m_copy->setToolTip(tr("Copy this code to the clipboard"));
}

void ChatCodeBlock::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QFrame::changeEvent(event);
}
