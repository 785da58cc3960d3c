#include "core/thread_pool.h"

#include <algorithm>

namespace meswitch {

namespace {
thread_local bool t_inside_pool = false;
}

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
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks() {
    for (;;) {
        std::size_t begin;
        {
            std::lock_guard lock(mutex_);
            if (next_ >= n_ || error_) return;
            begin = next_;
            next_ = std::min(n_, next_ + chunk_);
        }
        const std::size_t end = std::min(n_, begin + chunk_);
        try {
            (*fn_)(begin, end);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!error_) error_ = std::current_exception();
            return;
        }
    }
}

void ThreadPool::worker_loop() {
    t_inside_pool = true;
    std::size_t seen = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
        }
        run_chunks();
        {
            std::lock_guard lock(mutex_);
            if (--busy_ == 0) done_.notify_one();
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
    // About two chunks per thread: balances a busy core against keeping each thread's
    // weight rows contiguous for the prefetchers.
    const std::size_t threads = workers_.size() + 1;
    std::size_t chunk = (n + 2 * threads - 1) / (2 * threads);
    chunk = (chunk + grain - 1) / grain * grain;
    {
        std::lock_guard lock(mutex_);
        fn_ = &fn;
        n_ = n;
        chunk_ = chunk;
        next_ = 0;
        error_ = nullptr;
        busy_ = static_cast<int>(workers_.size());
        ++generation_;
    }
    wake_.notify_all();
    t_inside_pool = true;
    run_chunks();
    t_inside_pool = false;
    std::exception_ptr error;
    {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return busy_ == 0; });
        fn_ = nullptr;
        error = error_;
        error_ = nullptr;
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace meswitch
