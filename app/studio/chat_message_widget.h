// One message of a conversation on the Chat page: who wrote it, the text (Markdown: prose,
// code blocks with syntax colouring and a Copy button each), a footer (which expert answered,
// its routing confidence, tokens/s) and the message's actions: copy, edit and resend (user
// messages), regenerate (the last answer, or a question left without one), and ‹ 1/2 › to
// move between the alternatives of a regenerated answer.
#pragma once

#include <QFrame>
#include <QString>

#include <cstdint>

class ChatMarkdownView;
class QLabel;
class QToolButton;

class ChatMessageWidget : public QFrame {
    Q_OBJECT

public:
    enum class Role { user, assistant, error };

    ChatMessageWidget(Role role, std::int64_t messageId, QWidget* parent = nullptr);

    Role role() const { return m_role; }
    std::int64_t messageId() const { return m_messageId; }
    void setMessageId(std::int64_t id) { m_messageId = id; }
    QString text() const { return m_text; }
    QString footer() const;

    void setText(const QString& text);
    void setFooter(const QString& footer);
    // Answers and (for a question left without an answer) questions.
    void setRegenerateVisible(bool visible);
    void setActionsEnabled(bool enabled);
    // ‹ index+1/count ›, shown when count > 1.
    void setAlternatives(int index, int count);
    int alternative() const { return m_alternative; }
    int alternativeCount() const { return m_alternativeCount; }

    ChatMarkdownView* markdownView() const { return m_markdown; }
    QToolButton* copyButton() const { return m_copy; }
    QToolButton* editButton() const { return m_edit; }
    QToolButton* regenerateButton() const { return m_regenerate; }
    QToolButton* previousAlternativeButton() const { return m_previous; }
    QToolButton* nextAlternativeButton() const { return m_next; }
    QLabel* alternativeLabel() const { return m_alternativeLabel; }

signals:
    void editRequested(std::int64_t messageId, const QString& text);
    void regenerateRequested();
    void alternativeRequested(std::int64_t messageId, int index);

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslateUi();
    void updateAlternativeButtons();

    Role m_role;
    std::int64_t m_messageId;
    QString m_text;
    int m_alternative = 0;
    int m_alternativeCount = 1;
    bool m_actionsEnabled = true;
    QLabel* m_header = nullptr;
    ChatMarkdownView* m_markdown = nullptr;  // user and assistant messages
    QLabel* m_plain = nullptr;               // error messages
    QLabel* m_footer = nullptr;
    QToolButton* m_copy = nullptr;
    QToolButton* m_edit = nullptr;
    QToolButton* m_regenerate = nullptr;
    QToolButton* m_previous = nullptr;
    QLabel* m_alternativeLabel = nullptr;
    QToolButton* m_next = nullptr;
};
