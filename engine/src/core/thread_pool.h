// A small fixed-size pool of worker threads for data-parallel loops (GEMV rows, GEMM
// tiles, attention heads). The calling thread takes part in every loop, so a pool of
// size 1 runs everything inline with no thread at all.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace meswitch {

class ThreadPool {
public:
    // threads <= 0: std::thread::hardware_concurrency() (at least 1).
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Calls fn(begin, end) on disjoint ranges covering [0, n); every range except the last
    // is a multiple of `grain` long. Returns when all ranges are done; the first exception
    // thrown by fn is rethrown here. A parallel_for called from inside a running loop runs
    // inline on the calling thread (no deadlock, no oversubscription).
    void parallel_for(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn,
                      std::size_t grain = 1);

    static int default_threads();

private:
    void worker_loop();
    void run_chunks();

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::mutex call_mutex_;  // one parallel_for at a time per pool

    // The current job (guarded by mutex_ for publication; chunk claiming is atomic).
    const std::function<void(std::size_t, std::size_t)>* fn_ = nullptr;
    std::size_t n_ = 0;
    std::size_t chunk_ = 1;
    std::size_t next_ = 0;  // next chunk start, claimed under mutex_
    std::size_t generation_ = 0;
    int busy_ = 0;  // workers still inside the current job
    bool stop_ = false;
    std::exception_ptr error_;
};

}  // namespace meswitch
