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

// Compute device: "auto", "cpu" or "gpu:NAME" (a GPU from scan_devices, by name). Default "auto".
QString device();
void setDevice(const QString& device);

// Memory budget for resident experts (compressed deltas kept on the device), in MiB. Default 4096.
int expertMemoryBudgetMiB();
void setExpertMemoryBudgetMiB(int mib);

// Defaults of the Compress page: method ("meswitch", "rtn", "bitdelta"), bits (1..8) and salient
// fraction in percent (0..100). Defaults: meswitch, 2, 0.5.
QString compressionMethod();
void setCompressionMethod(const QString& method);
int compressionBits();
void setCompressionBits(int bits);
double compressionSalientPercent();
void setCompressionSalientPercent(double percent);

// Routing confidence below which the base model answers (0..1). Default 0.5.
double routingThreshold();
void setRoutingThreshold(double threshold);

// The Local API server (ApiServerController): off by default; 127.0.0.1:8181 unless the user
// names another address or port (0: a free port); an API key ("" = none) that every request
// must then send as "Authorization: Bearer KEY" (kept in the settings file in plain text, as
// the CLI's --api-key is on its command line).
bool apiServerEnabled();
void setApiServerEnabled(bool enabled);
QString apiServerHost();
void setApiServerHost(const QString& host);
int apiServerPort();
void setApiServerPort(int port);
QString apiServerKey();
void setApiServerKey(const QString& key);

// Chat sampling, remembered between runs. Seed 0 means "a new seed for every answer".
struct ChatSampling {
    double temperature = 0.7;
    double topP = 0.95;
    int maxTokens = 256;
    quint64 seed = 0;
    // Each model's generation_config.json defaults where it states them (the values above
    // fill the rest); off: the values above exactly.
    bool modelDefaults = true;
};
ChatSampling chatSampling();
void setChatSampling(const ChatSampling& sampling);

QByteArray windowGeometry();
void setWindowGeometry(const QByteArray& geometry);

// The page shown last, by its stable key ("library", "settings", ...).
QString lastPage();
void setLastPage(const QString& key);

}  // namespace StudioSettings
