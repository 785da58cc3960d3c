#include "chat_message_widget.h"

#include <QClipboard>
#include <QEvent>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

#include "chat_markdown_view.h"

ChatMessageWidget::ChatMessageWidget(Role role, std::int64_t messageId, QWidget* parent)
    : QFrame(parent), m_role(role), m_messageId(messageId) {
    setObjectName(role == Role::user        ? QStringLiteral("userMessage")
                  : role == Role::assistant ? QStringLiteral("assistantMessage")
                                            : QStringLiteral("errorMessage"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    QPalette pal = palette();
    const QColor base = pal.color(QPalette::Base);
    if (role == Role::user)
        pal.setColor(QPalette::Window, pal.color(QPalette::AlternateBase));
    else if (role == Role::error)
        pal.setColor(QPalette::Window, QColor(255, 235, 235));
    else
        pal.setColor(QPalette::Window, base);
    setPalette(pal);

    m_header = new QLabel(this);
    QFont bold = m_header->font();
    bold.setBold(true);
    m_header->setFont(bold);
    QWidget* body = nullptr;
    if (role == Role::error) {
        m_plain = new QLabel(this);
        m_plain->setObjectName(QStringLiteral("messageBody"));
        m_plain->setTextFormat(Qt::PlainText);
        m_plain->setWordWrap(true);
        m_plain->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
        m_plain->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
        body = m_plain;
    } else {
        m_markdown = new ChatMarkdownView(this);
        m_markdown->setObjectName(QStringLiteral("messageBody"));
        body = m_markdown;
    }
    m_footer = new QLabel(this);
    m_footer->setObjectName(QStringLiteral("messageFooter"));
    m_footer->setWordWrap(true);
    m_footer->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QPalette dim = m_footer->palette();
    dim.setColor(QPalette::WindowText, dim.color(QPalette::PlaceholderText));
    m_footer->setPalette(dim);
    m_footer->hide();

    auto makeButton = [this](const char* name) {
        auto* b = new QToolButton(this);
        b->setObjectName(QLatin1String(name));
        b->setAutoRaise(true);
        return b;
    };
    m_previous = makeButton("previousAlternativeButton");
    m_previous->setText(QStringLiteral("‹"));
    m_alternativeLabel = new QLabel(this);
    m_alternativeLabel->setObjectName(QStringLiteral("alternativeLabel"));
    m_next = makeButton("nextAlternativeButton");
    m_next->setText(QStringLiteral("›"));
    m_copy = makeButton("copyButton");
    m_edit = makeButton("editButton");
    m_regenerate = makeButton("regenerateButton");
    m_edit->setVisible(role == Role::user);
    m_regenerate->hide();
    m_copy->setVisible(role != Role::error);
    m_previous->hide();
    m_alternativeLabel->hide();
    m_next->hide();
    connect(m_copy, &QToolButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(m_text); });
    connect(m_edit, &QToolButton::clicked, this,
            [this] { emit editRequested(m_messageId, m_text); });
    connect(m_regenerate, &QToolButton::clicked, this, &ChatMessageWidget::regenerateRequested);
    connect(m_previous, &QToolButton::clicked, this, [this] {
        if (m_alternative > 0) emit alternativeRequested(m_messageId, m_alternative - 1);
    });
    connect(m_next, &QToolButton::clicked, this, [this] {
        if (m_alternative + 1 < m_alternativeCount)
            emit alternativeRequested(m_messageId, m_alternative + 1);
    });

    auto* top = new QHBoxLayout;
    top->addWidget(m_header);
    top->addStretch(1);
    top->addWidget(m_previous);
    top->addWidget(m_alternativeLabel);
    top->addWidget(m_next);
    top->addWidget(m_copy);
    top->addWidget(m_edit);
    top->addWidget(m_regenerate);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 6);
    layout->addLayout(top);
    layout->addWidget(body);
    layout->addWidget(m_footer);
    retranslateUi();
}

QString ChatMessageWidget::footer() const {
    return m_footer->text();
}

void ChatMessageWidget::setText(const QString& text) {
    m_text = text;
    if (m_plain)
        m_plain->setText(text);
    else
        m_markdown->setMarkdown(text);
}

void ChatMessageWidget::setFooter(const QString& footer) {
    m_footer->setText(footer);
    m_footer->setVisible(!footer.isEmpty());
}

void ChatMessageWidget::setRegenerateVisible(bool visible) {
    m_regenerate->setVisible(visible && m_role != Role::error);
}

void ChatMessageWidget::setActionsEnabled(bool enabled) {
    m_actionsEnabled = enabled;
    m_edit->setEnabled(enabled);
    m_regenerate->setEnabled(enabled);
    updateAlternativeButtons();
}

void ChatMessageWidget::setAlternatives(int index, int count) {
    m_alternative = index;
    m_alternativeCount = count;
    const bool shown = count > 1 && m_role == Role::assistant;
    m_previous->setVisible(shown);
    m_alternativeLabel->setVisible(shown);
    m_next->setVisible(shown);
    m_alternativeLabel->setText(QStringLiteral("%1/%2").arg(index + 1).arg(count));
    updateAlternativeButtons();
}

void ChatMessageWidget::updateAlternativeButtons() {
    m_previous->setEnabled(m_actionsEnabled && m_alternative > 0);
    m_next->setEnabled(m_actionsEnabled && m_alternative + 1 < m_alternativeCount);
}

void ChatMessageWidget::retranslateUi() {
    m_header->setText(m_role == Role::user        ? tr("You")
                      : m_role == Role::assistant ? tr("Assistant")
                                                  : tr("Error"));
    m_copy->setText(tr("Copy"));
    m_copy->setToolTip(tr("Copy this message to the clipboard"));
    m_edit->setText(tr("Edit"));
    m_edit->setToolTip(tr("Edit this message and send it again (later messages are replaced)"));
    m_regenerate->setText(tr("Regenerate"));
    m_regenerate->setToolTip(m_role == Role::user
                                 ? tr("Answer this message (it has no answer)")
                                 : tr("Answer this message again (the earlier answers are kept)"));
    m_previous->setToolTip(tr("Previous answer"));
    m_next->setToolTip(tr("Next answer"));
}

void ChatMessageWidget::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QFrame::changeEvent(event);
}
