// A small fixed-size pool of worker threads for data-parallel loops (GEMV rows, GEMM
// tiles, attention heads). The calling thread takes part in every loop, so a pool of
// size 1 runs everything inline with no thread at all.
//
// A decode step is a few hundred short loops (one per linear layer, a few hundred µs each),
// so starting a loop must cost next to nothing: after a loop, workers spin (with a pause,
// yielding to other threads now and then) for a short while before they sleep on a
// condition variable, and the caller spins on the loop's completion the same way. Waking a
// sleeping thread costs a futex call and, on a virtual machine, an interrupt to a halted CPU
// (measured 20 µs a loop here); a spinning one sees the new loop within a few hundred ns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
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
    std::mutex call_mutex_;  // one parallel_for at a time per pool

    // The current loop, published by the release increment of generation_.
    const std::function<void(std::size_t, std::size_t)>* fn_ = nullptr;
    std::size_t n_ = 0;
    std::size_t chunk_ = 1;
    std::atomic<std::size_t> next_{0};  // next chunk start
    std::atomic<std::uint64_t> generation_{0};
    // Workers inside the current loop. A worker joins a loop by counting itself here and then
    // checking that the loop is still open; the caller closes it (closed_ = its generation)
    // once every chunk is claimed, and waits only for the workers that joined. So a worker
    // that the OS has not run yet (a busy machine) never holds the loop up.
    std::atomic<int> busy_{0};
    std::atomic<std::uint64_t> closed_{0};
    std::atomic<bool> stop_{false};
    std::atomic<bool> failed_{false};
    std::mutex error_mutex_;
    std::exception_ptr error_;

    // Sleeping: workers wait on wake_ for a new generation; the caller on done_ for busy_ == 0.
    // The counters tell the other side whether a notify is needed (both sides use sequentially
    // consistent atomics, so one of them always sees the other).
    std::mutex sleep_mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::atomic<int> sleeping_workers_{0};
    std::atomic<bool> caller_sleeping_{false};
};

}  // namespace meswitch
