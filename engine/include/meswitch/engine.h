// The serving engine: one thread owns the device, the resident base and the ExpertPool, and
// serves many requests at once (continuous batching across experts). Usable from any thread
// (the Studio, the CLI, the API server, tests).
//
//   EngineOptions o;
//   o.base = "models/base";
//   o.catalog = catalog_path(home);                    // optional: "auto" routing, experts by name
//   Engine engine(o);                                  // loads the base on its thread
//   GenerateRequest r;
//   r.messages = {{"user", "What is 23+58?"}};         // rendered with the model's chat template
//   r.expert = "auto";                                 // routed once, on the last user message
//   RequestCallbacks cb;
//   cb.on_route = [](const RouteResult& r) { ... };    // who answers, before the first token
//   cb.on_text = [](std::string_view piece) { ... };   // streamed, on the engine thread
//   cb.on_finished = [](const RequestOutcome& o) { ... };
//   RequestId id = engine.generate(r, cb);
//   engine.cancel(id);                                 // stops before its next step
//
// How requests run. A generate request becomes a sequence: it is admitted in arrival order
// when the batch has room (max_batch sequences, their KV caches within kv_budget_bytes),
// routed (expert "auto"), its prompt rendered and encoded, and then it takes part in every
// engine step until it finishes: one step runs the base once for all running sequences (a
// prompt's tokens as a prefill chunk, one token for each decoding sequence) and adds each
// sequence's own expert delta by separate computation, grouped by expert. When every running
// sequence wants the same expert, the engine merges it in place instead (decode then runs at
// the base's speed). New requests join between steps, finished and cancelled ones leave at
// once. A finished conversation's KV cache is kept (within the budget) and reused by a later
// request of the same model whose prompt starts with the same tokens (the next turn of a
// chat): only the new tokens are prefilled.
//
// Experts that are not compressed (a catalog expert with no delta) and the variants of a
// consolidated mixture-of-experts plan are served too, from their own resident models
// (an uncompressed expert: its full weights; MoE variants: one consolidated model whose
// non-expert layers are reconfigured per variant, batched by variant).
//
// Administrative requests (load, unload, switch_to, set_budget) run between steps, in order.
// Callbacks run on the engine thread and must return quickly (a Qt app posts them to the GUI
// thread with a queued connection). on_finished runs exactly once per request, also when it
// failed, was refused (queue full: Error(busy) — then at once, on the calling thread) or
// was cancelled. A failed request (a missing
// file, a delta that does not fit: Error(out_of_memory)) fails alone; the engine stays usable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/chat_template.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/generation_defaults.h"
#include "meswitch/model.h"
#include "meswitch/pool.h"
#include "meswitch/router.h"
#include "meswitch/tokenizer.h"

namespace meswitch {

struct EngineOptions {
    // Hugging Face folder of the base model. Empty: the catalog's base (the one with the most
    // experts linked to domains, as the router chooses; ties: the lowest id).
    std::filesystem::path base;
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
    RouterOptions router;  // the router reads the engine's base when it is the catalog's base

    // Continuous batching.
    int max_batch = 16;   // sequences in one step (1: one request at a time)
    int max_queue = 256;  // waiting requests; more are refused with Error(busy)
    // Host/device memory for the KV caches of running and kept conversations. 0: automatic
    // (a quarter of the free memory after the base, at most 4 GiB).
    std::uint64_t kv_budget_bytes = 0;
    int prefill_chunk = 256;  // a prompt's tokens per step (long prompts share the steps)
    // Whether the engine may merge an expert in place while every running sequence wants it:
    // "separate" (the default): never — every sequence adds its delta by separate
    // computation, so a request's tokens do not depend on what else is running (batched ==
    // one at a time, bit for bit); "auto": merge then (decode at the base's speed: on the
    // CPU 71-75 vs 55-56 tokens/s separate, `bench switch --shape small`), at the price that
    // a greedy answer may change by rounding with the load (W_base + Δ̂ rounded to bf16 vs
    // x·W_base + x·Δ̂ in f32: 7 of 16 requests differed in `bench serve --delta-mode merged`).
    // Experts whose deltas cannot be added per sequence are always merged, running alone.
    std::string merge_policy = "separate";
};

using RequestId = std::uint64_t;

struct GenerateRequest {
    // A conversation (system, user, assistant turns): rendered with the answering model's chat
    // template (the plain "User: …" format when it has none or it fails; RequestOutcome::note
    // says so), the oldest turns left out when it does not fit the context with the answer.
    std::vector<ChatMessage> messages;
    // Or a plain prompt (a completion, no template) when `messages` is empty.
    std::string prompt;                    // text, encoded with the base's tokenizer
    std::vector<std::int32_t> prompt_ids;  // used instead of `prompt` when not empty
    bool add_special = true;               // BOS etc. when encoding `prompt`
    // "" or "base" = the base alone, "auto" = route (needs a catalog), else an expert's name:
    // a loaded one, or with a catalog any expert in it (its newest compressed delta is loaded
    // first; an expert with no delta answers from its full weights), or a variant of a
    // consolidated MoE plan.
    std::string expert;
    // What the router reads; default: the last user message, else `prompt`.
    std::string route_text;
    std::optional<double> routing_threshold;  // default: EngineOptions::router.threshold
    // merged: the engine may merge the expert in place while the whole batch wants it (with
    // EngineOptions::merge_policy "auto"); separate: always x·W_base + x·Δ̂ from the packed
    // form.
    DeltaMode mode = DeltaMode::merged;
    GenerateOptions options;  // options.cancel is ignored: use Engine::cancel
    // With use_model_defaults, the answering model's generation_config.json (stored in the
    // catalog at import, or read from the base's folder) replaces options' sampling and
    // max_tokens where it states them; `chosen` (the user's explicit choices) wins over both.
    // RequestOutcome::sampling says what was used.
    bool use_model_defaults = false;
    SamplingChoice chosen;
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
    // Generate requests: the model that answered ("" = the engine's base; an expert's name),
    // how (e.g. "2-bit meswitch delta, separate", "full weights", "MoE variant of plan p").
    std::string model;
    std::string weights;
    std::string note;  // chat template fallback, oldest turns left out, ...
    // Generate requests: the sampling used ("temperature 0 (greedy), at most 64 tokens") and,
    // when the answering model's defaults were applied, those ("temperature 0 (greedy), at
    // most 64 new tokens"; "" otherwise).
    std::string sampling;
    std::string model_defaults;
    int reused_tokens = 0;      // prompt tokens whose KV cache came from an earlier request
    double queue_ms = 0;        // submit → admitted
    double first_token_ms = 0;  // submit → first token sampled
    int max_batch_seen = 0;     // the most sequences in one step while this one ran
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
    // 0: automatic, as EngineOptions::delta_budget_bytes.
    RequestId set_budget(std::uint64_t delta_budget_bytes, RequestCallbacks callbacks = {});
    // Runs `job` on the engine thread between steps, in order with the other administrative
    // requests (e.g. a router retraining that must see the base weights). Its exception fails
    // the request with that error.
    RequestId run_job(std::function<void()> job, RequestCallbacks callbacks = {});

    // A queued request is dropped, the running one stops before its next token (or before
    // its switch). Unknown or finished ids are ignored.
    void cancel(RequestId id);
    void cancel_all();

    // Blocks until every request queued so far has finished.
    void wait_idle();

    // A snapshot taken after the last request (thread-safe, never blocks on the device).
    PoolStatus status() const;
    std::string state() const;    // "loading", "ready", "failed: <message>"
    std::size_t queued() const;   // requests waiting or running
    std::size_t running() const;  // sequences in the batch now
    // The base's tokenizer and config (after wait_ready()).
    const Tokenizer& tokenizer() const;
    const ModelConfig& config() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace meswitch
