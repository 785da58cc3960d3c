// The engine's private state, shared by its two source files: engine.cpp (set-up,
// administrative requests, the thread's loop, the public API) and engine_batch.cpp
// (admission of generate requests — routing, model choice, template, KV cache — and the
// batched step).
#pragma once

#include "meswitch/engine.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>
#include "meswitch/catalog.h"
#include "meswitch/model.h"
#include "meswitch/moe.h"
#include "meswitch/progress.h"
#include "meswitch/tokenizer.h"
#include "model/decode_loop.h"
#include "serve/device_backend.h"
#include "serve/expert_pool.h"

namespace meswitch {

namespace engine_detail {

using clock_type = std::chrono::steady_clock;

inline double ms_between(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

enum class TaskKind { load, unload, switch_to, generate, budget, job };

struct Task {
    RequestId id = 0;
    TaskKind kind = TaskKind::generate;
    std::string name;
    std::filesystem::path msd;
    DeltaMode mode = DeltaMode::merged;
    GenerateRequest generate;
    std::uint64_t budget = 0;
    std::function<void()> job;
    RequestCallbacks callbacks;
    std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
    clock_type::time_point submitted = clock_type::now();
};

// Calls a user callback; an exception from it is logged, never allowed to stop the engine.
template <class F, class... A>
inline void call_back(const F& f, A&&... args) {
    if (!f) return;
    try {
        f(std::forward<A>(args)...);
    } catch (const std::exception& e) {
        spdlog::warn("engine: a request callback threw: {}", e.what());
    } catch (...) {
        spdlog::warn("engine: a request callback threw");
    }
}

inline std::string mib(std::uint64_t bytes) {
    return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

// The outcome of a failed request from the exception in flight.
inline void fail_from_current(RequestOutcome& out) {
    try {
        throw;
    } catch (const Error& e) {
        out.ok = false;
        out.cancelled = e.kind() == ErrorKind::cancelled;
        out.error_kind = e.kind();
        out.error = e.what();
    } catch (const std::bad_alloc&) {
        out.ok = false;
        out.error_kind = ErrorKind::out_of_memory;
        out.error = "out of memory while running the request";
    } catch (const std::exception& e) {
        out.ok = false;
        out.error_kind = ErrorKind::invalid_argument;
        out.error = e.what();
    }
}

// A model other than the backend's base that answers some requests, in host memory: an
// uncompressed expert's full weights, or the consolidated model of a MoE plan's variants.
struct SideModel {
    std::string key;  // "full:<expert>" or "moe:<plan id>"
    std::optional<Model> full;
    std::unique_ptr<moe::ReconfigurableMoe> family;
    std::optional<Tokenizer> tokenizer;
    std::string description;
    std::uint64_t bytes = 0;
    int users = 0;  // running sequences
    std::uint64_t last_used = 0;
    Model& model() { return family ? family->model() : *full; }
};

// One admitted generate request.
struct Sequence {
    Task task;
    RequestOutcome out;
    // Who answers.
    std::string expert;                         // pool expert ("" = base alone, or a side model)
    const serve::DeviceDelta* delta = nullptr;  // resident delta of `expert`
    bool exclusive = false;                     // the delta can only be merged: runs alone
    SideModel* side = nullptr;
    std::size_t variant = 0;  // MoE family
    std::string cache_key;    // model identity for prefix reuse
    // Its tokens and cache.
    std::vector<std::int32_t> prompt;
    std::size_t fed = 0;                        // prompt tokens in the cache
    std::vector<std::int32_t> cached;           // every token in the cache
    std::unique_ptr<serve::DeviceCache> cache;  // backend sequences
    std::optional<KvCache> host_cache;          // side-model sequences
    std::optional<model::DecodeSession> session;
    std::optional<std::int32_t> pending;  // sampled, to run next step
    std::uint64_t cache_bytes = 0;
    clock_type::time_point admitted;
    bool first_token = false;

    std::int64_t cache_size() const { return cache ? cache->size() : host_cache->size(); }
    std::int64_t cache_capacity() const {
        return cache ? cache->capacity() : host_cache->capacity();
    }
};

// A finished conversation's cache, kept for the next turn.
struct Parked {
    std::string cache_key;
    std::vector<std::int32_t> tokens;
    std::unique_ptr<serve::DeviceCache> cache;
    std::optional<KvCache> host_cache;
    std::uint64_t bytes = 0;
    SideModel* side = nullptr;
};

}  // namespace engine_detail

using namespace engine_detail;

struct Engine::Impl {
    EngineOptions options;

    // Shared with callers (guarded by mutex).
    mutable std::mutex mutex;
    std::condition_variable work, changed;
    std::deque<Task> queue;
    std::map<RequestId, std::shared_ptr<CancelToken>> running_cancel;  // admitted or running
    RequestId next_id = 0;
    std::uint64_t submitted = 0, finished = 0;
    std::size_t running_count = 0;
    bool stopping = false, loaded = false;
    std::exception_ptr load_error;
    std::string state = "loading";
    PoolStatus snapshot;

    // Engine thread only.
    std::unique_ptr<serve::DeviceBackend> backend;
    std::unique_ptr<serve::ExpertPool> pool;
    std::optional<Tokenizer> tokenizer;
    std::unique_ptr<Catalog> catalog;
    std::unique_ptr<Router> router;
    std::filesystem::path base_folder;
    std::string base_hash, base_name;
    std::optional<std::int64_t> base_id;
    GenerationDefaults base_defaults;  // the base's generation_config (catalog or folder)
    std::uint64_t kv_budget = 0;
    std::list<std::unique_ptr<Sequence>> seqs;
    std::list<Parked> parked;  // most recently finished first
    std::map<std::string, std::unique_ptr<SideModel>> sides;
    std::map<std::string, std::string> weights_of;  // pool expert → how it is served
    std::uint64_t clock = 0;
    std::string merged;  // the expert merged in place for the whole batch ("" none)

    std::thread thread;

    RequestId submit(Task task) {
        std::unique_lock lock(mutex);
        task.id = ++next_id;
        ++submitted;
        const RequestId id = task.id;
        const bool generate = task.kind == TaskKind::generate;
        std::size_t waiting = 0;
        for (const Task& t : queue)
            if (t.kind == TaskKind::generate) ++waiting;
        if (generate && options.max_queue > 0 &&
            waiting >= static_cast<std::size_t>(options.max_queue)) {
            // Refused at once, on the caller's thread (the engine thread is busy).
            lock.unlock();
            RequestOutcome out;
            out.id = id;
            out.error_kind = ErrorKind::busy;
            out.error = "the engine's queue is full (" + std::to_string(options.max_queue) +
                        " requests waiting); try again later";
            call_back(task.callbacks.on_finished, out);
            lock.lock();
            ++finished;
            changed.notify_all();
            return id;
        }
        if (stopping) task.cancel->cancel();
        queue.push_back(std::move(task));
        work.notify_one();
        return id;
    }

    void run();
    void load();
    void run_admin(Task& task, RequestOutcome& out);
    Catalog& open_catalog();
    const std::string& hash_of_base();
    void load_from_catalog(const std::string& name, const ModelRecord& m);
    void refresh_snapshot();
    void finish_task(Task& task, RequestOutcome& out);

    // Batching.
    bool admit(Task& task);
    void prepare(Sequence& s);
    void resolve(Sequence& s, const std::string& name);
    GenerationDefaults defaults_for(const Sequence& s);
    SideModel& side_for_full(const ModelRecord& m);
    void drop_idle_sides(const std::string& keep);
    SideModel& side_for_variant(const ModelRecord& m, std::size_t* variant);
    std::vector<std::int32_t> encode(Sequence& s, const Tokenizer& tok, std::int64_t context);
    void allocate_cache(Sequence& s);
    void step();
    void retire(Sequence& s);
    void park(Sequence& s);
    void trim_parked(std::uint64_t need);
    std::uint64_t kv_in_use() const;
    void set_merged(const std::string& expert);
    void ensure_base_weights();
    Router* current_router(std::string* why_not);
    std::string catalog_signature();
    std::string router_signature, router_error;

    // The device's free memory after the base and the serving reserve (context 4096), −10 %.
    std::uint64_t automatic_budget() const {
        const std::uint64_t free = backend->free_memory();
        const std::uint64_t reserve =
            serving_reserve_bytes(backend->config(), 4096, backend->kind() == "cuda");
        return free > reserve ? (free - reserve) / 10 * 9 : 0;
    }
};

}  // namespace meswitch
