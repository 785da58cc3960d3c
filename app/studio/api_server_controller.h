// The Studio's Local API server (Settings > Local API server, issue #17): meswitch::ApiServer,
// the OpenAI-compatible HTTP API of `meswitch serve`, over the Chat page's engine.
//
// Design. There is one engine in the Studio, owned by the Chat page's EngineChatBackend: it
// owns the device, the resident base and the experts. The server is a thin client of that same
// engine, never a second copy of the base. This controller attaches to the backend as its
// EngineClient:
//   - start() asks the backend for its engine (ensureEngine: the one the chat uses, else a new
//     one for the catalog's base with the Settings' device) and starts an ApiServer over it.
//     The engine may still be loading: the server answers 503 until it is ready.
//   - When the backend must replace its engine (the chat asks for another base or device) it
//     calls engineStopping() first: the server stops (its requests are cancelled, its threads
//     joined) before the engine goes, and starts again on the same address and port when
//     engineStarted() reports the new engine. Clients meanwhile find the port closed for a
//     moment (connection refused), then get 503 while the new engine loads.
//   - When the backend goes (the window closes) the server stops with its engine.
// Nothing listens until start(); the address is the Settings' (127.0.0.1 unless the user named
// another), with the API key when one is set. Lives on the GUI thread; the server's log lines
// come from its threads and are posted here (logLine()).
#pragma once

#include <QObject>
#include <QString>

#include <filesystem>
#include <memory>

#include "chat_engine_backend.h"
#include "meswitch/api_server.h"

class ApiServerController : public QObject, public EngineChatBackend::EngineClient {
    Q_OBJECT

public:
    // `backend` shares its engine; it may go before this controller (backendDestroyed()).
    ApiServerController(EngineChatBackend& backend, std::filesystem::path catalogFile,
                        QObject* parent = nullptr);
    ~ApiServerController() override;  // stops the server and detaches from the backend

    // Listens on the Settings' host, port and key (StudioSettings::apiServer*), stopping a
    // server that runs first. False when it cannot: errorText() says why (e.g. the address is
    // in use). Starts the engine for the catalog's base when the chat has none.
    bool start();
    // Stops listening (requests in flight are cancelled). The engine stays for the chat.
    void stop();

    bool isRunning() const;
    // Whether start() was asked and stop() not since (the server may be between engines).
    bool isWanted() const { return m_wanted; }
    int port() const;         // the bound port while running, else 0
    QString baseUrl() const;  // "http://127.0.0.1:8181/v1" while running, else ""
    QString errorText() const { return m_error; }
    QString engineState() const;  // the engine's "loading", "ready", "failed: ..." or ""
    meswitch::ApiServerStats stats() const;

    // EngineChatBackend::EngineClient
    void engineStarted(meswitch::Engine& engine) override;
    void engineStopping(meswitch::Engine& engine) override;
    void backendDestroyed() override;

signals:
    // Started, stopped, failed to start or moved to another engine.
    void stateChanged();
    // One line of the server's log ("POST /v1/chat/completions 200 ..."), on the GUI thread.
    void logLine(const QString& line);

private:
    bool startOn(meswitch::Engine& engine);
    void stopServer();
    void postLog(const QString& line);

    EngineChatBackend* m_backend = nullptr;
    std::filesystem::path m_catalogFile;
    std::unique_ptr<meswitch::ApiServer> m_server;
    meswitch::Engine* m_engine = nullptr;  // the engine m_server serves
    meswitch::ApiServerStats m_before;     // counts of servers stopped since start()
    bool m_wanted = false;
    int m_restartPort = 0;  // the port to take again on the next engine (0: the Settings' port)
    QString m_error;
};
