// meswitch serve: the local OpenAI-compatible HTTP API (meswitch/api_server.h) over the
// serving engine. Prints "listening on http://HOST:PORT/v1" on stdout once it listens (with
// --port 0, the port chosen), logs one line per request on stderr, and stops cleanly on
// SIGINT or SIGTERM (requests in flight are cancelled, the engine shuts down).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>

#include "cli_context.h"
#include "meswitch/api_server.h"
#include "meswitch/engine.h"
#include "meswitch/error.h"
#include "meswitch/paths.h"

namespace meswitch::cli {

namespace {

void log_line(std::string_view line) {
    static std::mutex m;
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::lock_guard lock(m);
    std::fprintf(stderr, "%s %.*s\n", stamp, static_cast<int>(line.size()), line.data());
}

}  // namespace

void register_serve(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "serve", "serve the base and its experts over a local OpenAI-compatible HTTP API");
    static ApiServerOptions so;
    static std::string device_arg = "auto", base_arg;
    static int threads = 0, max_queue = 256, max_batch = 16;
    static double threshold = 0.5;
    static bool quiet = false;
    cmd->add_option("--host", so.host,
                    "address to listen on (loopback unless you name another, e.g. 0.0.0.0)")
        ->capture_default_str();
    cmd->add_option("--port", so.port, "TCP port (0: a free one, printed)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    cmd->add_option("--api-key", so.api_key,
                    "require 'Authorization: Bearer KEY' on every request (default "
                    "$MESWITCH_API_KEY)");
    cmd->add_option("--max-queue", max_queue, "requests waiting or running at once; more get 429")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    cmd->add_option("--max-batch", max_batch, "sequences in one engine step")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    cmd->add_option("--max-tokens", so.default_max_tokens,
                    "answer length for requests that name no max_tokens")
        ->check(CLI::Range(1, 1 << 24))
        ->capture_default_str();
    cmd->add_option("--base", base_arg, "the catalog's base to serve (default: the catalog's)");
    cmd->add_option("--threshold", threshold,
                    "routing confidence below which the base answers (model auto)")
        ->capture_default_str();
    cmd->add_option("--device", device_arg, "auto (cuda when available), cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
    cmd->add_option("--threads", threads, "CPU threads of the engine (default: all cores)");
    cmd->add_option("--http-threads", so.threads,
                    "connections served at once (each streaming client holds one)")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    cmd->add_flag("--quiet", quiet, "no request log on stderr");
    cmd->callback([&ctx] {
        if (so.api_key.empty())
            if (const char* k = std::getenv("MESWITCH_API_KEY")) so.api_key = k;
        Catalog& cat = ctx.catalog();
        EngineOptions eo = ctx.engine_options(device_arg, threads, threshold);
        eo.max_queue = max_queue;
        eo.max_batch = max_batch;
        if (!base_arg.empty()) {
            const auto m = cat.find_model(base_arg);
            if (!m || m->role != ModelRole::base)
                throw Error(ErrorKind::not_found, "'" + base_arg +
                                                      "' is not a base model in the catalog "
                                                      "(see: meswitch list)");
            eo.base = m->path;
            eo.router.base = m->name;
        }
        so.catalog = eo.catalog;
        so.base_name = base_arg;
        so.log = quiet ? [](std::string_view) {} : log_line;

        // SIGINT/SIGTERM are taken by sigwait below: blocked in every thread started from here.
        sigset_t stop_signals;
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGINT);
        sigaddset(&stop_signals, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

        Engine engine(eo);
        ApiServer server(engine, so);
        server.start();
        std::printf("listening on %s\n", server.base_url().c_str());
        std::fflush(stdout);

        // The base loads while the server already answers (503 until it is ready).
        std::string load_error;
        std::thread waiter([&engine, &load_error] {
            try {
                engine.wait_ready();
                log_line("engine ready");
            } catch (const std::exception& e) {
                load_error = e.what();
                ::kill(::getpid(), SIGTERM);
            }
        });
        int sig = 0;
        sigwait(&stop_signals, &sig);
        waiter.join();  // wait_ready has returned or thrown by now (or returns at once)
        if (load_error.empty()) log_line(sig == SIGINT ? "SIGINT: stopping" : "SIGTERM: stopping");
        server.stop();
        if (!load_error.empty())
            throw Error(ErrorKind::io, "the engine could not load the base: " + load_error);
    });
}

}  // namespace meswitch::cli
