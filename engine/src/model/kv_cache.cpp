// Float32 key/value cache, one contiguous block of `capacity` rows per layer.
#include <new>

#include "meswitch/error.h"
#include "meswitch/model.h"

namespace meswitch {

KvCache::KvCache(const ModelConfig& config, std::int64_t capacity)
    : layers_(config.num_hidden_layers), capacity_(capacity), kv_dim_(config.kv_dim()) {
    if (capacity <= 0)
        throw Error(ErrorKind::invalid_argument,
                    "KV cache capacity must be positive (got " + std::to_string(capacity) + ")");
    const std::size_t n = static_cast<std::size_t>(layers_) * static_cast<std::size_t>(capacity_) *
                          static_cast<std::size_t>(kv_dim_);
    try {
        keys_.resize(n);
        values_.resize(n);
    } catch (const std::bad_alloc&) {
        throw Error(ErrorKind::out_of_memory, "KV cache of " + std::to_string(capacity) +
                                                  " positions needs " +
                                                  std::to_string(2 * n * sizeof(float) >> 20) +
                                                  " MiB, which is not available");
    }
}

void KvCache::truncate(std::int64_t new_size) {
    if (new_size < 0 || new_size > size_)
        throw Error(ErrorKind::invalid_argument, "KV cache: cannot truncate " +
                                                     std::to_string(size_) + " positions to " +
                                                     std::to_string(new_size));
    size_ = new_size;
}

void KvCache::set_size(std::int64_t size) {
    if (size < 0 || size > capacity_)
        throw Error(ErrorKind::invalid_argument, "KV cache: size " + std::to_string(size) +
                                                     " is outside its capacity " +
                                                     std::to_string(capacity_));
    size_ = size;
}

}  // namespace meswitch
