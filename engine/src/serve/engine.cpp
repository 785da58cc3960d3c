// The engine thread: a queue of requests in front of one DeviceBackend and its ExpertPool,
// serving every admitted generate request as a sequence of a continuously batched step
// (admission and the step: engine_batch.cpp).
#include <spdlog/spdlog.h>

#include "serve/engine_impl.h"

namespace meswitch {

// ------------------------------------------------------------------------------ set-up

void Engine::Impl::load() {
    base_folder = options.base;
    if (base_folder.empty()) {
        const std::optional<ModelRecord> best = default_base(open_catalog());
        if (!best)
            throw Error(ErrorKind::not_found,
                        "the catalog (" + options.catalog.string() +
                            ") has no base model to serve; import one first (meswitch import "
                            "FOLDER --name NAME)");
        base_folder = best->path;
    }
    Model model = Model::load(base_folder, ModelOptions{options.threads});
    backend = serve::open_backend(options.device, std::move(model));
    tokenizer.emplace(Tokenizer::from_folder(base_folder));
    const std::uint64_t free = backend->free_memory();
    const std::uint64_t budget =
        options.delta_budget_bytes ? options.delta_budget_bytes : automatic_budget();
    pool = std::make_unique<serve::ExpertPool>(*backend, budget);
    kv_budget = options.kv_budget_bytes;
    if (kv_budget == 0) kv_budget = std::min<std::uint64_t>(free / 4, 4ull << 30);
    if (!options.base_hash.empty()) base_hash = options.base_hash;
    base_name = base_folder.filename().string();
    if (!options.catalog.empty()) {
        std::error_code ec;
        const auto want = std::filesystem::weakly_canonical(base_folder, ec);
        for (const ModelRecord& m : open_catalog().list_models())
            if (m.role == ModelRole::base &&
                std::filesystem::weakly_canonical(m.path, ec) == want) {
                base_name = m.name;
                base_id = m.id;
                if (base_hash.empty()) base_hash = m.content_hash;
                break;
            }
    }
    if (base_id) {
        if (const auto m = open_catalog().model(*base_id))
            base_defaults = generation_defaults_of(*m);
    } else {
        try {
            base_defaults = GenerationDefaults::read_folder(base_folder);
        } catch (const Error& e) {
            spdlog::warn("engine: the base's sampling defaults are not used: {}", e.what());
        }
    }
    spdlog::info("engine: {} on {} (experts {} , KV caches {})", base_name, backend->device_name(),
                 mib(budget), mib(kv_budget));
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
    if (base_hash.empty()) base_hash = checkpoint_hash(base_folder);
    return base_hash;
}

void Engine::Impl::load_from_catalog(const std::string& name, const ModelRecord& m) {
    const auto artifacts = open_catalog().delta_artifacts(m.id);
    if (artifacts.empty())
        throw Error(ErrorKind::not_found, "expert '" + name +
                                              "' has no compressed delta to serve; compress it "
                                              "first (meswitch compress " +
                                              name + ")");
    const DeltaArtifactRecord& a = artifacts.back();
    pool->add(serve::HostDelta::load(a.path, name, hash_of_base()));
    weights_of[name] = std::to_string(a.bits) + "-bit " + a.method + " delta on " + base_name;
}

void Engine::Impl::refresh_snapshot() {
    PoolStatus s = pool ? pool->status() : PoolStatus{};
    std::lock_guard lock(mutex);
    snapshot = std::move(s);
    running_count = seqs.size();
}

// The base's own weights in the backend (no expert merged in place), e.g. for the router.
void Engine::Impl::ensure_base_weights() {
    if (!merged.empty()) set_merged("");
}

void Engine::Impl::set_merged(const std::string& expert) {
    if (expert == merged) return;
    pool->activate(expert, DeltaMode::merged);
    merged = expert;
}

// -------------------------------------------------------------------- admin requests

void Engine::Impl::run_admin(Task& task, RequestOutcome& out) {
    if (task.cancel->cancelled()) {
        out.cancelled = true;
        return;
    }
    switch (task.kind) {
        case TaskKind::load:
            if (task.msd.empty()) {
                const auto m = open_catalog().find_model(task.name);
                if (!m)
                    throw Error(ErrorKind::not_found,
                                "expert '" + task.name + "' is not in the catalog");
                load_from_catalog(task.name, *m);
            } else {
                pool->add(serve::HostDelta::load(task.msd, task.name, hash_of_base()));
                weights_of[task.name] = "delta " + task.msd.filename().string();
            }
            break;
        case TaskKind::unload:
            if (merged == task.name) set_merged("");
            pool->remove(task.name);
            weights_of.erase(task.name);
            break;
        case TaskKind::budget:
            pool->set_budget(task.budget ? task.budget : automatic_budget());
            break;
        case TaskKind::job:
            ensure_base_weights();
            task.job();
            break;
        case TaskKind::switch_to: {
            if (!task.name.empty() && !pool->contains(task.name)) {
                const auto m = open_catalog().find_model(task.name);
                if (!m)
                    throw Error(ErrorKind::not_found, "expert '" + task.name + "' is not loaded");
                load_from_catalog(task.name, *m);
            }
            const serve::SwitchReport sw = pool->activate(task.name, task.mode);
            // Separate: the next batched step goes back to the base (its sequences carry their
            // own deltas).
            merged = task.mode == DeltaMode::merged ? task.name : "";
            out.uploaded = sw.uploaded;
            out.evicted = sw.evicted;
            out.switch_ms = sw.upload_ms + sw.activate_ms;
            break;
        }
        case TaskKind::generate:
            break;
    }
    out.ok = !out.cancelled;
}

void Engine::Impl::finish_task(Task& task, RequestOutcome& out) {
    if (out.cancelled && out.error.empty()) out.error = "cancelled";
    if (out.expert.empty() && pool && task.kind != TaskKind::generate) out.expert = pool->active();
    refresh_snapshot();
    call_back(task.callbacks.on_finished, out);
    std::lock_guard lock(mutex);
    running_cancel.erase(task.id);
    ++finished;
    changed.notify_all();
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
        // Between steps: administrative requests in order, then waiting generate requests
        // in arrival order while the batch has room.
        for (;;) {
            Task task;
            {
                std::unique_lock lock(mutex);
                if (seqs.empty()) work.wait(lock, [&] { return stopping || !queue.empty(); });
                if (queue.empty()) break;
                const Task& front = queue.front();
                if (front.kind == TaskKind::generate && !load_error && !front.cancel->cancelled() &&
                    (static_cast<int>(seqs.size()) >= std::max(1, options.max_batch)))
                    break;
                // A switch waits for the requests before it (it sets what they run with).
                if (front.kind == TaskKind::switch_to && !seqs.empty() &&
                    !front.cancel->cancelled())
                    break;
                task = std::move(queue.front());
                queue.pop_front();
                running_cancel[task.id] = task.cancel;
            }
            if (load_error) {
                RequestOutcome out;
                out.id = task.id;
                try {
                    std::rethrow_exception(load_error);
                } catch (...) {
                    fail_from_current(out);
                }
                finish_task(task, out);
                continue;
            }
            if (task.kind != TaskKind::generate) {
                RequestOutcome out;
                out.id = task.id;
                try {
                    run_admin(task, out);
                } catch (...) {
                    fail_from_current(out);
                }
                finish_task(task, out);
                continue;
            }
            if (!admit(task)) {
                // No room yet: back to the front, in its place.
                std::lock_guard lock(mutex);
                running_cancel.erase(task.id);
                queue.push_front(std::move(task));
                break;
            }
        }
        {
            std::lock_guard lock(mutex);
            if (stopping && queue.empty() && seqs.empty()) break;
        }
        if (seqs.empty()) {
            std::lock_guard lock(mutex);
            if (stopping && queue.empty()) break;
            continue;
        }
        step();
        std::lock_guard lock(mutex);
        running_count = seqs.size();
    }
    parked.clear();
    router.reset();
    sides.clear();
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
        for (auto& [id, c] : impl_->running_cancel) c->cancel();
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
    const auto it = impl_->running_cancel.find(id);
    if (it != impl_->running_cancel.end()) it->second->cancel();
    for (Task& t : impl_->queue)
        if (t.id == id) t.cancel->cancel();
    impl_->work.notify_all();
}

void Engine::cancel_all() {
    std::lock_guard lock(impl_->mutex);
    for (auto& [id, c] : impl_->running_cancel) c->cancel();
    for (Task& t : impl_->queue) t.cancel->cancel();
    impl_->work.notify_all();
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
    return impl_->running_count;
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
