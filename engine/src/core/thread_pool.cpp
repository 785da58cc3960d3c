#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace meswitch {

namespace {

thread_local bool t_inside_pool = false;

// How long a thread waits for the next loop (a worker) or for the loop's end (the caller)
// by spinning before it sleeps. Long enough to cover the serial work between the loops of a
// forward pass, short enough that an idle pool costs nothing measurable.
constexpr auto spin_time = std::chrono::microseconds(300);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Spins until ready() or the spin time is over; returns ready(). Yields now and then, so a
// spinning thread on an oversubscribed machine lets the thread with the work run.
template <class Ready>
bool spin_until(const Ready& ready) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + spin_time;
    for (unsigned i = 1;; ++i) {
        if (ready()) return true;
        cpu_relax();
        if ((i & 63) == 0) {
            if (clock::now() >= deadline) return ready();
            if ((i & 255) == 0) std::this_thread::yield();
        }
    }
}

}  // namespace

int ThreadPool::default_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = default_threads();
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true);
    { std::lock_guard lock(sleep_mutex_); }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks() {
    for (;;) {
        if (failed_.load(std::memory_order_relaxed)) return;
        const std::size_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
        if (begin >= n_) return;
        const std::size_t end = std::min(n_, begin + chunk_);
        try {
            (*fn_)(begin, end);
        } catch (...) {
            std::lock_guard lock(error_mutex_);
            if (!error_) error_ = std::current_exception();
            failed_.store(true);
            return;
        }
    }
}

void ThreadPool::worker_loop() {
    t_inside_pool = true;
    std::uint64_t seen = 0;
    for (;;) {
        const auto fresh = [&] { return stop_.load() || generation_.load() != seen; };
        if (!spin_until(fresh)) {
            std::unique_lock lock(sleep_mutex_);
            sleeping_workers_.fetch_add(1);
            wake_.wait(lock, fresh);
            sleeping_workers_.fetch_sub(1);
        }
        if (stop_.load()) return;
        seen = generation_.load();
        // Join the loop, unless its caller has closed it: then every chunk is claimed and the
        // caller may already be publishing the next loop (fresh() sees that one).
        busy_.fetch_add(1);
        if (closed_.load() != seen && generation_.load() == seen) run_chunks();
        if (busy_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
            std::lock_guard lock(sleep_mutex_);
            done_.notify_one();
        }
    }
}

void ThreadPool::parallel_for(std::size_t n,
                              const std::function<void(std::size_t, std::size_t)>& fn,
                              std::size_t grain) {
    if (n == 0) return;
    grain = std::max<std::size_t>(grain, 1);
    if (workers_.empty() || t_inside_pool || n <= grain) {
        fn(0, n);
        return;
    }
    std::lock_guard call_lock(call_mutex_);
    // About eight chunks per thread: claiming one costs an atomic add, and the thread that
    // finishes first waits for at most one chunk of the other's (with two chunks a thread,
    // 1b f16 decode measured 1-3 % slower); each chunk's weight rows still stream contiguously.
    const std::size_t threads = workers_.size() + 1;
    std::size_t chunk = (n + 8 * threads - 1) / (8 * threads);
    chunk = (chunk + grain - 1) / grain * grain;
    fn_ = &fn;
    n_ = n;
    chunk_ = chunk;
    next_.store(0, std::memory_order_relaxed);
    failed_.store(false, std::memory_order_relaxed);
    const std::uint64_t generation = generation_.fetch_add(1) + 1;  // publishes the loop
    if (sleeping_workers_.load() > 0) {
        std::lock_guard lock(sleep_mutex_);
        wake_.notify_all();
    }
    t_inside_pool = true;
    run_chunks();
    t_inside_pool = false;
    // Every chunk is claimed: workers that have not joined yet stay out (see busy_), and
    // those that did finish their chunks.
    closed_.store(generation);
    const auto finished = [&] { return busy_.load() == 0; };
    if (!spin_until(finished)) {
        std::unique_lock lock(sleep_mutex_);
        caller_sleeping_.store(true);
        done_.wait(lock, finished);
        caller_sleeping_.store(false);
    }
    fn_ = nullptr;
    if (failed_.load()) {
        std::exception_ptr error;
        {
            std::lock_guard lock(error_mutex_);
            error = error_;
            error_ = nullptr;
        }
        std::rethrow_exception(error);
    }
}

}  // namespace meswitch
