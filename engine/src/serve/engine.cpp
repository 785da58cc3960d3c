// The engine thread: a queue of requests in front of one DeviceBackend and its ExpertPool.
#include "meswitch/engine.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>
#include "meswitch/catalog.h"
#include "meswitch/model.h"
#include "meswitch/progress.h"
#include "meswitch/tokenizer.h"
#include "serve/device_backend.h"
#include "serve/expert_pool.h"
#include "serve/generate_loop.h"

namespace meswitch {

namespace {

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
};

// Calls a user callback; an exception from it is logged, never allowed to stop the engine.
template <class F, class... A>
void call_back(const F& f, A&&... args) {
    if (!f) return;
    try {
        f(std::forward<A>(args)...);
    } catch (const std::exception& e) {
        spdlog::warn("engine: a request callback threw: {}", e.what());
    } catch (...) {
        spdlog::warn("engine: a request callback threw");
    }
}

}  // namespace

struct Engine::Impl {
    EngineOptions options;

    // Shared with callers (guarded by mutex).
    mutable std::mutex mutex;
    std::condition_variable work, changed;
    std::deque<Task> queue;
    std::shared_ptr<CancelToken> running_cancel;
    RequestId running_id = 0;
    RequestId next_id = 0;
    std::uint64_t submitted = 0, finished = 0;
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
    std::string base_hash;

    std::thread thread;

    RequestId submit(Task task) {
        std::lock_guard lock(mutex);
        task.id = ++next_id;
        if (stopping) task.cancel->cancel();
        ++submitted;
        const RequestId id = task.id;
        queue.push_back(std::move(task));
        work.notify_one();
        return id;
    }

    void run();
    void load();
    void execute(Task& task, RequestOutcome& out);
    Catalog& open_catalog();
    const std::string& hash_of_base();
    void load_from_catalog(const std::string& name);
    void refresh_snapshot();
};

void Engine::Impl::load() {
    Model model = Model::load(options.base, ModelOptions{options.threads});
    backend = serve::open_backend(options.device, std::move(model));
    tokenizer.emplace(Tokenizer::from_folder(options.base));
    std::uint64_t budget = options.delta_budget_bytes;
    if (budget == 0) {
        const std::uint64_t free = backend->free_memory();
        const std::uint64_t reserve =
            serving_reserve_bytes(backend->config(), 4096, backend->kind() == "cuda");
        budget = free > reserve ? (free - reserve) / 10 * 9 : 0;
    }
    pool = std::make_unique<serve::ExpertPool>(*backend, budget);
    if (!options.base_hash.empty()) base_hash = options.base_hash;
}

Catalog& Engine::Impl::open_catalog() {
    if (catalog) return *catalog;
    if (options.catalog.empty())
        throw Error(ErrorKind::invalid_argument,
                    "this engine has no catalog: routing (expert \"auto\") and loading experts "
                    "by catalog name need EngineOptions::catalog");
    catalog = std::make_unique<Catalog>(options.catalog);
    return *catalog;
}

const std::string& Engine::Impl::hash_of_base() {
    if (!base_hash.empty()) return base_hash;
    if (!options.catalog.empty()) {
        std::error_code ec;
        const auto want = std::filesystem::weakly_canonical(options.base, ec);
        for (const ModelRecord& m : open_catalog().list_models())
            if (m.role == ModelRole::base &&
                std::filesystem::weakly_canonical(m.path, ec) == want && !m.content_hash.empty())
                return base_hash = m.content_hash;
    }
    return base_hash = checkpoint_hash(options.base);
}

void Engine::Impl::load_from_catalog(const std::string& name) {
    Catalog& cat = open_catalog();
    const auto m = cat.find_model(name);
    if (!m)
        throw Error(ErrorKind::not_found,
                    "expert '" + name + "' is neither loaded nor in the catalog");
    const auto artifacts = cat.delta_artifacts(m->id);
    if (artifacts.empty())
        throw Error(ErrorKind::not_found, "expert '" + name +
                                              "' has no compressed delta to serve; compress it "
                                              "first (meswitch compress " +
                                              name + ")");
    pool->add(serve::HostDelta::load(artifacts.back().path, name, hash_of_base()));
}

void Engine::Impl::refresh_snapshot() {
    PoolStatus s = pool ? pool->status() : PoolStatus{};
    std::lock_guard lock(mutex);
    snapshot = std::move(s);
}

void Engine::Impl::execute(Task& task, RequestOutcome& out) {
    if (task.cancel->cancelled()) {
        out.cancelled = true;
        return;
    }
    switch (task.kind) {
        case TaskKind::load:
            if (task.msd.empty())
                load_from_catalog(task.name);
            else
                pool->add(serve::HostDelta::load(task.msd, task.name, hash_of_base()));
            break;
        case TaskKind::unload:
            pool->remove(task.name);
            break;
        case TaskKind::budget:
            pool->set_budget(task.budget);
            break;
        case TaskKind::job:
            task.job();
            break;
        case TaskKind::switch_to:
        case TaskKind::generate: {
            const GenerateRequest& g = task.generate;
            std::string expert = task.kind == TaskKind::switch_to ? task.name : g.expert;
            const DeltaMode mode = task.kind == TaskKind::switch_to ? task.mode : g.mode;
            if (task.kind == TaskKind::generate && expert == "auto") {
                if (!router)
                    router = std::make_unique<Router>(Router::open(open_catalog(), options.router));
                RouteResult r = router->route(g.route_text.empty() ? g.prompt : g.route_text);
                call_back(task.callbacks.on_route, r);
                expert = r.expert_name;
                out.route = std::move(r);
            }
            if (!expert.empty() && !pool->contains(expert)) {
                if (options.catalog.empty())
                    throw Error(ErrorKind::not_found,
                                "expert '" + expert + "' is not loaded (load_expert it first)");
                load_from_catalog(expert);
            }
            if (task.cancel->cancelled()) {
                out.cancelled = true;
                break;
            }
            const serve::SwitchReport sw = pool->activate(expert, mode);
            out.uploaded = sw.uploaded;
            out.evicted = sw.evicted;
            out.switch_ms = sw.upload_ms + sw.activate_ms;
            if (task.kind == TaskKind::switch_to) break;
            const std::vector<std::int32_t> ids =
                g.prompt_ids.empty() ? tokenizer->encode(g.prompt, g.add_special) : g.prompt_ids;
            GenerateOptions go = g.options;
            go.cancel = task.cancel.get();
            out.generation = serve::generate_on(
                *backend, *tokenizer, ids, go,
                [&](std::string_view piece) { call_back(task.callbacks.on_text, piece); });
            out.cancelled = out.generation.stop_reason == "cancelled";
            break;
        }
    }
    out.ok = !out.cancelled;
}

void Engine::Impl::run() {
    try {
        load();
    } catch (...) {
        std::string message = "unknown error";
        try {
            throw;
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
        }
        std::lock_guard lock(mutex);
        load_error = std::current_exception();
        state = "failed: " + message;
    }
    refresh_snapshot();
    {
        std::lock_guard lock(mutex);
        loaded = true;
        if (!load_error) state = "ready";
        changed.notify_all();
    }
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex);
            work.wait(lock, [&] { return stopping || !queue.empty(); });
            if (queue.empty()) break;  // stopping, nothing left
            task = std::move(queue.front());
            queue.pop_front();
            running_id = task.id;
            running_cancel = task.cancel;
        }
        RequestOutcome out;
        out.id = task.id;
        try {
            if (load_error) std::rethrow_exception(load_error);
            execute(task, out);
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
        if (out.cancelled && out.error.empty()) out.error = "cancelled";
        if (pool) out.expert = pool->active();
        refresh_snapshot();
        call_back(task.callbacks.on_finished, out);
        std::lock_guard lock(mutex);
        running_id = 0;
        running_cancel.reset();
        ++finished;
        changed.notify_all();
    }
    router.reset();
    pool.reset();  // restores the base, frees the deltas
    backend.reset();
}

// ------------------------------------------------------------------------------ Engine

Engine::Engine(const EngineOptions& options) : impl_(std::make_unique<Impl>()) {
    impl_->options = options;
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

Engine::~Engine() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
        for (Task& t : impl_->queue) t.cancel->cancel();
        if (impl_->running_cancel) impl_->running_cancel->cancel();
        impl_->work.notify_all();
    }
    impl_->thread.join();
}

void Engine::wait_ready() {
    std::unique_lock lock(impl_->mutex);
    impl_->changed.wait(lock, [&] { return impl_->loaded; });
    if (impl_->load_error) std::rethrow_exception(impl_->load_error);
}

RequestId Engine::load_expert(const std::string& name, const std::filesystem::path& msd,
                              RequestCallbacks callbacks) {
    Task t;
    t.kind = TaskKind::load;
    t.name = name;
    t.msd = msd;
    t.callbacks = std::move(callbacks);
    return impl_->submit(std::move(t));
}

RequestId Engine::unload_expert(const std::string& name, RequestCallbacks callbacks) {
    Task t;
    t.kind = TaskKind::unload;
    t.name = name;
    t.callbacks = std::move(callbacks);
    return impl_->submit(std::move(t));
}

RequestId Engine::switch_to(const std::string& name, DeltaMode mode, RequestCallbacks callbacks) {
    Task t;
    t.kind = TaskKind::switch_to;
    t.name = name;
    t.mode = mode;
    t.callbacks = std::move(callbacks);
    return impl_->submit(std::move(t));
}

RequestId Engine::generate(const GenerateRequest& request, RequestCallbacks callbacks) {
    Task t;
    t.kind = TaskKind::generate;
    t.generate = request;
    t.callbacks = std::move(callbacks);
    return impl_->submit(std::move(t));
}

RequestId Engine::set_budget(std::uint64_t delta_budget_bytes, RequestCallbacks callbacks) {
    Task t;
    t.kind = TaskKind::budget;
    t.budget = delta_budget_bytes;
    t.callbacks = std::move(callbacks);
    return impl_->submit(std::move(t));
}

RequestId Engine::run_job(std::function<void()> job, RequestCallbacks callbacks) {
    Task t;
    t.kind = TaskKind::job;
    t.job = std::move(job);
    t.callbacks = std::move(callbacks);
    return impl_->submit(std::move(t));
}

void Engine::cancel(RequestId id) {
    std::lock_guard lock(impl_->mutex);
    if (impl_->running_id == id && impl_->running_cancel) impl_->running_cancel->cancel();
    for (Task& t : impl_->queue)
        if (t.id == id) t.cancel->cancel();
}

void Engine::cancel_all() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->running_cancel) impl_->running_cancel->cancel();
    for (Task& t : impl_->queue) t.cancel->cancel();
}

void Engine::wait_idle() {
    std::unique_lock lock(impl_->mutex);
    const std::uint64_t target = impl_->submitted;
    impl_->changed.wait(lock, [&] { return impl_->finished >= target; });
}

PoolStatus Engine::status() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->snapshot;
}

std::string Engine::state() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->state;
}

std::size_t Engine::queued() const {
    std::lock_guard lock(impl_->mutex);
    return static_cast<std::size_t>(impl_->submitted - impl_->finished);
}

std::size_t Engine::running() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->running_id ? 1 : 0;
}

const Tokenizer& Engine::tokenizer() const {
    const_cast<Engine*>(this)->wait_ready();
    return *impl_->tokenizer;
}

const ModelConfig& Engine::config() const {
    const_cast<Engine*>(this)->wait_ready();
    return impl_->backend->config();
}

}  // namespace meswitch
