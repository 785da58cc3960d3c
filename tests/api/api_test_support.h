// What the API server tests share (test_api_server, test_api_server_load): cpp-httplib and
// raw-socket clients, checks of OpenAI's error JSON and of SSE streams, a gate that holds the
// engine thread, and the demo-pack fixture.
#pragma once

#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "meswitch/api_server.h"
#include "meswitch/catalog.h"
#include "meswitch/demo.h"
#include "meswitch/engine.h"
#include "meswitch/paths.h"

namespace meswitch::apitest {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

inline const fs::path kPack = MESWITCH_DEMO_PACK_DIR;

// ------------------------------------------------------------------------- HTTP clients

struct Reply {
    int status = 0;  // 0: no response (error says why)
    std::string body;
    httplib::Headers headers;
    std::string error;

    Json json() const { return Json::parse(body, nullptr, false); }
    std::string header(const char* key) const {
        const auto it = headers.find(key);
        return it == headers.end() ? std::string() : it->second;
    }
};

inline Reply to_reply(const httplib::Result& r) {
    Reply out;
    if (!r) {
        out.error = httplib::to_string(r.error());
        return out;
    }
    out.status = r->status;
    out.body = r->body;
    out.headers = r->headers;
    return out;
}

inline httplib::Client client(int port) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(10, 0);
    c.set_read_timeout(120, 0);
    c.set_write_timeout(120, 0);
    return c;
}

inline Reply get(int port, const std::string& path, const httplib::Headers& headers = {}) {
    auto c = client(port);
    return to_reply(c.Get(path, headers));
}

inline Reply post(int port, const std::string& path, const std::string& body,
                  const httplib::Headers& headers = {}) {
    auto c = client(port);
    return to_reply(c.Post(path, headers, body, "application/json"));
}

inline Reply post_chat(int port, const Json& body, const httplib::Headers& headers = {}) {
    return post(port, "/v1/chat/completions", body.dump(), headers);
}

inline Json user(const std::string& text) {
    return Json::array({{{"role", "user"}, {"content", text}}});
}

// A greedy chat request of `model` for `text`.
inline Json greedy_chat(const std::string& model, const std::string& text, int max_tokens = 16) {
    return {
        {"model", model}, {"messages", user(text)}, {"temperature", 0}, {"max_tokens", max_tokens}};
}

// A connection that sends exactly what it is told, when it is told.
class RawClient {
public:
    explicit RawClient(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    }
    ~RawClient() { close(); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const { return connected_; }
    bool send(std::string_view s) {
        while (!s.empty()) {
            const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            s.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // True when the server has sent something or closed (nothing is read).
    bool readable() const {
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 0) > 0;
    }
    // Reads until `needle` has arrived after `from` (empty: until the server closes) or
    // `limit` passes; everything read so far.
    const std::string& read_until(std::string_view needle, std::chrono::milliseconds limit,
                                  std::size_t from = 0) {
        const auto until = Clock::now() + limit;
        while (needle.empty() || got_.find(needle, from) == std::string::npos) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[8192];
            const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
            if (n <= 0) {
                closed_by_server_ = true;
                break;
            }
            got_.append(buf, static_cast<std::size_t>(n));
        }
        return got_;
    }
    bool closed_by_server() const { return closed_by_server_; }
    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
    bool connected_ = false;
    bool closed_by_server_ = false;
    std::string got_;
};

inline std::string raw_post(const std::string& path, const std::string& body) {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// ------------------------------------------------------------------------- checks

// "" when `r` is OpenAI's error JSON with this status (naming `param` when given, its
// message holding `word`); else what is wrong.
inline std::string error_problem(const Reply& r, int status, const std::string& param = {},
                                 const std::string& word = {}) {
    if (r.status != status)
        return "status " + std::to_string(r.status) + " (want " + std::to_string(status) + ") " +
               r.error + " " + r.body.substr(0, 300);
    if (r.header("Content-Type").find("application/json") == std::string::npos)
        return "content type " + r.header("Content-Type");
    const Json j = r.json();
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object())
        return "not an error object: " + r.body.substr(0, 300);
    const Json& e = j["error"];
    if (!e.value("message", Json()).is_string() || e["message"].get<std::string>().empty())
        return "no message: " + r.body;
    if (!e.value("type", Json()).is_string()) return "no type: " + r.body;
    if (!e.contains("param") || !(e["param"].is_null() || e["param"].is_string()))
        return "param neither null nor a string: " + r.body;
    if (!e.contains("code") || !(e["code"].is_null() || e["code"].is_string()))
        return "code neither null nor a string: " + r.body;
    if (!param.empty() && e["param"] != param) return "param is not " + param + ": " + r.body;
    if (!word.empty() && e["message"].get<std::string>().find(word) == std::string::npos)
        return "the message does not say '" + word + "': " + r.body;
    return {};
}

// A streamed response taken apart: "" in `problem` when it is well formed (every event a
// JSON chunk of one id, ending with data: [DONE]).
struct Stream {
    std::string problem;
    std::vector<Json> chunks;
    std::string text;    // the content deltas (chat) or texts (completions) joined
    std::string finish;  // the last chunk's finish_reason
    std::string model;
    Json usage;  // the usage chunk (stream_options.include_usage), else null
    Json first;  // the first chunk
};

inline Stream parse_stream(const std::string& body, bool chat) {
    Stream s;
    std::size_t pos = 0;
    bool done = false;
    while (pos < body.size()) {
        const auto end = body.find("\n\n", pos);
        if (end == std::string::npos) {
            s.problem = "unterminated event: " + body.substr(pos, 200);
            return s;
        }
        const std::string event = body.substr(pos, end - pos);
        pos = end + 2;
        if (done) {
            s.problem = "an event after [DONE]: " + event;
            return s;
        }
        if (event.rfind("data: ", 0) != 0) {
            s.problem = "not a data event: " + event;
            return s;
        }
        const std::string data = event.substr(6);
        if (data == "[DONE]") {
            done = true;
            continue;
        }
        const Json j = Json::parse(data, nullptr, false);
        if (!j.is_object()) {
            s.problem = "not JSON: " + data;
            return s;
        }
        if (j.contains("error")) {
            s.problem = "an error event: " + data;
            return s;
        }
        const char* object = chat ? "chat.completion.chunk" : "text_completion";
        if (j.value("object", "") != object || !j["id"].is_string() ||
            (!s.chunks.empty() && j["id"] != s.chunks.front()["id"])) {
            s.problem = "not a chunk of this stream: " + data;
            return s;
        }
        if (j.contains("usage")) s.usage = j["usage"];
        if (!j["choices"].empty()) {
            const Json& c = j["choices"][0];
            if (chat && c["delta"].contains("content")) s.text += c["delta"]["content"];
            if (!chat) s.text += c.value("text", "");
            if (c["finish_reason"].is_string()) s.finish = c["finish_reason"];
        }
        s.model = j.value("model", "");
        s.chunks.push_back(j);
    }
    if (!done) s.problem = "no data: [DONE] at the end";
    if (s.chunks.empty()) s.problem = "no chunks";
    if (s.problem.empty()) s.first = s.chunks.front();
    return s;
}

inline std::int64_t rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    return -1;
}

// Polls `ready` (what the server shows: stats(), a flag) until it holds or `limit` passes.
template <class Ready>
bool eventually(Ready ready, std::chrono::seconds limit = 60s) {
    const auto until = Clock::now() + limit;
    while (!ready()) {
        if (Clock::now() > until) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

// Holds the engine thread in a job until release(): requests submitted meanwhile stay
// queued, so that a test sees them waiting (the queue limit, a client leaving).
class EngineGate {
public:
    explicit EngineGate(Engine& engine) : s_(std::make_shared<State>()) {
        auto s = s_;
        RequestCallbacks cb;
        cb.on_finished = [s](const RequestOutcome&) {
            std::lock_guard lock(s->m);
            s->finished = true;
            s->cv.notify_all();
        };
        engine.run_job(
            [s] {
                std::unique_lock lock(s->m);
                s->entered = true;
                s->cv.notify_all();
                s->cv.wait(lock, [&] { return s->open; });
            },
            cb);
        std::unique_lock lock(s->m);
        s->cv.wait_for(lock, 60s, [&] { return s->entered; });
    }
    ~EngineGate() { release(); }
    bool holding() const {
        std::lock_guard lock(s_->m);
        return s_->entered && !s_->open;
    }
    void release() {
        std::unique_lock lock(s_->m);
        s_->open = true;
        s_->cv.notify_all();
        s_->cv.wait_for(lock, 60s, [&] { return s_->finished; });
    }

private:
    struct State {
        std::mutex m;
        std::condition_variable cv;
        bool entered = false, open = false, finished = false;
    };
    std::shared_ptr<State> s_;
};

// The demo pack installed into a temporary home, an Engine serving it (CPU, 2 threads) and an
// ApiServer on a free loopback port whose log lines are kept. Test classes derive from it.
class DemoFixture {
protected:
    QTemporaryDir m_home;
    fs::path m_catalog;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<ApiServer> m_server;
    int m_port = 0;
    std::mutex m_log_mutex;
    std::vector<std::string> m_log;

    ApiServerOptions options() {
        ApiServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.catalog = m_catalog;
        o.threads = 8;
        o.log = [this](std::string_view line) {
            std::lock_guard lock(m_log_mutex);
            m_log.emplace_back(line);
        };
        return o;
    }

    // The log lines holding every one of `words`. (A request is logged after its answer was
    // sent: wait for a line with eventually().)
    std::size_t logged(const std::vector<std::string>& words) {
        std::lock_guard lock(m_log_mutex);
        std::size_t n = 0;
        for (const auto& line : m_log) {
            bool all = true;
            for (const auto& w : words) all = all && line.find(w) != std::string::npos;
            n += all;
        }
        return n;
    }

    // Installs the pack and starts the engine and the server (throws meswitch::Error).
    void start_demo() {
        const fs::path home = m_home.path().toStdString();
        m_catalog = catalog_path(home);
        {
            Catalog catalog(m_catalog);
            DemoInstallOptions io;
            io.threads = 1;  // as test_api_clients: quick on busy cores too
            install_demo_pack(catalog, read_demo_pack(kPack), home, io);
        }
        EngineOptions eo;
        eo.catalog = m_catalog;
        eo.device = "cpu";
        eo.threads = 2;
        eo.router.threads = 2;
        m_engine = std::make_unique<Engine>(eo);
        m_engine->wait_ready();
        m_server = std::make_unique<ApiServer>(*m_engine, options());
        m_server->start();
        m_port = m_server->port();
    }

    void stop_demo() {
        if (m_server) m_server->stop();
        m_server.reset();
        m_engine.reset();
    }
};

}  // namespace meswitch::apitest

#define EXPECT_ERROR(reply, ...)                                                             \
    do {                                                                                     \
        const std::string problem_ = ::meswitch::apitest::error_problem(reply, __VA_ARGS__); \
        QVERIFY2(problem_.empty(), problem_.c_str());                                        \
    } while (0)
