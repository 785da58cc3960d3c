// The Studio's remembered choices (QSettings "ME-Switch"/"ME-Switch Studio"), one accessor per key
// so that every page reads and writes the same names.
#pragma once

#include <QByteArray>
#include <QString>

namespace StudioSettings {

// Data folder chosen on the Settings page; empty means "the default" (see resolveDataHome).
QString dataHome();
void setDataHome(const QString& dir);

// spdlog level name: trace, debug, info, warn, error, critical, off. Default "info".
QString logLevel();
void setLogLevel(const QString& level);

// "system", "en" or "zh_CN". Default "system".
QString language();
void setLanguage(const QString& language);

QByteArray windowGeometry();
void setWindowGeometry(const QByteArray& geometry);

// The page shown last, by its stable key ("library", "settings", ...).
QString lastPage();
void setLastPage(const QString& key);

}  // namespace StudioSettings
