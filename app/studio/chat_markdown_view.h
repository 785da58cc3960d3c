// A chat message's text rendered as Markdown (ChatMarkdown): one QLabel per prose segment and
// one ChatCodeBlock per fenced code block, in a column. setMarkdown() re-renders only the
// segments that changed (while an answer streams in, the last one), and spreads the work over
// the event loop: all views together render for at most about 20 ms per turn of the GUI
// thread's event loop and go on in the next one, so that a 2,000-line answer never stalls it.
#pragma once

#include <QList>
#include <QWidget>

#include "chat_markdown.h"

class ChatCodeBlock;
class QLabel;
class QVBoxLayout;

class ChatMarkdownView : public QWidget {
    Q_OBJECT

public:
    explicit ChatMarkdownView(QWidget* parent = nullptr);

    // Texts up to this many characters are rendered before setMarkdown() returns.
    static constexpr qsizetype kImmediateChars = 4000;

    void setMarkdown(const QString& text);
    QString markdown() const { return m_text; }

    // True while segments wait for the next turn of the event loop; rendered() when done.
    bool isRendering() const { return m_pending; }
    QList<ChatCodeBlock*> codeBlocks() const;
    QList<QLabel*> proseLabels() const;

signals:
    void rendered();

private:
    void renderSome();
    void schedule();
    QWidget* makeWidget(const ChatMarkdown::Segment& segment);
    void updateWidget(QWidget* w, const ChatMarkdown::Segment& segment);

    QString m_text;
    QList<ChatMarkdown::Segment> m_target;
    QList<ChatMarkdown::Segment> m_shown;  // what m_widgets show, one for one
    QList<QWidget*> m_widgets;
    QVBoxLayout* m_layout = nullptr;
    bool m_pending = false;
    bool m_scheduled = false;
};
