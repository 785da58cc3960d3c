#include "language_manager.h"

#include <QCoreApplication>
#include <QFile>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

#include <spdlog/spdlog.h>

namespace LanguageManager {

namespace {
QTranslator* g_app = nullptr;
QTranslator* g_qt = nullptr;
QString g_current = QStringLiteral("en");

QString qmPath(const QString& language) {
    return QStringLiteral(":/i18n/meswitch_%1.qm").arg(language);
}

void removeTranslators() {
    for (QTranslator** t : {&g_app, &g_qt}) {
        if (*t) {
            QCoreApplication::removeTranslator(*t);
            delete *t;
            *t = nullptr;
        }
    }
}
}  // namespace

QStringList availableSettings() {
    return {QStringLiteral("system"), QStringLiteral("en"), QStringLiteral("zh_CN")};
}

QString resolve(const QString& setting) {
    if (setting == QLatin1String("en") || setting == QLatin1String("zh_CN")) return setting;
    // "system" (or an unknown value from an older/hand-edited settings file).
    for (const QString& ui : QLocale::system().uiLanguages()) {
        QString name = ui;
        name.replace(QLatin1Char('-'), QLatin1Char('_'));
        if (name.startsWith(QLatin1String("zh_CN")) || name.startsWith(QLatin1String("zh_Hans")) ||
            name == QLatin1String("zh"))
            return QStringLiteral("zh_CN");
        if (name.startsWith(QLatin1String("en"))) return QStringLiteral("en");
    }
    return QStringLiteral("en");
}

QString apply(const QString& setting) {
    const QString language = resolve(setting);
    removeTranslators();

    auto* app = new QTranslator(QCoreApplication::instance());
    if (app->load(qmPath(language))) {
        g_app = app;
        QCoreApplication::installTranslator(g_app);
    } else {
        spdlog::warn("translation {} is missing from the build; using English",
                     qmPath(language).toStdString());
        delete app;
    }
    // Qt's own strings (file dialogs, context menus) where the system ships them.
    if (language != QLatin1String("en")) {
        auto* qt = new QTranslator(QCoreApplication::instance());
        if (qt->load(QStringLiteral("qtbase_") + language,
                     QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
            g_qt = qt;
            QCoreApplication::installTranslator(g_qt);
        } else {
            delete qt;
        }
    }
    g_current = language;
    return language;
}

QString current() {
    return g_current;
}

}  // namespace LanguageManager
