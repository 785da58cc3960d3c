#include "gui_support.h"

#include <QCoreApplication>
#include <QPixmap>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>
#include <QWidget>

#include "test_support.h"

namespace meswitch::test {

void use_temporary_settings(const QString& dir) {
    QStandardPaths::setTestModeEnabled(true);
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir);
}

void save_screenshot(QWidget* widget, const char* name) {
    QCoreApplication::processEvents();
    const QString file = QString::fromStdString((output_dir("screenshots") / name).string());
    QVERIFY2(widget->grab().save(file), qPrintable(QStringLiteral("cannot save %1").arg(file)));
}

}  // namespace meswitch::test
