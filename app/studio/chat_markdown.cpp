#include "chat_markdown.h"

#include <QFontDatabase>
#include <QTextDocument>

namespace ChatMarkdown {

namespace {

struct Fence {
    QChar marker;
    int length = 0;
    QString info;
};

// "```python", "~~~", up to three spaces of indentation (CommonMark). Backtick fences' info
// strings may not contain backticks.
bool openingFence(const QString& line, Fence* fence) {
    int i = 0;
    while (i < line.size() && i < 3 && line[i] == QLatin1Char(' ')) ++i;
    if (i >= line.size()) return false;
    const QChar c = line[i];
    if (c != QLatin1Char('`') && c != QLatin1Char('~')) return false;
    int n = 0;
    while (i + n < line.size() && line[i + n] == c) ++n;
    if (n < 3) return false;
    const QString info = line.mid(i + n).trimmed();
    if (c == QLatin1Char('`') && info.contains(QLatin1Char('`'))) return false;
    fence->marker = c;
    fence->length = n;
    fence->info = info.section(QLatin1Char(' '), 0, 0);
    return true;
}

bool closingFence(const QString& line, const Fence& open) {
    int i = 0;
    while (i < line.size() && i < 3 && line[i] == QLatin1Char(' ')) ++i;
    int n = 0;
    while (i + n < line.size() && line[i + n] == open.marker) ++n;
    return n >= open.length && line.mid(i + n).trimmed().isEmpty();
}

bool isBlank(const QString& line) {
    return line.trimmed().isEmpty();
}

// A line that continues the block before a blank line: indented, a list item, a table row or a
// quote (cutting there would split one list or table in two).
bool continuesBlock(const QString& line) {
    if (line.isEmpty()) return false;
    if (line[0] == QLatin1Char(' ') || line[0] == QLatin1Char('\t')) return true;
    const QString t = line.trimmed();
    if (t.startsWith(QLatin1Char('|')) || t.startsWith(QLatin1Char('>'))) return true;
    if (t.size() >= 2 &&
        (t[0] == QLatin1Char('-') || t[0] == QLatin1Char('*') || t[0] == QLatin1Char('+')) &&
        t[1] == QLatin1Char(' '))
        return true;
    int digits = 0;
    while (digits < t.size() && t[digits].isDigit()) ++digits;
    return digits > 0 && digits + 1 < t.size() &&
           (t[digits] == QLatin1Char('.') || t[digits] == QLatin1Char(')')) &&
           t[digits + 1] == QLatin1Char(' ');
}

}  // namespace

QString monospaceFamily() {
    return QFontDatabase::systemFont(QFontDatabase::FixedFont).family();
}

QList<Segment> segments(const QString& text) {
    QList<Segment> out;
    const QStringList lines = text.split(QLatin1Char('\n'));
    QStringList prose;
    auto flushProse = [&] {
        while (!prose.isEmpty() && isBlank(prose.back())) prose.removeLast();
        while (!prose.isEmpty() && isBlank(prose.front())) prose.removeFirst();
        if (!prose.isEmpty()) out.append({Segment::Kind::prose, {}, prose.join(QLatin1Char('\n'))});
        prose.clear();
    };
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString& line = lines[i];
        Fence fence;
        if (openingFence(line, &fence)) {
            flushProse();
            QStringList code;
            bool closed = false;
            for (++i; i < lines.size(); ++i) {
                if (closingFence(lines[i], fence)) {
                    closed = true;
                    break;
                }
                code << lines[i];
            }
            out.append({Segment::Kind::code, fence.info, code.join(QLatin1Char('\n')), closed});
            continue;
        }
        if (isBlank(line) && prose.size() >= proseChunkLines && i + 1 < lines.size() &&
            !isBlank(lines[i + 1]) && !continuesBlock(lines[i + 1])) {
            flushProse();
            continue;
        }
        prose << line;
    }
    flushProse();
    return out;
}

QString proseHtml(const QString& markdown) {
    QTextDocument doc;
    // Raw HTML in an answer is text, not markup.
    doc.setMarkdown(markdown, QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub |
                                                              QTextDocument::MarkdownNoHTML));
    return doc.toHtml();
}

QString toHtml(const QString& text) {
    QString html;
    for (const Segment& s : segments(text)) {
        if (s.kind == Segment::Kind::prose)
            html += proseHtml(s.text);
        else
            html += QStringLiteral("<pre style=\"font-family:'%1'\">").arg(monospaceFamily()) +
                    s.text.toHtmlEscaped() + QStringLiteral("</pre>");
    }
    return html;
}

QStringList codeBlocks(const QString& text) {
    QStringList blocks;
    for (const Segment& s : segments(text))
        if (s.kind == Segment::Kind::code) blocks << s.text;
    return blocks;
}

}  // namespace ChatMarkdown
