#include "studio_page.h"

#include <QEvent>

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
