// The serving engine: one thread owns the device, the resident base and the ExpertPool;
// every request (load an expert, switch, generate) queues to it and runs in order.
// Usable from any thread (the Qt app's EngineWorker, the CLI, tests).
//
//   EngineOptions o;
//   o.base = "models/base";
//   o.catalog = catalog_path(home);                    // optional: "auto" routing
//   Engine engine(o);                                  // loads the base on its thread
//   engine.load_expert("math", "deltas/math.msd");
//   GenerateRequest r;
//   r.prompt = "Q: 23+58=? A:";
//   r.expert = "auto";
//   RequestCallbacks cb;
//   cb.on_text = [](std::string_view piece) { ... };   // streamed, on the engine thread
//   cb.on_finished = [](const RequestOutcome& o) { ... };
//   RequestId id = engine.generate(r, cb);
//   engine.cancel(id);                                 // stops between tokens
//
// Callbacks run on the engine thread, in order, and must return quickly (a Qt app posts
// them to the GUI thread with a queued connection). on_finished runs exactly once per
// request, also when it failed or was cancelled. A failed request (a missing file, a delta
// that does not fit: Error(out_of_memory)) fails alone; the engine stays usable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/pool.h"
#include "meswitch/router.h"

namespace meswitch {

struct EngineOptions {
    std::filesystem::path base;   // Hugging Face folder of the base model
    std::string device = "auto";  // "cpu", "cuda", or "auto" (cuda when available)
    int threads = 0;              // CPU threads (<= 0: all cores)
    // Device memory for resident deltas. 0: automatic — the device's free memory after the
    // base and the serving reserve (context 4096), minus 10 %.
    std::uint64_t delta_budget_bytes = 0;
    // The base's content hash as the .msd files record it. Empty: taken from the catalog
    // when it lists the base's folder, else computed (hashing the weights) on first load.
    std::string base_hash;
    // Optional catalog: enables expert "auto" (routing with meswitch::Router) and loading
    // experts by catalog name (their latest compressed delta). Opened on the engine thread.
    std::filesystem::path catalog;
    RouterOptions router;
};

using RequestId = std::uint64_t;

struct GenerateRequest {
    std::string prompt;                    // text, encoded with the base's tokenizer
    std::vector<std::int32_t> prompt_ids;  // used instead of `prompt` when not empty
    bool add_special = true;               // BOS etc. when encoding `prompt`
    // "" = the base alone, "auto" = route (needs a catalog), else a loaded expert's name
    // (or, with a catalog, any compressed expert in it: it is loaded first).
    std::string expert;
    std::string route_text;              // what the router reads; default: `prompt`
    DeltaMode mode = DeltaMode::merged;  // merged: in place; separate: x·W + x·Δ̂
    GenerateOptions options;             // options.cancel is ignored: use Engine::cancel
};

struct RequestOutcome {
    RequestId id = 0;
    bool ok = false;
    bool cancelled = false;
    ErrorKind error_kind = ErrorKind::io;  // when !ok && !cancelled
    std::string error;                     // the message, when !ok
    std::string expert;                    // the expert active at the end ("" = base)
    std::optional<RouteResult> route;      // for "auto"
    bool uploaded = false;                 // the switch had to upload the delta
    std::vector<std::string> evicted;      // deltas evicted to make room
    double switch_ms = 0;                  // upload + restore + apply
    GenerateResult generation;             // generate requests
};

struct RequestCallbacks {
    std::function<void(std::string_view text_piece)> on_text;  // generate: streamed text
    std::function<void(const RouteResult&)> on_route;          // generate with "auto"
    std::function<void(const RequestOutcome&)> on_finished;    // exactly once
};

class Engine {
public:
    // Starts the engine thread, which loads the base first (wait_ready() waits for it).
    explicit Engine(const EngineOptions& options);
    // Cancels the running request, fails the queued ones as cancelled, restores the base,
    // frees the device and joins the thread.
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Blocks until the base is loaded; rethrows the load error (the engine then fails
    // every request with it).
    void wait_ready();

    // Reads an .msd file into host memory as expert `name` (it is uploaded to the device
    // on first use). An empty path looks the expert up in the catalog.
    RequestId load_expert(const std::string& name, const std::filesystem::path& msd = {},
                          RequestCallbacks callbacks = {});
    RequestId unload_expert(const std::string& name, RequestCallbacks callbacks = {});
    // Makes `name` active ("" = the base) without generating.
    RequestId switch_to(const std::string& name, DeltaMode mode = DeltaMode::merged,
                        RequestCallbacks callbacks = {});
    RequestId generate(const GenerateRequest& request, RequestCallbacks callbacks = {});
    RequestId set_budget(std::uint64_t delta_budget_bytes, RequestCallbacks callbacks = {});

    // A queued request is dropped, the running one stops before its next token (or before
    // its switch). Unknown or finished ids are ignored.
    void cancel(RequestId id);
    void cancel_all();

    // Blocks until every request queued so far has finished.
    void wait_idle();

    // A snapshot taken after the last request (thread-safe, never blocks on the device).
    PoolStatus status() const;
    std::string state() const;   // "loading", "ready", "failed: <message>"
    std::size_t queued() const;  // requests waiting or running

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace meswitch
