// Syntax colouring for the code blocks of chat answers: keywords, strings, comments and numbers
// for Python, C/C++ (and CUDA), JavaScript/TypeScript (and JSON) and shell; other languages (or
// none named) get the keywords of all of them. A simple scanner, line by line, that carries
// C-style block comments and Python triple-quoted strings across lines.
#pragma once

#include <QColor>
#include <QSyntaxHighlighter>

class ChatCodeHighlighter : public QSyntaxHighlighter {
    Q_OBJECT

public:
    enum class Language { generic, python, c, javascript, shell };
    // "py", "python3" → python; "cpp", "c++", "cu" → c; "ts", "json" → javascript; "bash",
    // "sh", "zsh" → shell; anything else → generic.
    static Language languageFor(const QString& name);

    static QColor keywordColor() { return QColor(0x00, 0x33, 0xb3); }
    static QColor stringColor() { return QColor(0x06, 0x7d, 0x17); }
    static QColor commentColor() { return QColor(0x8c, 0x8c, 0x8c); }
    static QColor numberColor() { return QColor(0x17, 0x50, 0xeb); }

    ChatCodeHighlighter(QTextDocument* document, const QString& language);
    void setLanguage(const QString& language);
    Language language() const { return m_language; }

protected:
    void highlightBlock(const QString& text) override;

private:
    Language m_language;
};
