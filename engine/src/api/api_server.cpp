// meswitch/api_server.h over cpp-httplib: the handlers of the endpoints. Parsing and the
// response format are api/protocol.h's, the connections api/connection.h's; the engine does
// the routing, templates, batching and weights.
#include "meswitch/api_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/connection.h"
#include "api/model_list.h"
#include "api/protocol.h"
#include "meswitch/catalog.h"
#include "meswitch/engine.h"
#include "meswitch/error.h"

namespace meswitch {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using api::ApiError;

// One generation request, shared by its HTTP handler and the engine's callbacks.
struct Pending {
    std::mutex m;
    std::condition_variable cv;
    std::string text;  // streamed pieces not yet written
    std::optional<RouteResult> route;
    bool started = false;  // a route or a piece has come
    std::optional<RequestOutcome> outcome;
    RequestId id = 0;
    bool done = false;  // on_finished ran (guarded by Tracker::m)
};

// This server's requests in the engine: counted (max_queue, stats) and cancelled by stop().
struct Tracker {
    std::mutex m;
    std::condition_variable cv;
    std::map<Pending*, RequestId> live;
    std::uint64_t active = 0;
};

// What the request log line of this thread's current request adds (model, tokens, ...).
thread_local std::string t_note;

bool same_secret(const std::string& a, const std::string& b) {
    // Constant time in the key's length, so the comparison tells nothing by its timing.
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

std::string hex_id(const char* prefix, std::uint64_t n) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%s%016llx", prefix,
                  static_cast<unsigned long long>(n * 0x9E3779B97F4A7C15ULL));
    return buf;
}

}  // namespace

struct ApiServer::Impl {
    Engine& engine;
    ApiServerOptions opt;
    std::unique_ptr<api::HttpServer> http;
    std::thread thread;
    int port = 0;
    std::atomic<bool> running{false};
    std::atomic<bool> listen_returned{false};  // the accept loop has ended (or never ran)
    std::shared_ptr<Tracker> tracker = std::make_shared<Tracker>();
    std::atomic<std::uint64_t> connections{0}, requests{0}, completions{0}, refused{0}, errors{0},
        cancelled{0}, next_id{1};
    const std::int64_t created = static_cast<std::int64_t>(std::time(nullptr));

    std::mutex catalog_mutex;  // one Catalog is used by one thread at a time
    std::unique_ptr<Catalog> catalog;
    api::ModelList models_cache;
    Clock::time_point models_time{};

    Impl(Engine& e, ApiServerOptions o) : engine(e), opt(std::move(o)) {}

    void log(const std::string& line) {
        if (opt.log)
            opt.log(line);
        else
            spdlog::info("api: {}", line);
    }

    // The model list, read from the catalog at most once a second (experts imported while
    // the server runs appear; the engine follows the catalog too).
    api::ModelList models() {
        if (opt.catalog.empty()) return api::base_only();
        std::lock_guard lock(catalog_mutex);
        const auto now = Clock::now();
        if (!models_cache.entries.empty() && now - models_time < 1s) return models_cache;
        try {
            if (!catalog) catalog = std::make_unique<Catalog>(opt.catalog);
            models_cache = api::list_models(*catalog, opt.base_name);
            models_time = now;
        } catch (const Error& e) {
            log(std::string("cannot read the catalog: ") + e.what());
            if (models_cache.entries.empty()) return api::base_only();
        }
        return models_cache;
    }

    api::Limits limits() const {
        api::Limits l;
        l.context = static_cast<int>(std::min<std::int64_t>(engine.config().max_position_embeddings,
                                                            std::numeric_limits<int>::max()));
        l.default_max_tokens = opt.default_max_tokens;
        return l;
    }

    void reply_error(httplib::Response& res, const ApiError& e) {
        res.status = e.status;
        res.set_content(api::error_body(e), "application/json");
        if (e.status == 429 || e.status == 503) res.set_header("Retry-After", "1");
        if (t_note.empty()) t_note = e.message;
    }

    static ApiError error(int status, std::string message, std::string code,
                          std::string type = "invalid_request_error") {
        ApiError e;
        e.status = status;
        e.message = std::move(message);
        e.code = std::move(code);
        e.type = std::move(type);
        return e;
    }

    bool authorized(const httplib::Request& req) const {
        if (opt.api_key.empty()) return true;
        return same_secret(req.get_header_value("Authorization"), "Bearer " + opt.api_key);
    }

    // Waits until `ready` holds. False when the client went away or the server is stopping
    // first; the request is cancelled in the engine then.
    template <class Ready>
    bool wait_for(Pending& p, Ready ready) {
        std::unique_lock lock(p.m);
        for (;;) {
            if (p.cv.wait_for(lock, 50ms, [&] { return ready(p); })) return true;
            const RequestId id = p.id;
            lock.unlock();
            api::Connection* c = api::current_connection();
            if (http->stopping() || (c && !c->alive())) {
                engine.cancel(id);
                return false;
            }
            lock.lock();
        }
    }

    // Reserves a place (max_queue) and submits; nullptr with `refusal` set when full.
    std::shared_ptr<Pending> submit(const GenerateRequest& g, ApiError& refusal) {
        auto tr = tracker;
        {
            std::lock_guard lock(tr->m);
            if (opt.max_queue > 0 && tr->active >= static_cast<std::uint64_t>(opt.max_queue)) {
                refusal = error(429,
                                "the server's queue is full (" + std::to_string(opt.max_queue) +
                                    " requests); try again shortly",
                                "queue_full", "rate_limit_error");
                return nullptr;
            }
            ++tr->active;
        }
        auto p = std::make_shared<Pending>();
        RequestCallbacks cb;
        cb.on_text = [p](std::string_view piece) {
            {
                std::lock_guard lock(p->m);
                p->text.append(piece);
                p->started = true;
            }
            p->cv.notify_all();
        };
        cb.on_route = [p](const RouteResult& r) {
            {
                std::lock_guard lock(p->m);
                p->route = r;
                p->started = true;
            }
            p->cv.notify_all();
        };
        cb.on_finished = [p, tr](const RequestOutcome& o) {
            {
                std::lock_guard lock(p->m);
                p->outcome = o;
            }
            p->cv.notify_all();
            {
                std::lock_guard lock(tr->m);
                p->done = true;
                tr->live.erase(p.get());
                --tr->active;
            }
            tr->cv.notify_all();
        };
        const RequestId id = engine.generate(g, std::move(cb));
        {
            std::lock_guard lock(p->m);
            p->id = id;
        }
        {
            std::lock_guard lock(tr->m);
            if (!p->done) tr->live[p.get()] = id;
        }
        return p;
    }

    std::string answered_by(const Pending& p, const api::ModelEntry& asked,
                            const api::ModelList& list) const {
        // The base under the list's id: without a catalog the engine names it by its folder,
        // the list by "base".
        if (asked.kind == "base") return list.base_id;
        if (p.outcome && p.outcome->ok)
            return p.outcome->model.empty() ? list.base_id : p.outcome->model;
        if (asked.kind == "router")
            return p.route && p.route->expert_id ? p.route->expert_name : list.base_id;
        return asked.id;
    }

    api::Routing routing(const Pending& p, const api::ModelEntry& asked, const std::string& model,
                         const api::ModelList& list) const {
        api::Routing r;
        r.requested = asked.id;
        r.expert = model == list.base_id ? std::string() : model;
        r.route = p.outcome && p.outcome->route ? p.outcome->route : p.route;
        if (p.outcome) {
            r.weights = p.outcome->weights;
            r.note = p.outcome->note;
        }
        return r;
    }

    static api::Usage usage(const RequestOutcome& o) {
        return {o.generation.prompt_tokens, static_cast<int>(o.generation.tokens.size())};
    }

    void note_outcome(const RequestOutcome& o, const std::string& model) {
        char buf[160];
        std::snprintf(buf, sizeof(buf), "%s, %d+%zu tokens (%s), first token %.0f ms",
                      model.c_str(), o.generation.prompt_tokens, o.generation.tokens.size(),
                      o.generation.stop_reason.c_str(), o.first_token_ms);
        t_note = buf;
        if (o.route)
            t_note += ", routed (" + o.route->domain + " " +
                      std::to_string(o.route->confidence).substr(0, 5) + ")";
    }

    void generate(api::Endpoint endpoint, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
        api::Connection* conn = api::current_connection();
        std::string body;
        bool too_large = false;
        const bool read = reader([&](const char* data, std::size_t n) {
            if (body.size() + n > opt.max_body_bytes) {
                too_large = true;
                return false;
            }
            body.append(data, n);
            return true;
        });
        if (!read) {
            if (conn) conn->close_after_response();
            if (too_large || res.status == 413) return reply_error(res, too_large_error());
            if (conn && conn->timed_out()) return reply_error(res, timeout_error());
            return reply_error(
                res, error(400, "the request body could not be read (truncated?)", "invalid_body"));
        }
        if (const std::string state = engine.state(); state != "ready") {
            refused++;
            return reply_error(
                res, error(503,
                           state == "loading" ? std::string("the engine is loading the model; "
                                                            "try again shortly")
                                              : "the engine is not available: " + state,
                           "engine_unavailable", "server_error"));
        }
        api::ParseOutcome parsed = api::parse_request(endpoint, body, limits());
        body.clear();
        body.shrink_to_fit();
        if (parsed.error) return reply_error(res, *parsed.error);
        api::ParsedRequest& pr = *parsed.request;
        const api::ModelList list = models();
        const api::ResolvedModel resolved = api::resolve_model(pr.model, list);
        if (resolved.error) return reply_error(res, *resolved.error);
        const api::ModelEntry& asked = *resolved.entry;
        pr.request.expert = asked.engine_name;

        ApiError refusal;
        const std::shared_ptr<Pending> p = submit(pr.request, refusal);
        if (!p) {
            refused++;
            return reply_error(res, refusal);
        }
        api::ReplyHead head;
        head.endpoint = endpoint;
        head.id = hex_id(endpoint == api::Endpoint::completions ? "cmpl-" : "chatcmpl-", next_id++);
        head.created = static_cast<std::int64_t>(std::time(nullptr));

        if (!pr.stream) {
            if (!wait_for(*p, [](Pending& q) { return q.outcome.has_value(); })) {
                return gone(res);
            }
            std::lock_guard lock(p->m);
            const RequestOutcome& o = *p->outcome;
            if (!o.ok) return refuse_or_fail(res, o);
            head.model = answered_by(*p, asked, list);
            note_outcome(o, head.model);
            completions++;
            res.set_content(api::reply_body(head, o.generation.text,
                                            api::finish_reason(o.generation.stop_reason), usage(o),
                                            routing(*p, asked, head.model, list)),
                            "application/json");
            return;
        }

        // Streamed: the status waits for the first sign of an answer, so that a refusal or an
        // early failure (an expert that cannot load) is still an HTTP error.
        if (!wait_for(*p, [](Pending& q) { return q.started || q.outcome.has_value(); }))
            return gone(res);
        {
            std::lock_guard lock(p->m);
            if (p->outcome && !p->outcome->ok) return refuse_or_fail(res, *p->outcome);
            head.model = answered_by(*p, asked, list);
        }
        struct Stream {
            std::shared_ptr<Pending> p;
            api::ReplyHead head;
            api::ModelEntry asked;
            api::ModelList list;
            bool include_usage = false;
            bool sent_first = false;
            bool finished = false;
        };
        auto st = std::make_shared<Stream>(Stream{p, head, asked, list, pr.include_usage});
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Accel-Buffering", "no");
        res.set_chunked_content_provider(
            "text/event-stream",
            [this, st](std::size_t, httplib::DataSink& sink) {
                if (stream_step(*st, sink)) return true;
                // Noted here: httplib logs the request before it runs the releaser below.
                t_note = http->stopping() ? "cancelled: the server is stopping"
                                          : "cancelled: the client went away";
                return false;
            },
            [this, st](bool) {
                if (!st->finished) {  // the client went away, a write failed, or stop()
                    engine.cancel(st->p->id);
                    cancelled++;
                }
            });
    }

    template <class Stream>
    bool stream_step(Stream& st, httplib::DataSink& sink) {
        Pending& p = *st.p;
        if (!st.sent_first) {
            st.sent_first = true;
            std::string first;
            {
                std::lock_guard lock(p.m);
                first = api::first_chunk(st.head, routing(p, st.asked, st.head.model, st.list));
            }
            return write(sink, first);
        }
        std::string text;
        std::optional<RequestOutcome> out;
        {
            std::unique_lock lock(p.m);
            p.cv.wait_for(lock, 50ms, [&] { return !p.text.empty() || p.outcome.has_value(); });
            text.swap(p.text);
            // on_finished comes after the last piece: with the outcome, the text is complete.
            if (p.outcome) out = p.outcome;
        }
        if (!text.empty() && !write(sink, api::text_chunk(st.head, text))) return false;
        if (out) {
            st.finished = true;
            std::string tail;
            if (out->ok) {
                {
                    std::lock_guard lock(p.m);
                    tail =
                        api::final_chunk(st.head, api::finish_reason(out->generation.stop_reason),
                                         routing(p, st.asked, st.head.model, st.list));
                }
                if (st.include_usage) tail += api::usage_chunk(st.head, usage(*out));
                note_outcome(*out, st.head.model);
                completions++;
            } else {
                const ApiError e = api::outcome_error(*out);
                tail = api::error_event(e);
                t_note = "failed while streaming: " + e.message;
                (out->cancelled ? cancelled : errors)++;
            }
            tail += api::done_event;
            write(sink, tail);
            sink.done();
            return true;
        }
        if (http->stopping() || !sink.is_writable()) return false;  // the releaser cancels
        return true;
    }

    // Never an empty write: httplib takes it for the end of the content.
    static bool write(httplib::DataSink& sink, const std::string& s) {
        return s.empty() || sink.write(s.data(), s.size());
    }

    void gone(httplib::Response& res) {
        cancelled++;
        res.status = 499;  // nginx's "client closed request": for the log, nobody reads it
        t_note = http->stopping() ? "cancelled: the server is stopping"
                                  : "cancelled: the client went away";
    }

    void refuse_or_fail(httplib::Response& res, const RequestOutcome& o) {
        const ApiError e = api::outcome_error(o);
        if (e.status == 429 || e.status == 503) refused++;
        reply_error(res, e);
    }

    ApiError too_large_error() const {
        return error(
            413, "the request body is larger than " + std::to_string(opt.max_body_bytes) + " bytes",
            "request_too_large");
    }

    ApiError timeout_error() const {
        return error(
            408, "the request did not arrive within " + std::to_string(opt.read_timeout_ms) + " ms",
            "request_timeout");
    }

    void install_handlers();
};

void ApiServer::Impl::install_handlers() {
    using httplib::Request;
    using httplib::Response;
    using HR = httplib::Server::HandlerResponse;
    httplib::Server& s = *http;

    s.set_pre_routing_handler([this](const Request& req, Response& res) {
        t_note.clear();
        api::Connection* conn = api::current_connection();
        if (!authorized(req)) {
            if (conn && req.has_header("Content-Length")) conn->close_after_response();
            res.set_header("WWW-Authenticate", "Bearer");
            reply_error(res, error(401,
                                   req.has_header("Authorization")
                                       ? "the API key is wrong"
                                       : "this server needs an API key: send the header "
                                         "'Authorization: Bearer <key>'",
                                   "invalid_api_key"));
            return HR::Handled;
        }
        if (req.has_header("Content-Length") &&
            req.get_header_value<std::uint64_t>("Content-Length") > opt.max_body_bytes) {
            if (conn) conn->close_after_response();  // the body is left unread
            reply_error(res, too_large_error());
            return HR::Handled;
        }
        return HR::Unhandled;
    });
    s.set_expect_100_continue_handler([this](const Request& req, Response& res) {
        if (req.has_header("Content-Length") &&
            req.get_header_value<std::uint64_t>("Content-Length") > opt.max_body_bytes) {
            if (api::Connection* conn = api::current_connection()) conn->close_after_response();
            reply_error(res, too_large_error());
            return 413;
        }
        return 100;
    });
    // Errors httplib answers itself (unknown path, malformed request line, timeouts while
    // reading the headers): OpenAI's error shape too.
    s.set_error_handler(
        httplib::Server::HandlerWithResponse([this](const Request& req, Response& res) {
            if (!res.body.empty()) return HR::Unhandled;
            api::Connection* conn = api::current_connection();
            ApiError e;
            e.status = res.status;
            if (conn && conn->timed_out()) {
                e = timeout_error();
                res.status = 408;
            } else if (res.status == 404) {
                e.message = "no such endpoint: " + req.method + " " + req.path +
                            " (this server has GET /v1/models, POST /v1/chat/completions, POST "
                            "/v1/completions, GET /health)";
                e.code = "not_found";
            } else if (res.status == 413) {
                e = too_large_error();
            } else {
                e.message = res.status == 400 ? std::string("malformed HTTP request")
                                              : "HTTP status " + std::to_string(res.status);
            }
            res.set_content(api::error_body(e), "application/json");
            if (t_note.empty()) t_note = e.message;
            return HR::Handled;
        }));
    s.set_exception_handler([this](const Request&, Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        reply_error(res, error(500, "internal error: " + what, "internal_error", "server_error"));
    });
    s.set_logger([this](const Request& req, const Response& res) {
        requests++;
        if (res.status == 429 || res.status == 503) {
            // counted where refused
        } else if (res.status >= 400 && res.status != 499) {
            errors++;
        }
        const api::Connection* conn = api::current_connection();
        const double ms =
            conn ? std::chrono::duration<double, std::milli>(Clock::now() - conn->started()).count()
                 : 0.0;
        char head[96];
        std::snprintf(head, sizeof(head), " %d %.0f ms", res.status, ms);
        log(req.method + " " + req.path + head + (t_note.empty() ? "" : " " + t_note) + " from " +
            req.remote_addr + ":" + std::to_string(req.remote_port));
        t_note.clear();
    });

    s.Get("/health", [this](const Request&, Response& res) {
        const std::string state = engine.state();
        std::uint64_t active;
        {
            std::lock_guard lock(tracker->m);
            active = tracker->active;
        }
        const bool ready = state == "ready";
        res.status = ready ? 200 : 503;
        const nlohmann::json j{
            {"status", ready ? "ok" : "unavailable"}, {"engine", state}, {"active", active}};
        res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        "application/json");
    });
    s.Get("/v1/models", [this](const Request&, Response& res) {
        res.set_content(api::models_body(models(), created), "application/json");
    });
    s.Get(R"(/v1/models/(.+))", [this](const Request& req, Response& res) {
        const api::ModelList list = models();
        const api::ResolvedModel r = api::resolve_model(req.matches[1].str(), list);
        if (r.error) return reply_error(res, *r.error);
        api::ModelList one;
        one.entries.push_back(*r.entry);
        std::string body = api::models_body(one, created);
        // {"object":"list","data":[X]} → X
        const auto open = body.find('[');
        const auto close = body.rfind(']');
        res.set_content(body.substr(open + 1, close - open - 1), "application/json");
    });
    s.Post("/v1/chat/completions",
           [this](const Request& req, Response& res, const httplib::ContentReader& reader) {
               generate(api::Endpoint::chat_completions, req, res, reader);
           });
    s.Post("/v1/completions",
           [this](const Request& req, Response& res, const httplib::ContentReader& reader) {
               generate(api::Endpoint::completions, req, res, reader);
           });
}

ApiServer::ApiServer(Engine& engine, ApiServerOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(options))) {}

ApiServer::~ApiServer() {
    stop();
}

void ApiServer::start() {
    Impl& d = *impl_;
    if (d.running) return;
    const ApiServerOptions& o = d.opt;
    if (o.port < 0 || o.port > 65535)
        throw Error(ErrorKind::invalid_argument,
                    "api server: port " + std::to_string(o.port) + " is not in 0..65535");
    if (o.threads < 1 || o.read_timeout_ms < 1 || o.idle_timeout_ms < 1 || o.write_timeout_ms < 1 ||
        o.max_body_bytes < 1 || o.default_max_tokens < 1)
        throw Error(ErrorKind::invalid_argument,
                    "api server: threads, timeouts, max body and max tokens must be positive");
    api::ConnectionLimits limits;
    limits.read_timeout_ms = o.read_timeout_ms;
    limits.idle_timeout_ms = o.idle_timeout_ms;
    limits.write_timeout_ms = o.write_timeout_ms;
    limits.max_request_bytes = o.max_body_bytes + (std::size_t(1) << 20);  // + headers
    d.http = std::make_unique<api::HttpServer>(limits, [&d] { d.connections++; });
    const int threads = o.threads;
    d.http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    d.http->set_payload_max_length(o.max_body_bytes);
    d.http->set_keep_alive_timeout(std::max(1, o.idle_timeout_ms / 1000));
    d.http->set_keep_alive_max_count(limits.keep_alive_max);
    d.install_handlers();
    const int bound = o.port == 0 ? d.http->bind_to_any_port(o.host)
                                  : (d.http->bind_to_port(o.host, o.port) ? o.port : -1);
    if (bound <= 0)
        throw Error(ErrorKind::io, "api server: cannot listen on " + o.host + ":" +
                                       std::to_string(o.port) +
                                       " (the port is in use, the address is not this "
                                       "machine's, or it needs privileges)");
    if (!d.http->widen_backlog(SOMAXCONN))
        d.log("cannot raise the listen backlog: clients connecting at once may be dropped");
    d.port = bound;
    d.running = true;
    d.listen_returned = false;
    d.thread = std::thread([&d] {
        d.http->listen_after_bind();
        d.listen_returned = true;
    });
    // httplib's stop() does nothing before the accept loop runs: a stop() right after start()
    // would leave that loop (and the join) waiting for ever. Return once it runs.
    while (!d.http->is_running() && !d.listen_returned) std::this_thread::sleep_for(1ms);
    d.log("listening on " + base_url() + (o.api_key.empty() ? "" : " (API key required)"));
}

void ApiServer::stop() {
    Impl& d = *impl_;
    if (!d.running.exchange(false)) return;
    d.http->begin_stop();
    // This server's requests in the engine: cancelled, and waited for (their callbacks hold
    // only shared state, but the engine may be destroyed right after).
    for (;;) {
        std::vector<RequestId> ids;
        {
            std::unique_lock lock(d.tracker->m);
            if (d.tracker->active == 0) break;
            for (const auto& [p, id] : d.tracker->live) ids.push_back(id);
        }
        // Without the lock: a cancelled request's on_finished may run on this thread.
        for (const RequestId id : ids) d.engine.cancel(id);
        std::unique_lock lock(d.tracker->m);
        d.tracker->cv.wait_for(lock, 100ms, [&] { return d.tracker->active == 0; });
    }
    d.http->stop();
    if (d.thread.joinable()) d.thread.join();
    d.log("stopped after " + std::to_string(d.requests.load()) + " requests from " +
          std::to_string(d.connections.load()) + " connections");
}

bool ApiServer::running() const {
    return impl_->running;
}

int ApiServer::port() const {
    return impl_->port;
}

std::string ApiServer::base_url() const {
    const std::string& h = impl_->opt.host;
    const bool v6 = h.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(impl_->port) + "/v1";
}

ApiServerStats ApiServer::stats() const {
    const Impl& d = *impl_;
    ApiServerStats s;
    s.connections = d.connections;
    s.requests = d.requests;
    s.completions = d.completions;
    s.refused = d.refused;
    s.errors = d.errors;
    s.cancelled = d.cancelled;
    {
        std::lock_guard lock(d.tracker->m);
        s.active = d.tracker->active;
    }
    return s;
}

}  // namespace meswitch
