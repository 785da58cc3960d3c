#include "chat_markdown.h"

#include <QFontDatabase>
#include <QRegularExpression>

namespace ChatMarkdown {

namespace {

bool isFence(const QString& line) {
    return line.trimmed().startsWith(QLatin1String("```"));
}

QString inlineHtml(const QString& line) {
    // Escape first, then mark up: the markers themselves contain no HTML special characters.
    QString html = line.toHtmlEscaped();
    static const QRegularExpression code(QStringLiteral("`([^`]+)`"));
    html.replace(
        code, QStringLiteral("<code style=\"font-family:'%1'\">\\1</code>").arg(monospaceFamily()));
    static const QRegularExpression bold(QStringLiteral("\\*\\*([^*]+)\\*\\*"));
    html.replace(bold, QStringLiteral("<b>\\1</b>"));
    return html;
}

}  // namespace

QString monospaceFamily() {
    return QFontDatabase::systemFont(QFontDatabase::FixedFont).family();
}

QString toHtml(const QString& text) {
    const QStringList lines = text.split(QLatin1Char('\n'));
    QString html;
    QStringList paragraph;
    QStringList code;
    bool inCode = false;
    auto flushParagraph = [&] {
        if (paragraph.isEmpty()) return;
        html += QStringLiteral("<p style=\"margin:0\">") + paragraph.join(QStringLiteral("<br>")) +
                QStringLiteral("</p>");
        paragraph.clear();
    };
    auto flushCode = [&] {
        html += QStringLiteral(
                    "<pre style=\"font-family:'%1'; background-color:#f2f2f2; "
                    "color:#202020; margin:4px 0\">")
                    .arg(monospaceFamily()) +
                code.join(QLatin1Char('\n')).toHtmlEscaped() + QStringLiteral("</pre>");
        code.clear();
    };
    for (const QString& line : lines) {
        if (isFence(line)) {
            if (inCode) {
                flushCode();
            } else {
                flushParagraph();
            }
            inCode = !inCode;
            continue;
        }
        if (inCode)
            code << line;
        else
            paragraph << inlineHtml(line);
    }
    if (inCode) flushCode();
    flushParagraph();
    return html;
}

QStringList codeBlocks(const QString& text) {
    QStringList blocks, current;
    bool inCode = false;
    for (const QString& line : text.split(QLatin1Char('\n'))) {
        if (isFence(line)) {
            if (inCode) blocks << current.join(QLatin1Char('\n'));
            current.clear();
            inCode = !inCode;
        } else if (inCode) {
            current << line;
        }
    }
    if (inCode) blocks << current.join(QLatin1Char('\n'));
    return blocks;
}

}  // namespace ChatMarkdown
