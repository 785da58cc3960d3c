// One message of a conversation on the Chat page: who wrote it, the text (rich text: code
// blocks in a fixed-width font), a footer (which expert answered, its routing confidence,
// tokens/s) and the message's actions: copy, edit and resend (user messages), regenerate (the
// last answer).
#pragma once

#include <QFrame>
#include <QString>

#include <cstdint>

class QLabel;
class QToolButton;

class ChatMessageWidget : public QFrame {
    Q_OBJECT

public:
    enum class Role { user, assistant, error };

    ChatMessageWidget(Role role, std::int64_t messageId, QWidget* parent = nullptr);

    Role role() const { return m_role; }
    std::int64_t messageId() const { return m_messageId; }
    QString text() const { return m_text; }
    QString footer() const;

    void setText(const QString& text);
    void setFooter(const QString& footer);
    void setRegenerateVisible(bool visible);
    void setActionsEnabled(bool enabled);

    QLabel* body() const { return m_body; }
    QToolButton* copyButton() const { return m_copy; }
    QToolButton* editButton() const { return m_edit; }
    QToolButton* regenerateButton() const { return m_regenerate; }

signals:
    void editRequested(std::int64_t messageId, const QString& text);
    void regenerateRequested();

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslateUi();

    Role m_role;
    std::int64_t m_messageId;
    QString m_text;
    QLabel* m_header = nullptr;
    QLabel* m_body = nullptr;
    QLabel* m_footer = nullptr;
    QToolButton* m_copy = nullptr;
    QToolButton* m_edit = nullptr;
    QToolButton* m_regenerate = nullptr;
};
