// The local OpenAI-compatible HTTP API (`meswitch serve`, the Studio's "Local API server"):
// a thin client of a meswitch::Engine that other programs (editors, chat front ends, scripts,
// any OpenAI client library) talk to.
//
//   ApiServerOptions o;                       // 127.0.0.1:8181, no key
//   o.catalog = catalog_path(home);           // the model list, "auto", experts by name
//   ApiServer server(engine, o);
//   server.start();                           // binds (Error(io) when it cannot), serves
//   std::cout << server.base_url();           // "http://127.0.0.1:8181/v1"
//   ...
//   server.stop();                            // also in the destructor
//
// Endpoints: GET /v1/models (auto, the base, every expert of it with its domains, the MoE
// variants of its plans), POST /v1/chat/completions and POST /v1/completions (streamed as
// Server-Sent Events in OpenAI's chunk format, ending with "data: [DONE]"), GET /health.
// With model "auto" the engine routes; the response's "model" names the expert that answered
// and the extra field "meswitch" carries the routing (expert, confidence, alternatives).
// Errors have OpenAI's shape {"error": {"message", "type", "param", "code"}}: 400 malformed
// JSON or fields (naming the field), 401 missing or wrong key, 404 unknown model (listing the
// known ones) or path, 413 body too large, 429 queue full, 503 engine not ready, 408 a request
// that does not arrive within read_timeout_ms. A client that disconnects cancels its request
// in the engine at once. Requests are answered on `threads` worker threads; the engine does
// the batching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace meswitch {

class Engine;

struct ApiServerOptions {
    std::string host = "127.0.0.1";  // loopback unless asked: "0.0.0.0" listens everywhere
    int port = 8181;                 // 0: a free port (see ApiServer::port())
    std::string api_key;  // non-empty: every request needs "Authorization: Bearer <api_key>"
    // The catalog the engine serves from: the model list, "auto" and experts by name. Empty:
    // the list holds the base alone (as "base").
    std::filesystem::path catalog;
    std::string base_name;  // the engine's base in the catalog; empty: meswitch::default_base
    // Generation requests of this server in the engine at once (waiting or running); more
    // are refused with 429. 0: only the engine's own queue limit (EngineOptions::max_queue,
    // its Error(busy) is a 429 too).
    int max_queue = 0;
    std::size_t max_body_bytes = std::size_t(8) << 20;  // larger bodies get 413
    int read_timeout_ms = 10000;   // a request (headers and body) must arrive within this
    int idle_timeout_ms = 5000;    // an idle keep-alive connection is closed after this
    int write_timeout_ms = 10000;  // a client that reads nothing for this long is dropped
    int threads = 32;              // connections served at once (each streaming client holds one)
    int default_max_tokens = 256;  // for requests that name no max_tokens
    // Lines for a log view ("POST /v1/chat/completions 200 demo-arithmetic ..."); called
    // on the server's threads. Default: spdlog (meswitch/log.h) at info level.
    std::function<void(std::string_view line)> log;
};

struct ApiServerStats {
    std::uint64_t connections = 0;  // clients (TCP connections) accepted
    std::uint64_t requests = 0;     // HTTP requests answered (any status)
    std::uint64_t completions = 0;  // generations answered in full
    std::uint64_t refused = 0;      // 429/503: queue full or engine not ready
    std::uint64_t errors = 0;       // other 4xx/5xx
    std::uint64_t cancelled = 0;    // the client went away before the answer ended
    std::uint64_t active = 0;       // generation requests of this server in the engine now
};

class ApiServer {
public:
    // The engine must outlive the server; it may serve other clients at the same time.
    ApiServer(Engine& engine, ApiServerOptions options);
    ~ApiServer();  // stop()
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Binds host:port and starts serving on its own threads. Throws Error(io) naming the
    // address when it cannot listen there (in use, no such address, no permission), and
    // Error(invalid_argument) for bad options.
    void start();
    // Stops accepting, cancels this server's requests in the engine, waits for them and
    // joins the threads. Safe to call twice.
    void stop();

    bool running() const;
    int port() const;              // the bound port (after start())
    std::string base_url() const;  // "http://<host>:<port>/v1"
    ApiServerStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace meswitch
