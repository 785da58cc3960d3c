#include "import/content_hash.h"

#include <xxhash.h>

#include <cstdio>
#include <memory>

#include "meswitch/error.h"

namespace meswitch {

namespace {

struct StateDeleter {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

constexpr std::size_t kChunk = 8u << 20;  // progress and cancel granularity

}  // namespace

std::string content_hash(const io::Checkpoint& checkpoint, const ProgressFn& progress,
                         const CancelToken* cancel) {
    std::unique_ptr<XXH3_state_t, StateDeleter> state(XXH3_createState());
    if (!state || XXH3_128bits_reset(state.get()) == XXH_ERROR)
        throw Error(ErrorKind::out_of_memory, "cannot allocate the hash state");

    const std::uint64_t total = checkpoint.total_data_bytes();
    std::uint64_t done = 0;
    for (const auto& name : checkpoint.tensor_names()) {
        const TensorView view = checkpoint.view(name);
        const std::string head = name + '\0' + dtype_name(view.dtype) + '\0' + view.shape_string();
        XXH3_128bits_update(state.get(), head.data(), head.size() + 1);
        for (std::size_t off = 0; off < view.nbytes; off += kChunk) {
            if (cancel)
                cancel->throw_if_cancelled("hashing " + checkpoint.file_of(name).path().string());
            const std::size_t n = std::min(kChunk, view.nbytes - off);
            XXH3_128bits_update(state.get(), view.data + off, n);
            done += n;
            if (progress) progress(total ? double(done) / double(total) : 1.0, name);
        }
        io::release_pages(view.data, view.nbytes);  // read once: RSS stays bounded (7B pairs)
    }
    const XXH128_hash_t h = XXH3_128bits_digest(state.get());
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return hex;
}

}  // namespace meswitch
