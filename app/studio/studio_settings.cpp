#include "studio_settings.h"

#include <QSettings>

namespace StudioSettings {

namespace {
constexpr auto kDataHome = "paths/dataHome";
constexpr auto kLogLevel = "logging/level";
constexpr auto kLanguage = "ui/language";
constexpr auto kGeometry = "window/geometry";
constexpr auto kLastPage = "window/lastPage";

QVariant value(const char* key, const QVariant& fallback = {}) {
    return QSettings().value(QLatin1String(key), fallback);
}
void setValue(const char* key, const QVariant& v) {
    QSettings().setValue(QLatin1String(key), v);
}
}  // namespace

QString dataHome() {
    return value(kDataHome).toString();
}
void setDataHome(const QString& dir) {
    setValue(kDataHome, dir);
}

QString logLevel() {
    return value(kLogLevel, QStringLiteral("info")).toString();
}
void setLogLevel(const QString& level) {
    setValue(kLogLevel, level);
}

QString language() {
    return value(kLanguage, QStringLiteral("system")).toString();
}
void setLanguage(const QString& language) {
    setValue(kLanguage, language);
}

QByteArray windowGeometry() {
    return value(kGeometry).toByteArray();
}
void setWindowGeometry(const QByteArray& geometry) {
    setValue(kGeometry, geometry);
}

QString lastPage() {
    return value(kLastPage).toString();
}
void setLastPage(const QString& key) {
    setValue(kLastPage, key);
}

}  // namespace StudioSettings
