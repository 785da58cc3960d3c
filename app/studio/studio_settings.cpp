#include "studio_settings.h"

#include <QSettings>

#include <algorithm>

namespace StudioSettings {

namespace {
constexpr auto kDataHome = "paths/dataHome";
constexpr auto kLogLevel = "logging/level";
constexpr auto kLanguage = "ui/language";
constexpr auto kDevice = "engine/device";
constexpr auto kBudget = "engine/expertMemoryBudgetMiB";
constexpr auto kMethod = "compression/method";
constexpr auto kBits = "compression/bits";
constexpr auto kSalient = "compression/salientPercent";
constexpr auto kThreshold = "routing/threshold";
constexpr auto kTemperature = "chat/temperature";
constexpr auto kTopP = "chat/topP";
constexpr auto kMaxTokens = "chat/maxTokens";
constexpr auto kSeed = "chat/seed";
constexpr auto kModelDefaults = "chat/modelDefaults";
constexpr auto kApiEnabled = "api/enabled";
constexpr auto kApiHost = "api/host";
constexpr auto kApiPort = "api/port";
constexpr auto kApiKey = "api/key";
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

QString device() {
    return value(kDevice, QStringLiteral("auto")).toString();
}
void setDevice(const QString& device) {
    setValue(kDevice, device);
}

int expertMemoryBudgetMiB() {
    return std::clamp(value(kBudget, 4096).toInt(), 64, 1 << 20);
}
void setExpertMemoryBudgetMiB(int mib) {
    setValue(kBudget, mib);
}

QString compressionMethod() {
    const QString m = value(kMethod, QStringLiteral("meswitch")).toString();
    return m == QLatin1String("rtn") || m == QLatin1String("bitdelta") ? m
                                                                       : QStringLiteral("meswitch");
}
void setCompressionMethod(const QString& method) {
    setValue(kMethod, method);
}
int compressionBits() {
    return std::clamp(value(kBits, 2).toInt(), 1, 8);
}
void setCompressionBits(int bits) {
    setValue(kBits, bits);
}
double compressionSalientPercent() {
    return std::clamp(value(kSalient, 0.5).toDouble(), 0.0, 100.0);
}
void setCompressionSalientPercent(double percent) {
    setValue(kSalient, percent);
}

double routingThreshold() {
    return std::clamp(value(kThreshold, 0.5).toDouble(), 0.0, 1.0);
}
void setRoutingThreshold(double threshold) {
    setValue(kThreshold, threshold);
}

bool apiServerEnabled() {
    return value(kApiEnabled, false).toBool();
}
void setApiServerEnabled(bool enabled) {
    setValue(kApiEnabled, enabled);
}
QString apiServerHost() {
    const QString host = value(kApiHost).toString().trimmed();
    return host.isEmpty() ? QStringLiteral("127.0.0.1") : host;
}
void setApiServerHost(const QString& host) {
    setValue(kApiHost, host.trimmed());
}
int apiServerPort() {
    return std::clamp(value(kApiPort, 8181).toInt(), 0, 65535);
}
void setApiServerPort(int port) {
    setValue(kApiPort, port);
}
QString apiServerKey() {
    return value(kApiKey).toString();
}
void setApiServerKey(const QString& key) {
    setValue(kApiKey, key);
}

ChatSampling chatSampling() {
    ChatSampling s;
    s.temperature = std::clamp(value(kTemperature, s.temperature).toDouble(), 0.0, 5.0);
    s.topP = std::clamp(value(kTopP, s.topP).toDouble(), 0.0, 1.0);
    s.maxTokens = std::clamp(value(kMaxTokens, s.maxTokens).toInt(), 1, 1 << 20);
    s.seed = value(kSeed, s.seed).toULongLong();
    s.modelDefaults = value(kModelDefaults, s.modelDefaults).toBool();
    return s;
}
void setChatSampling(const ChatSampling& sampling) {
    setValue(kTemperature, sampling.temperature);
    setValue(kTopP, sampling.topP);
    setValue(kMaxTokens, sampling.maxTokens);
    setValue(kSeed, sampling.seed);
    setValue(kModelDefaults, sampling.modelDefaults);
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
