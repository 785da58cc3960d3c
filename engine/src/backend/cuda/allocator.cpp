#include "backend/cuda/allocator.h"

#include <cuda_runtime_api.h>

#include "backend/cuda/device.h"
#include "meswitch/error.h"

namespace meswitch::cuda {

DeviceBuffer::~DeviceBuffer() {
    reset();
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : owner_(std::move(o.owner_)), ptr_(o.ptr_), size_(o.size_), block_(o.block_) {
    o.ptr_ = nullptr;
    o.size_ = o.block_ = 0;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        reset();
        owner_ = std::move(o.owner_);
        ptr_ = o.ptr_;
        size_ = o.size_;
        block_ = o.block_;
        o.ptr_ = nullptr;
        o.size_ = o.block_ = 0;
    }
    return *this;
}

void DeviceBuffer::reset() {
    if (ptr_ && owner_) owner_->give_back(ptr_, block_);
    owner_.reset();
    ptr_ = nullptr;
    size_ = block_ = 0;
}

std::size_t DeviceAllocator::block_size(std::size_t bytes) {
    if (bytes == 0) bytes = 1;
    constexpr std::size_t small = 512, large = 2u << 20;
    if (bytes <= (1u << 20)) return (bytes + small - 1) / small * small;
    return (bytes + large - 1) / large * large;
}

std::shared_ptr<DeviceAllocator> DeviceAllocator::create() {
    return std::shared_ptr<DeviceAllocator>(new DeviceAllocator());
}

DeviceAllocator::~DeviceAllocator() {
    release_cached();
}

DeviceBuffer DeviceAllocator::allocate(std::size_t bytes, const std::string& what) {
    const std::size_t block = block_size(bytes);
    std::lock_guard lock(mutex_);
    // Reuse a cached block of the same size class (or up to 1/8 larger for big blocks).
    auto it = free_.lower_bound(block);
    if (it != free_.end() && it->first <= block + block / 8) {
        void* p = it->second;
        const std::size_t got = it->first;
        free_.erase(it);
        cached_ -= got;
        in_use_ += got;
        return DeviceBuffer(shared_from_this(), p, bytes, got);
    }
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, block);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        for (auto& [size, ptr] : free_) cudaFree(ptr);
        free_.clear();
        cached_ = 0;
        err = cudaMalloc(&p, block);
    }
    if (err != cudaSuccess) {
        cudaGetLastError();  // clear, so the context stays usable
        std::size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        cudaGetLastError();
        const std::string place = what.empty() ? std::string("device memory") : what;
        if (err == cudaErrorMemoryAllocation)
            throw Error(ErrorKind::out_of_memory, "CUDA out of memory: could not allocate " +
                                                      format_mib(bytes) + " for " + place + " (" +
                                                      format_mib(free_b) + " free of " +
                                                      format_mib(total_b) + " on the device)");
        throw Error(ErrorKind::device, "cudaMalloc of " + format_mib(bytes) + " for " + place +
                                           " failed: " + cudaGetErrorString(err));
    }
    in_use_ += block;
    return DeviceBuffer(shared_from_this(), p, bytes, block);
}

void DeviceAllocator::give_back(void* ptr, std::size_t block) noexcept {
    std::lock_guard lock(mutex_);
    in_use_ -= block;
    cached_ += block;
    free_.emplace(block, ptr);
}

void DeviceAllocator::release_cached() {
    std::lock_guard lock(mutex_);
    for (auto& [size, ptr] : free_) cudaFree(ptr);
    free_.clear();
    cached_ = 0;
}

std::uint64_t DeviceAllocator::bytes_in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_;
}

std::uint64_t DeviceAllocator::bytes_cached() const {
    std::lock_guard lock(mutex_);
    return cached_;
}

}  // namespace meswitch::cuda
