// Progress reporting and cooperative cancellation for long engine work.
#pragma once

#include <atomic>
#include <functional>
#include <string_view>

namespace meswitch {

// Set from any thread; long-running engine work polls it between units of work
// (tensors, layers, tokens) and throws Error(ErrorKind::cancelled) when it is set.
class CancelToken {
public:
    void cancel() noexcept { flag_.store(true, std::memory_order_relaxed); }
    void reset() noexcept { flag_.store(false, std::memory_order_relaxed); }
    bool cancelled() const noexcept { return flag_.load(std::memory_order_relaxed); }
    // Throws Error(ErrorKind::cancelled) naming `what` when cancelled.
    void throw_if_cancelled(std::string_view what) const;

private:
    std::atomic<bool> flag_{false};
};

// fraction in [0, 1]; message says what is being done ("hashing model-00001-of-00002.safetensors").
using ProgressFn = std::function<void(double fraction, std::string_view message)>;

}  // namespace meswitch
