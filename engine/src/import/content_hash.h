// A model's content hash: XXH3-128 over every tensor's name, dtype, shape and bytes, in
// name order, so the same weights hash the same whatever the sharding or file layout.
#pragma once

#include <string>

#include "io/safetensors.h"
#include "meswitch/progress.h"

namespace meswitch {

// Streams the tensor data (memory-mapped, read once). Reports progress by bytes hashed and
// polls `cancel` between chunks. Returns 32 lowercase hex digits.
std::string content_hash(const io::Checkpoint& checkpoint, const ProgressFn& progress = {},
                         const CancelToken* cancel = nullptr);

}  // namespace meswitch
