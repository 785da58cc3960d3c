// The client connections of the API server, under cpp-httplib's request parser: httplib's own
// socket loop limits each read() to read_timeout, so a client that sends one byte a second
// would hold a worker thread for ever. HttpServer serves each accepted socket through a
// Connection instead, which gives every request one deadline for its headers and body (past
// it: 408 Request Timeout, connection closed), caps what a request may send, lets a handler
// see at once that its client went away (current_connection()->alive()), and closes like
// nginx's lingering close (shut down writing, then drain what the client is still sending for
// a moment), so that a client refused mid-upload (413) reads its answer instead of a reset.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

namespace meswitch::api {

struct ConnectionLimits {
    int read_timeout_ms = 10000;   // a whole request (headers and body), from its first byte
    int idle_timeout_ms = 5000;    // between requests on one connection
    int write_timeout_ms = 10000;  // a single write waiting for the client to read
    std::size_t max_request_bytes = std::size_t(9) << 20;  // headers and body
    int keep_alive_max = 100;                              // requests per connection
};

class Connection : public httplib::Stream {
public:
    Connection(int sock, const ConnectionLimits& limits, const std::atomic<bool>& stopping);

    bool is_readable() const override;
    bool is_writable() const override;  // writable within the write timeout and alive()
    ssize_t read(char* ptr, std::size_t size) override;
    ssize_t write(const char* ptr, std::size_t size) override;
    void get_remote_ip_and_port(std::string& ip, int& port) const override;
    void get_local_ip_and_port(std::string& ip, int& port) const override;
    int socket() const override { return sock_; }

    // Waits up to the idle timeout for the next request's first byte (false: none came,
    // the client closed, or the server is stopping).
    bool wait_for_request();
    // Starts the next request: its deadline, its byte count.
    void begin_request();
    // False once the client has closed its side (or the socket failed). Never blocks.
    bool alive() const;

    bool timed_out() const { return timed_out_; }         // this request missed its deadline
    bool over_limit() const { return over_limit_; }       // sent more than max_request_bytes
    std::size_t written() const { return written_; }      // bytes written for this request
    void close_after_response() { close_after_ = true; }  // e.g. a body left unread
    bool closing() const { return close_after_; }
    const ConnectionLimits& limits() const { return limits_; }
    std::chrono::steady_clock::time_point started() const { return started_; }  // this request

private:
    bool wait(short events, int timeout_ms) const;

    int sock_;
    ConnectionLimits limits_;
    const std::atomic<bool>& stopping_;
    std::chrono::steady_clock::time_point deadline_;
    std::chrono::steady_clock::time_point started_;
    std::size_t received_ = 0;
    std::size_t written_ = 0;
    bool timed_out_ = false;
    bool over_limit_ = false;
    bool close_after_ = false;
    char buf_[4096];
    std::size_t buf_off_ = 0;
    std::size_t buf_len_ = 0;
};

// The connection whose request this thread is handling (nullptr outside a request).
Connection* current_connection();

class HttpServer : public httplib::Server {
public:
    HttpServer(const ConnectionLimits& limits, std::function<void()> on_connection);
    // Makes every connection loop, wait and lingering close end soon (before stop()).
    void begin_stop() { stopping_ = true; }
    // After binding: the listening socket's backlog raised from httplib's compiled-in 5
    // (CPPHTTPLIB_LISTEN_BACKLOG), so that many clients connecting at once wait to be accepted
    // instead of being dropped. False when listen() fails.
    bool widen_backlog(int backlog);
    bool stopping() const { return stopping_; }

private:
    // httplib calls this (virtually) for each accepted socket on a worker thread.
    bool process_and_close_socket(int sock) override;

    ConnectionLimits limits_;
    std::function<void()> on_connection_;
    std::atomic<bool> stopping_{false};
};

}  // namespace meswitch::api
