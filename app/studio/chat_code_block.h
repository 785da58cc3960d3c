// One fenced code block of a chat answer: a header with the language and a Copy button (the
// block's text to the clipboard), and the code in the fixed-width font with syntax colouring,
// unwrapped (a horizontal scroll bar for long lines), as tall as its lines. Text streamed onto
// the end is appended, so that only the new lines are laid out and coloured.
#pragma once

#include <QFrame>
#include <QString>

class ChatCodeHighlighter;
class QLabel;
class QPlainTextEdit;
class QToolButton;

class ChatCodeBlock : public QFrame {
    Q_OBJECT

public:
    explicit ChatCodeBlock(QWidget* parent = nullptr);

    void setCode(const QString& code, const QString& language);
    QString code() const { return m_code; }
    QString language() const { return m_language; }

    QToolButton* copyButton() const { return m_copy; }
    QPlainTextEdit* editor() const { return m_editor; }
    ChatCodeHighlighter* highlighter() const { return m_highlighter; }

protected:
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void retranslateUi();
    void updateHeight();
    void measureLines(const QString& text);

    QString m_code;
    QString m_language;
    int m_widestLine = 0;
    QLabel* m_languageLabel = nullptr;
    QToolButton* m_copy = nullptr;
    QPlainTextEdit* m_editor = nullptr;
    ChatCodeHighlighter* m_highlighter = nullptr;
};
