// Safetensors: a validated, memory-mapped reader for single files and sharded checkpoints,
// and a writer that writes to a temporary name and renames.
// Format: 8-byte little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data area; offsets are relative to the start of the data area.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/tensor.h"

namespace meswitch::io {

struct TensorInfo {
    std::string name;
    DType dtype = DType::f32;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0;  // offsets within the data area
    std::uint64_t end = 0;
};

// One safetensors file, memory-mapped read-only and fully validated when opened: header
// length within the file and below max_header_bytes, well-formed JSON without repeated keys
// at any depth, known dtypes, shape × dtype size (overflow-checked) equal to each tensor's
// byte length, unique names, and — as the format requires — the tensors' data_offsets tile
// the data area exactly (no hole, no overlap, the last tensor ends at the end of the file).
// Any violation throws Error(format) naming the file, the tensor and the problem; a valid
// dtype this engine cannot hold (F8_E4M3, BOOL, U16, ...) throws Error(unsupported); a
// missing or unreadable file throws Error(io).
// Views point into the read-only mapping and live as long as this object (moves keep them).
// Files written by `safetensors` are 8-byte aligned, but the format does not promise it:
// read elements with convert_to_f32 or memcpy rather than by casting view.data.
// Drops this process's page-table entries for a range of a read-only file mapping (a view's
// data): the page cache keeps the bytes and the next read faults them back in. What keeps the
// resident set bounded while a pass streams checkpoints larger than memory (hashing,
// compression): without it every page read once stays counted until the mapping goes.
void release_pages(const void* data, std::size_t bytes);

class SafetensorsFile {
public:
    static constexpr std::uint64_t max_header_bytes = 100ull << 20;

    explicit SafetensorsFile(const std::filesystem::path& file);
    ~SafetensorsFile();
    SafetensorsFile(SafetensorsFile&&) noexcept;
    SafetensorsFile& operator=(SafetensorsFile&&) noexcept;

    const std::filesystem::path& path() const;
    const std::vector<TensorInfo>& tensors() const;  // in header order
    const TensorInfo* find(std::string_view name) const;
    TensorView view(const TensorInfo& info) const;
    TensorView view(std::string_view name) const;  // throws Error(not_found) naming file and tensor
    const std::map<std::string, std::string>& metadata() const;
    std::uint64_t data_bytes() const;  // size of the data area

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A model's weights: `model.safetensors`, or shards listed by `model.safetensors.index.json`
// (every shard is opened and validated; the index must agree with the shards), or one
// explicit .safetensors file. Pickled checkpoints (`pytorch_model.bin`, `*.pt`, `*.pth`,
// `*.ckpt`) are refused with Error(unsupported) explaining why and how to convert them.
// Shard names in the index must be plain file names in the folder (Error(format)); a missing
// shard or a folder without weights is Error(not_found).
class Checkpoint {
public:
    explicit Checkpoint(const std::filesystem::path& folder_or_file);
    ~Checkpoint();
    Checkpoint(Checkpoint&&) noexcept;
    Checkpoint& operator=(Checkpoint&&) noexcept;

    const std::vector<std::filesystem::path>& files() const;
    std::vector<std::string> tensor_names() const;  // sorted
    bool contains(std::string_view name) const;
    const TensorInfo& info(std::string_view name) const;  // throws Error(not_found)
    TensorView view(std::string_view name) const;         // throws Error(not_found)
    const SafetensorsFile& file_of(std::string_view name) const;
    const std::vector<SafetensorsFile>& shards() const;
    std::uint64_t total_data_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One tensor to write. `fill` (when set) streams the bytes instead of `data`: it is called
// once with a buffer of exactly nbytes to fill, so large outputs never need a second copy.
struct TensorToWrite {
    std::string name;
    DType dtype = DType::f32;
    std::vector<std::int64_t> shape;
    const void* data = nullptr;
    std::function<void(std::byte* out, std::size_t nbytes)> fill;
};

// Writes `tensors` (in the order given, header padded with spaces so the data starts 64-byte
// aligned) and `metadata` to `path` through a temporary file in the same folder, fsync and rename,
// so a crash or a full disk never leaves a truncated file under the final name. Throws Error(io)
// naming the file (e.g. "no space left on device") and removes the temporary file.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace meswitch::io
