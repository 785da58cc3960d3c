#include "api/connection.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace meswitch::api {

namespace {

using Clock = std::chrono::steady_clock;

thread_local Connection* t_current = nullptr;

// Rounded up: a wait for it never ends before `t` (a read that gave up at its deadline then
// counts as timed out, and is answered 408).
int ms_until(Clock::time_point t) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
}

void address_of(int sock, bool peer, std::string& ip, int& port) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int rc = peer ? ::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                        : ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
    if (rc != 0) return;
    char host[NI_MAXHOST];
    char serv[NI_MAXSERV];
    if (::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof(host), serv,
                      sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        ip = host;
        port = std::atoi(serv);
    }
}

// The answer to a request whose line did not arrive in time (httplib writes none then).
void write_timeout_response(Connection& c) {
    const std::string body =
        R"({"error":{"message":"the request did not arrive within )" +
        std::to_string(c.limits().read_timeout_ms) +
        R"( ms","type":"invalid_request_error","param":null,"code":"request_timeout"}})";
    const std::string head =
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    const std::string all = head + body;
    c.write(all.data(), all.size());
}

// Lingering close: no more writes, then read and drop what the client still sends (a body
// we refused) for up to 2 s or 64 MiB, so that it can read our answer before the close.
void linger_close(int sock, const std::atomic<bool>& stopping) {
    ::shutdown(sock, SHUT_WR);
    const auto until = Clock::now() + std::chrono::seconds(2);
    std::size_t drained = 0;
    char scratch[16384];
    while (!stopping && drained < (std::size_t(64) << 20)) {
        const int left = ms_until(until);
        if (left <= 0) break;
        pollfd p{sock, POLLIN, 0};
        const int r = ::poll(&p, 1, std::min(left, 100));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        if (r == 0) continue;
        const ssize_t n = ::recv(sock, scratch, sizeof(scratch), 0);
        if (n <= 0) break;
        drained += static_cast<std::size_t>(n);
    }
    ::close(sock);
}

}  // namespace

Connection::Connection(int sock, const ConnectionLimits& limits, const std::atomic<bool>& stopping)
    : sock_(sock), limits_(limits), stopping_(stopping) {
    begin_request();
}

bool Connection::wait(short events, int timeout_ms) const {
    const auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (stopping_) return false;
        const int left = ms_until(until);
        pollfd p{sock_, events, 0};
        const int r = ::poll(&p, 1, std::min(left, 100));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return false;
        if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
        if (left <= 0) return false;
    }
}

bool Connection::is_readable() const {
    return buf_off_ < buf_len_ || wait(POLLIN, ms_until(deadline_));
}

bool Connection::alive() const {
    pollfd p{sock_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return true;  // nothing to read: still connected
    if (p.revents & (POLLERR | POLLNVAL)) return false;
    char c;
    const ssize_t n = ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return true;  // the client sent more (a next request)
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    return false;  // 0: orderly close; < 0: reset
}

bool Connection::is_writable() const {
    return wait(POLLOUT, limits_.write_timeout_ms) && alive();
}

ssize_t Connection::read(char* ptr, std::size_t size) {
    if (buf_off_ == buf_len_) {
        if (received_ >= limits_.max_request_bytes) {
            over_limit_ = true;
            return -1;
        }
        const int left = ms_until(deadline_);
        if (left <= 0 || !wait(POLLIN, left)) {
            if (!stopping_ && Clock::now() >= deadline_) timed_out_ = true;
            return -1;
        }
        ssize_t n;
        do {
            n = ::recv(sock_, buf_, sizeof(buf_), 0);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) return n;
        buf_off_ = 0;
        buf_len_ = static_cast<std::size_t>(n);
        received_ += buf_len_;
    }
    const std::size_t n = std::min(size, buf_len_ - buf_off_);
    std::memcpy(ptr, buf_ + buf_off_, n);
    buf_off_ += n;
    return static_cast<ssize_t>(n);
}

ssize_t Connection::write(const char* ptr, std::size_t size) {
    if (!wait(POLLOUT, limits_.write_timeout_ms)) return -1;
    ssize_t n;
    do {
        n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n > 0) written_ += static_cast<std::size_t>(n);
    return n;
}

void Connection::get_remote_ip_and_port(std::string& ip, int& port) const {
    address_of(sock_, true, ip, port);
}

void Connection::get_local_ip_and_port(std::string& ip, int& port) const {
    address_of(sock_, false, ip, port);
}

bool Connection::wait_for_request() {
    if (buf_off_ < buf_len_) return true;  // a pipelined request is already here
    return wait(POLLIN, limits_.idle_timeout_ms);
}

void Connection::begin_request() {
    started_ = Clock::now();
    deadline_ = started_ + std::chrono::milliseconds(limits_.read_timeout_ms);
    // Bytes of a pipelined next request already buffered count towards it.
    received_ = buf_len_ - buf_off_;
    written_ = 0;
    timed_out_ = false;
    over_limit_ = false;
}

Connection* current_connection() {
    return t_current;
}

HttpServer::HttpServer(const ConnectionLimits& limits, std::function<void()> on_connection)
    : limits_(limits), on_connection_(std::move(on_connection)) {
    // httplib's default sets SO_REUSEPORT on Linux, which lets a second server bind the same
    // port without an error (the kernel then splits the connections between them): the port is
    // ours alone. SO_REUSEADDR still lets a restarted server bind past TIME_WAIT.
    set_socket_options([](int sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
}

bool HttpServer::widen_backlog(int backlog) {
    // listen() again on a listening socket only changes its backlog (Linux, BSD).
    return ::listen(svr_sock_, backlog) == 0;
}

bool HttpServer::process_and_close_socket(int sock) {
    if (on_connection_) on_connection_();
    bool ret = false;
    {
        Connection conn(sock, limits_, stopping_);
        t_current = &conn;
        for (int count = limits_.keep_alive_max; count > 0 && !stopping_; --count) {
            if (!conn.wait_for_request()) break;
            conn.begin_request();
            bool closed = false;
            ret = process_request(conn, count == 1, closed, nullptr);
            if (conn.timed_out() && conn.written() == 0) write_timeout_response(conn);
            if (!ret || closed || conn.timed_out() || conn.over_limit() || conn.closing()) break;
        }
        t_current = nullptr;
    }
    linger_close(sock, stopping_);
    return ret;
}

}  // namespace meswitch::api
