// Chat answers as rich text: a small, safe subset of Markdown. Fenced code blocks (``` with an
// optional language) become <pre> blocks in the system's fixed-width font, `inline code` a
// fixed-width span, **bold** bold; everything else is HTML-escaped text with line breaks kept.
// An unclosed fence (an answer still streaming) runs to the end as code.
#pragma once

#include <QString>
#include <QStringList>

namespace ChatMarkdown {

QString toHtml(const QString& text);

// The contents of the fenced code blocks, in order (for tests and "copy code").
QStringList codeBlocks(const QString& text);

// The family of the fixed-width font code is shown in.
QString monospaceFamily();

}  // namespace ChatMarkdown
