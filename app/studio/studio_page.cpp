#include "studio_page.h"

#include <QEvent>
#include <QPainter>
#include <QPixmap>

StudioPage::StudioPage(const QString& key, const QIcon& icon, QWidget* parent)
    : QWidget(parent), m_key(key), m_icon(icon) {
    setObjectName(key + QStringLiteral("Page"));
}

void StudioPage::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QWidget::changeEvent(event);
}

QIcon StudioPage::navigationIcon(const QString& name) {
    QIcon icon;
    for (int size : {32, 64})
        icon.addFile(QStringLiteral(":/icons/nav/%1-%2.png").arg(name).arg(size),
                     QSize(size, size));
    return icon;
}

QIcon StudioPage::drawnIcon(const std::function<void(QPainter&)>& draw) {
    QIcon icon;
    for (int size : {32, 64}) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter p(&pixmap);
        p.setRenderHint(QPainter::Antialiasing);
        p.scale(size / 32.0, size / 32.0);
        draw(p);
        p.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}
