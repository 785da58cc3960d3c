#include "api_server_controller.h"

#include <QMetaObject>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "meswitch/engine.h"
#include "studio_settings.h"

namespace {

// The Settings' device ("auto", "cpu", "gpu:NAME") as the engine names it, as the Chat page
// maps it (so that the chat's next answer keeps the engine started here).
std::string engineDevice(const QString& setting) {
    if (setting == QLatin1String("cpu")) return "cpu";
    if (setting.startsWith(QLatin1String("gpu:"))) return "cuda";
    return "auto";
}

// The Settings the chat would start an engine with (see ChatPage's request).
ChatRequest engineSetup() {
    ChatRequest setup;
    setup.device = engineDevice(StudioSettings::device());
    setup.routingThreshold = StudioSettings::routingThreshold();
    setup.expertBudgetBytes =
        static_cast<std::uint64_t>(std::max(0, StudioSettings::expertMemoryBudgetMiB())) << 20;
    return setup;
}

void add(meswitch::ApiServerStats& to, const meswitch::ApiServerStats& s) {
    to.connections += s.connections;
    to.requests += s.requests;
    to.completions += s.completions;
    to.refused += s.refused;
    to.errors += s.errors;
    to.cancelled += s.cancelled;
}

}  // namespace

ApiServerController::ApiServerController(EngineChatBackend& backend,
                                         std::filesystem::path catalogFile, QObject* parent)
    : QObject(parent), m_backend(&backend), m_catalogFile(std::move(catalogFile)) {
    m_backend->setEngineClient(this);
}

ApiServerController::~ApiServerController() {
    stopServer();
    if (m_backend) m_backend->setEngineClient(nullptr);
}

bool ApiServerController::start() {
    stopServer();
    m_wanted = true;
    m_restartPort = 0;
    m_before = {};
    m_error.clear();
    if (!m_backend) {
        m_error = tr("The chat engine is not available.");
        emit stateChanged();
        return false;
    }
    meswitch::Engine* engine = nullptr;
    try {
        // Starting an engine calls engineStarted(), which starts the server on it.
        engine = &m_backend->ensureEngine(engineSetup());
    } catch (const std::exception& e) {
        m_error = tr("The engine could not be started: %1").arg(QString::fromUtf8(e.what()));
        emit stateChanged();
        return false;
    }
    if (!m_server && m_error.isEmpty()) startOn(*engine);
    emit stateChanged();
    return m_server != nullptr;
}

void ApiServerController::stop() {
    m_wanted = false;
    m_restartPort = 0;
    const bool was = m_server != nullptr;
    stopServer();
    m_error.clear();
    if (was) spdlog::info("api: the local API server was turned off");
    emit stateChanged();
}

bool ApiServerController::startOn(meswitch::Engine& engine) {
    meswitch::ApiServerOptions o;
    o.host = StudioSettings::apiServerHost().toStdString();
    o.port = m_restartPort > 0 ? m_restartPort : StudioSettings::apiServerPort();
    o.api_key = StudioSettings::apiServerKey().toStdString();
    o.catalog = m_catalogFile;
    if (m_backend) o.base_name = m_backend->engineBaseName();
    // Called on the server's threads, which stop (stopServer) before this object goes; a line
    // still queued when it goes is dropped with it.
    o.log = [this](std::string_view line) {
        spdlog::info("api: {}", line);  // the log file and the log viewer have them too
        const QString text = QString::fromUtf8(line.data(), static_cast<qsizetype>(line.size()));
        QMetaObject::invokeMethod(
            this, [this, text] { postLog(text); }, Qt::QueuedConnection);
    };
    try {
        auto server = std::make_unique<meswitch::ApiServer>(engine, o);
        server->start();
        m_server = std::move(server);
        m_engine = &engine;
        m_restartPort = m_server->port();
        m_error.clear();
        spdlog::info("api: the local API server listens on {}", m_server->base_url());
        return true;
    } catch (const std::exception& e) {
        m_error = QString::fromUtf8(e.what());
        spdlog::warn("api: the local API server could not start: {}", e.what());
        return false;
    }
}

void ApiServerController::stopServer() {
    if (!m_server) return;
    m_server->stop();  // cancels its requests in the engine and joins its threads
    add(m_before, m_server->stats());
    m_server.reset();
    m_engine = nullptr;
}

void ApiServerController::postLog(const QString& line) {
    emit logLine(line);
}

bool ApiServerController::isRunning() const {
    return m_server && m_server->running();
}

int ApiServerController::port() const {
    return isRunning() ? m_server->port() : 0;
}

QString ApiServerController::baseUrl() const {
    return isRunning() ? QString::fromStdString(m_server->base_url()) : QString();
}

QString ApiServerController::engineState() const {
    return m_engine ? QString::fromStdString(m_engine->state()) : QString();
}

meswitch::ApiServerStats ApiServerController::stats() const {
    meswitch::ApiServerStats s = m_before;
    if (m_server) {
        const meswitch::ApiServerStats now = m_server->stats();
        add(s, now);
        s.active = now.active;
    }
    return s;
}

void ApiServerController::engineStarted(meswitch::Engine& engine) {
    if (!m_wanted || m_server) return;
    startOn(engine);
    emit stateChanged();
}

void ApiServerController::engineStopping(meswitch::Engine& engine) {
    if (m_engine != &engine) return;
    spdlog::info("api: the local API server pauses while the engine is replaced");
    stopServer();  // m_wanted stays: engineStarted() starts it again on the same port
    emit stateChanged();
}

void ApiServerController::backendDestroyed() {
    stopServer();
    m_backend = nullptr;
    emit stateChanged();
}
