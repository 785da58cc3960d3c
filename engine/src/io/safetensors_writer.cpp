// write_safetensors: tensors and metadata to a safetensors file, atomically.

#include <set>
#include <string>
#include <vector>

#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "io/strict_json.h"
#include "meswitch/error.h"

namespace fs = std::filesystem;

namespace meswitch::io {

namespace {

using json = nlohmann::ordered_json;

[[noreturn]] void refuse(const fs::path& path, const std::string& problem) {
    throw Error(ErrorKind::invalid_argument, "cannot write " + path.string() + ": " + problem);
}

std::uint64_t byte_size(const fs::path& path, const TensorToWrite& t) {
    const std::size_t elem = dtype_size(t.dtype);
    if (elem == 0) refuse(path, "tensor '" + t.name + "' has an invalid dtype");
    std::uint64_t n = elem;
    for (std::int64_t d : t.shape) {
        if (d < 0)
            refuse(path, "tensor '" + t.name + "' has negative dimension " + std::to_string(d));
        if (__builtin_mul_overflow(n, std::uint64_t(d), &n))
            refuse(path, "tensor '" + t.name + "' has a shape whose byte size overflows");
    }
    return n;
}

}  // namespace

void write_safetensors(const fs::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    json header = json::object();
    if (!metadata.empty()) {
        json meta = json::object();
        for (const auto& [key, value] : metadata) meta[key] = value;
        header["__metadata__"] = std::move(meta);
    }
    std::set<std::string_view> names;
    std::vector<std::uint64_t> sizes;
    std::uint64_t offset = 0;
    for (const auto& t : tensors) {
        if (t.name.empty()) refuse(path, "a tensor has an empty name");
        if (t.name == "__metadata__") refuse(path, "'__metadata__' is not a valid tensor name");
        if (!names.insert(t.name).second)
            refuse(path, "tensor name '" + t.name + "' is used twice");
        const std::uint64_t nbytes = byte_size(path, t);
        if (nbytes > 0 && !t.data && !t.fill)
            refuse(path, "tensor '" + t.name + "' has neither data nor a fill function");
        if (__builtin_add_overflow(offset, nbytes, &offset))
            refuse(path, "the tensors' total size overflows");
        header[t.name] = json{{"dtype", dtype_name(t.dtype)},
                              {"shape", t.shape},
                              {"data_offsets", {offset - nbytes, offset}}};
        sizes.push_back(nbytes);
    }

    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception&) {
        refuse(path, "a tensor name or metadata string is not valid UTF-8");
    }
    // Pad with spaces so the data area starts 64-byte aligned (8-byte length + header): the
    // tensors of a mapped file then start on cache lines where their sizes are whole lines
    // (the AMX kernels load rows of whole lines; unaligned rows are staged, a little slower).
    text.append((64 - (8 + text.size()) % 64) % 64, ' ');

    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(text.size() >> (8 * i));

    AtomicFile file(path);
    file.write(length, sizeof length);
    file.write(text.data(), text.size());
    std::vector<std::byte> buffer;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        const auto nbytes = static_cast<std::size_t>(sizes[i]);
        if (nbytes == 0) continue;
        if (t.fill) {
            buffer.resize(nbytes);
            t.fill(buffer.data(), nbytes);
            file.write(buffer.data(), nbytes);
        } else {
            file.write(t.data, nbytes);
        }
    }
    file.commit();
}

}  // namespace meswitch::io
