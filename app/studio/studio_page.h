// Base of every page in the main window's navigation. A page has a stable key (remembered as the
// last page shown), an icon and a translated title (its windowTitle, set in retranslateUi(); the
// navigation follows windowTitleChanged). Language changes arrive as QEvent::LanguageChange and
// call retranslateUi().
#pragma once

#include <QIcon>
#include <QString>
#include <QWidget>

#include <functional>

class QPainter;

class StudioPage : public QWidget {
    Q_OBJECT

public:
    StudioPage(const QString& key, const QIcon& icon, QWidget* parent = nullptr);

    QString key() const { return m_key; }
    QIcon icon() const { return m_icon; }

    // A navigation icon from the resources (:/icons/nav/NAME-32.png and -64.png).
    static QIcon navigationIcon(const QString& name);
    // A navigation icon drawn at 32 and 64 px: `draw` paints on a 32 × 32 canvas (scaled,
    // antialiased, transparent background).
    static QIcon drawnIcon(const std::function<void(QPainter&)>& draw);

protected:
    // Sets every visible string (including the page title via setWindowTitle()).
    virtual void retranslateUi() = 0;
    void changeEvent(QEvent* event) override;

private:
    QString m_key;
    QIcon m_icon;
};
