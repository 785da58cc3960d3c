// A caching device allocator with RAII buffers (one per device context, used from one
// thread at a time; a mutex keeps it safe anyway). Freed blocks go back to per-size free
// lists and are reused; when cudaMalloc fails the cached blocks are released and the
// allocation retried once. A request that still does not fit throws
// Error(out_of_memory) naming the request and the device's free memory; the allocator and
// everything already allocated stay usable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace meswitch::cuda {

class DeviceAllocator;

// An owned device allocation; returns its block to the allocator when destroyed. It keeps
// the allocator alive, so buffers may outlive the model that made them.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& o) noexcept;
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* get() const { return ptr_; }
    template <class T>
    T* as() const {
        return static_cast<T*>(ptr_);
    }
    std::size_t size() const { return size_; }  // bytes requested
    explicit operator bool() const { return ptr_ != nullptr; }
    void reset();

private:
    friend class DeviceAllocator;
    DeviceBuffer(std::shared_ptr<DeviceAllocator> owner, void* ptr, std::size_t size,
                 std::size_t block)
        : owner_(std::move(owner)), ptr_(ptr), size_(size), block_(block) {}
    std::shared_ptr<DeviceAllocator> owner_;
    void* ptr_ = nullptr;
    std::size_t size_ = 0;
    std::size_t block_ = 0;  // bytes of the underlying block
};

// Always held by a shared_ptr (create()): every live buffer shares ownership of it.
class DeviceAllocator : public std::enable_shared_from_this<DeviceAllocator> {
public:
    static std::shared_ptr<DeviceAllocator> create();
    ~DeviceAllocator();  // frees the cached blocks (runs after the last buffer is gone)
    DeviceAllocator(const DeviceAllocator&) = delete;
    DeviceAllocator& operator=(const DeviceAllocator&) = delete;

    // `what` names the allocation in an out-of-memory message ("KV cache", "layer 3 q_proj").
    DeviceBuffer allocate(std::size_t bytes, const std::string& what);
    void release_cached();  // returns every cached free block to the driver

    std::uint64_t bytes_in_use() const;  // live buffers (block sizes)
    std::uint64_t bytes_cached() const;  // free blocks kept for reuse

    // Block size a request is rounded to: 512 B granules up to 1 MiB, then 2 MiB granules.
    static std::size_t block_size(std::size_t bytes);

private:
    DeviceAllocator() = default;
    friend class DeviceBuffer;
    void give_back(void* ptr, std::size_t block) noexcept;

    mutable std::mutex mutex_;
    std::multimap<std::size_t, void*> free_;  // block size → pointer
    std::uint64_t in_use_ = 0, cached_ = 0;
};

}  // namespace meswitch::cuda
