// Chat answers as Markdown. An answer is cut into segments: fenced code blocks (``` or ~~~ with
// an optional language) and the prose between them, itself cut at paragraph breaks into pieces
// of a few dozen lines, so that a long answer streaming in re-renders only its last piece. Prose
// is rendered by Qt's own Markdown support (QTextDocument, GitHub dialect, raw HTML shown as
// text); code blocks get a fixed-width font, syntax colouring (ChatCodeHighlighter) and a Copy
// button (ChatCodeBlock). An unclosed fence (an answer still streaming) runs to the end as code.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace ChatMarkdown {

struct Segment {
    enum class Kind { prose, code };
    Kind kind = Kind::prose;
    QString language;    // code: the fence's info string's first word ("python"), may be empty
    QString text;        // prose: Markdown without trailing blank lines; code: the block's lines
    bool closed = true;  // code: false while the closing fence has not arrived

    bool operator==(const Segment& other) const = default;
};

// Prose pieces end at a blank line once they have this many lines (and the next line starts a
// new block, not a list item, table row or quote that continues the previous one).
inline constexpr int proseChunkLines = 24;

QList<Segment> segments(const QString& text);

// Prose Markdown as the HTML a QLabel shows (QTextDocument::setMarkdown, GitHub dialect).
QString proseHtml(const QString& markdown);

// The whole answer as HTML (prose as above, code blocks as <pre> in the fixed-width font), for
// places that show an answer in one piece.
QString toHtml(const QString& text);

// The contents of the fenced code blocks, in order (for tests and "copy code").
QStringList codeBlocks(const QString& text);

// The family of the fixed-width font code is shown in.
QString monospaceFamily();

}  // namespace ChatMarkdown
