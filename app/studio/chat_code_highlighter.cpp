#include "chat_code_highlighter.h"

#include <QSet>
#include <QTextCharFormat>

namespace {

// Block states carried to the next line.
constexpr int inBlockComment = 1;  // /* … */
constexpr int inTripleDouble = 2;  // """ … """
constexpr int inTripleSingle = 3;  // ''' … '''

using Language = ChatCodeHighlighter::Language;

const QSet<QString>& keywords(Language language) {
    static const QSet<QString> python = {
        "and",      "as",     "assert", "async",  "await",  "break",  "class",   "continue",
        "def",      "del",    "elif",   "else",   "except", "False",  "finally", "for",
        "from",     "global", "if",     "import", "in",     "is",     "lambda",  "None",
        "nonlocal", "not",    "or",     "pass",   "raise",  "return", "True",    "try",
        "while",    "with",   "yield",  "self",   "print",  "match",  "case"};
    static const QSet<QString> c = {
        "auto",       "bool",      "break",    "case",     "catch",     "char",     "class",
        "const",      "constexpr", "continue", "default",  "delete",    "do",       "double",
        "else",       "enum",      "explicit", "extern",   "false",     "float",    "for",
        "friend",     "goto",      "if",       "inline",   "int",       "long",     "namespace",
        "new",        "nullptr",   "operator", "private",  "protected", "public",   "return",
        "short",      "signed",    "sizeof",   "static",   "struct",    "switch",   "template",
        "this",       "throw",     "true",     "try",      "typedef",   "typename", "union",
        "unsigned",   "using",     "virtual",  "void",     "volatile",  "while",    "include",
        "define",     "std",       "size_t",   "override", "final",     "noexcept", "__global__",
        "__device__", "NULL"};
    static const QSet<QString> javascript = {
        "async",     "await",   "break",     "case",  "catch",  "class",  "const",      "continue",
        "debugger",  "default", "delete",    "do",    "else",   "export", "extends",    "false",
        "finally",   "for",     "function",  "if",    "import", "in",     "instanceof", "let",
        "new",       "null",    "return",    "super", "switch", "this",   "throw",      "true",
        "try",       "typeof",  "undefined", "var",   "void",   "while",  "with",       "yield",
        "interface", "type",    "of",        "from"};
    static const QSet<QString> shell = {"if",    "then",     "else",   "elif",  "fi",     "for",
                                        "while", "until",    "do",     "done",  "case",   "esac",
                                        "in",    "function", "return", "exit",  "export", "local",
                                        "echo",  "cd",       "set",    "unset", "source", "sudo"};
    static const QSet<QString> generic = python + c + javascript + shell;
    switch (language) {
        case Language::python:
            return python;
        case Language::c:
            return c;
        case Language::javascript:
            return javascript;
        case Language::shell:
            return shell;
        case Language::generic:
            break;
    }
    return generic;
}

bool isIdentifierStart(QChar c) {
    return c.isLetter() || c == QLatin1Char('_');
}

bool isIdentifierPart(QChar c) {
    return c.isLetterOrNumber() || c == QLatin1Char('_');
}

QTextCharFormat formatOf(const QColor& color, bool italic = false, bool bold = false) {
    QTextCharFormat f;
    f.setForeground(color);
    if (italic) f.setFontItalic(true);
    if (bold) f.setFontWeight(QFont::DemiBold);
    return f;
}

}  // namespace

ChatCodeHighlighter::Language ChatCodeHighlighter::languageFor(const QString& name) {
    const QString n = name.trimmed().toLower();
    if (n == u"py" || n == u"python" || n == u"python3" || n == u"py3") return Language::python;
    if (n == u"c" || n == u"cpp" || n == u"c++" || n == u"cc" || n == u"cxx" || n == u"h" ||
        n == u"hpp" || n == u"cu" || n == u"cuda" || n == u"objc")
        return Language::c;
    if (n == u"js" || n == u"javascript" || n == u"ts" || n == u"typescript" || n == u"jsx" ||
        n == u"tsx" || n == u"json" || n == u"node")
        return Language::javascript;
    if (n == u"sh" || n == u"bash" || n == u"shell" || n == u"zsh" || n == u"console" ||
        n == u"shellsession")
        return Language::shell;
    return Language::generic;
}

ChatCodeHighlighter::ChatCodeHighlighter(QTextDocument* document, const QString& language)
    : QSyntaxHighlighter(document), m_language(languageFor(language)) {}

void ChatCodeHighlighter::setLanguage(const QString& language) {
    const Language l = languageFor(language);
    if (l == m_language) return;
    m_language = l;
    rehighlight();
}

void ChatCodeHighlighter::highlightBlock(const QString& text) {
    static const QTextCharFormat keyword = formatOf(keywordColor(), false, true);
    static const QTextCharFormat string = formatOf(stringColor());
    static const QTextCharFormat comment = formatOf(commentColor(), true);
    static const QTextCharFormat number = formatOf(numberColor());
    const Language lang = m_language;
    const bool hashComments =
        lang == Language::python || lang == Language::shell || lang == Language::generic;
    const bool slashComments =
        lang == Language::c || lang == Language::javascript || lang == Language::generic;
    const bool tripleQuotes = lang == Language::python || lang == Language::generic;
    const QSet<QString>& words = keywords(lang);

    setCurrentBlockState(0);
    const qsizetype n = text.size();
    qsizetype i = 0;
    // Continued from the line before.
    const int previous = previousBlockState();
    if (previous == inBlockComment || previous == inTripleDouble || previous == inTripleSingle) {
        const QString end = previous == inBlockComment   ? QStringLiteral("*/")
                            : previous == inTripleDouble ? QStringLiteral("\"\"\"")
                                                         : QStringLiteral("'''");
        const qsizetype at = text.indexOf(end);
        if (at < 0) {
            setFormat(0, int(n), previous == inBlockComment ? comment : string);
            setCurrentBlockState(previous);
            return;
        }
        i = at + end.size();
        setFormat(0, int(i), previous == inBlockComment ? comment : string);
    }
    while (i < n) {
        const QChar c = text[i];
        // Comments.
        const bool hashHere = hashComments && c == QLatin1Char('#') &&
                              (lang != Language::shell || i == 0 || text[i - 1].isSpace());
        const bool slashHere =
            slashComments && c == QLatin1Char('/') && i + 1 < n && text[i + 1] == QLatin1Char('/');
        if (hashHere || slashHere) {
            setFormat(int(i), int(n - i), comment);
            return;
        }
        if (slashComments && c == QLatin1Char('/') && i + 1 < n &&
            text[i + 1] == QLatin1Char('*')) {
            const qsizetype end = text.indexOf(QStringLiteral("*/"), i + 2);
            if (end < 0) {
                setFormat(int(i), int(n - i), comment);
                setCurrentBlockState(inBlockComment);
                return;
            }
            setFormat(int(i), int(end + 2 - i), comment);
            i = end + 2;
            continue;
        }
        // Strings.
        if (c == QLatin1Char('"') || c == QLatin1Char('\'') ||
            (c == QLatin1Char('`') && lang != Language::python)) {
            if (tripleQuotes && c != QLatin1Char('`') && text.mid(i, 3) == QString(3, c)) {
                const QString delimiter(3, c);
                const qsizetype end = text.indexOf(delimiter, i + 3);
                if (end < 0) {
                    setFormat(int(i), int(n - i), string);
                    setCurrentBlockState(c == QLatin1Char('"') ? inTripleDouble : inTripleSingle);
                    return;
                }
                setFormat(int(i), int(end + 3 - i), string);
                i = end + 3;
                continue;
            }
            qsizetype j = i + 1;
            while (j < n && text[j] != c) j += text[j] == QLatin1Char('\\') ? 2 : 1;
            const qsizetype end = std::min(j + 1, n);
            setFormat(int(i), int(end - i), string);
            i = end;
            continue;
        }
        // Numbers (not inside an identifier such as x2).
        if (c.isDigit() || (c == QLatin1Char('.') && i + 1 < n && text[i + 1].isDigit())) {
            qsizetype j = i + 1;
            while (j < n && (text[j].isLetterOrNumber() || text[j] == QLatin1Char('.') ||
                             text[j] == QLatin1Char('_')))
                ++j;
            setFormat(int(i), int(j - i), number);
            i = j;
            continue;
        }
        // Words.
        if (isIdentifierStart(c)) {
            qsizetype j = i + 1;
            while (j < n && isIdentifierPart(text[j])) ++j;
            if (words.contains(text.mid(i, j - i))) setFormat(int(i), int(j - i), keyword);
            i = j;
            continue;
        }
        ++i;
    }
}
