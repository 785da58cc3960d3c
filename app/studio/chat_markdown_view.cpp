#include "chat_markdown_view.h"

#include <QElapsedTimer>
#include <QEvent>
#include <QHash>
#include <QLabel>
#include <QTimer>
#include <QVBoxLayout>

#include "chat_code_block.h"

using ChatMarkdown::Segment;

namespace {

// The time all views may spend rendering in one turn of the event loop: the first view that
// renders starts the clock and posts its reset, which runs when the loop turns again.
class RenderBudget {
public:
    static bool exhausted() {
        if (!s_open) {
            s_open = true;
            s_clock.start();
            QTimer::singleShot(0, [] { s_open = false; });
        }
        return s_clock.elapsed() >= 20;
    }

private:
    static inline QElapsedTimer s_clock;
    static inline bool s_open = false;
};

// A prose segment. QLabel lays its rich text out again for every heightForWidth() call, and a
// layout pass asks each label several times for the same width (minimum size, size hint,
// geometry): with a long answer's dozens of labels that was one stall of over half a second.
// The answers are kept per width until the text or the font changes.
class ProseLabel : public QLabel {
public:
    using QLabel::QLabel;

    void setProse(const QString& html) {
        m_heights.clear();
        setText(html);
    }
    int heightForWidth(int width) const override {
        if (const auto it = m_heights.constFind(width); it != m_heights.constEnd()) return *it;
        if (m_heights.size() > 16) m_heights.clear();
        const int h = QLabel::heightForWidth(width);
        m_heights.insert(width, h);
        return h;
    }

protected:
    void changeEvent(QEvent* event) override {
        if (event->type() == QEvent::FontChange || event->type() == QEvent::StyleChange)
            m_heights.clear();
        QLabel::changeEvent(event);
    }

private:
    mutable QHash<int, int> m_heights;
};

}  // namespace

ChatMarkdownView::ChatMarkdownView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("markdownView"));
    m_layout = new QVBoxLayout(this);
    m_layout->setContentsMargins(0, 0, 0, 0);
    m_layout->setSpacing(4);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
}

void ChatMarkdownView::setMarkdown(const QString& text) {
    if (text == m_text) return;
    m_text = text;
    m_target = ChatMarkdown::segments(text);
    m_pending = true;
    // A short text is shown at once; a long one from the next turn of the event loop on, so
    // that the caller's own work (a conversation opened, the view shown and laid out) and the
    // first rendering are not one long stall.
    if (text.size() <= kImmediateChars)
        renderSome();
    else
        schedule();
}

void ChatMarkdownView::schedule() {
    if (m_scheduled) return;
    m_scheduled = true;
    QTimer::singleShot(0, this, [this] {
        m_scheduled = false;
        renderSome();
    });
}

QWidget* ChatMarkdownView::makeWidget(const Segment& segment) {
    if (segment.kind == Segment::Kind::code) return new ChatCodeBlock(this);
    auto* label = new ProseLabel(this);
    label->setObjectName(QStringLiteral("markdownProse"));
    label->setTextFormat(Qt::RichText);
    label->setWordWrap(true);
    label->setOpenExternalLinks(true);
    label->setTextInteractionFlags(Qt::TextBrowserInteraction | Qt::TextSelectableByKeyboard);
    label->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
    return label;
}

void ChatMarkdownView::updateWidget(QWidget* w, const Segment& segment) {
    if (auto* code = qobject_cast<ChatCodeBlock*>(w))
        code->setCode(segment.text, segment.language);
    else if (auto* label = dynamic_cast<ProseLabel*>(w))
        label->setProse(ChatMarkdown::proseHtml(segment.text));
}

void ChatMarkdownView::renderSome() {
    if (!m_pending) return;

    qsizetype i = 0;
    while (i < m_shown.size() && i < m_target.size() && m_shown[i] == m_target[i]) ++i;
    for (; i < m_target.size(); ++i) {
        if (RenderBudget::exhausted()) {
            schedule();
            return;
        }
        const Segment& s = m_target[i];
        if (i < m_widgets.size() && m_shown[i].kind != s.kind) {
            m_layout->removeWidget(m_widgets[i]);
            delete m_widgets[i];
            m_widgets[i] = makeWidget(s);
            m_layout->insertWidget(int(i), m_widgets[i]);
            if (isVisible()) m_widgets[i]->show();
        } else if (i >= m_widgets.size()) {
            m_widgets.append(makeWidget(s));
            m_shown.append(Segment{});
            m_layout->addWidget(m_widgets.back());
            if (isVisible()) m_widgets.back()->show();
        }
        updateWidget(m_widgets[i], s);
        m_shown[i] = s;
    }
    while (m_widgets.size() > m_target.size()) {
        QWidget* w = m_widgets.takeLast();
        m_shown.removeLast();
        m_layout->removeWidget(w);
        delete w;
    }
    m_pending = false;
    emit rendered();
}

QList<ChatCodeBlock*> ChatMarkdownView::codeBlocks() const {
    QList<ChatCodeBlock*> out;
    for (QWidget* w : m_widgets)
        if (auto* c = qobject_cast<ChatCodeBlock*>(w)) out << c;
    return out;
}

QList<QLabel*> ChatMarkdownView::proseLabels() const {
    QList<QLabel*> out;
    for (QWidget* w : m_widgets)
        if (auto* l = qobject_cast<QLabel*>(w)) out << l;
    return out;
}
