// SafetensorsFile: a memory-mapped, fully validated safetensors file.

#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <system_error>

#include "io/strict_json.h"
#include "meswitch/error.h"

namespace fs = std::filesystem;

namespace meswitch::io {

namespace {

using json = nlohmann::ordered_json;

std::string errno_message(int err) {
    return std::error_code(err, std::generic_category()).message();
}

// Safetensors dtypes this engine knows but cannot compute with: refused as unsupported
// rather than malformed, so the user learns the file is fine but the type is not handled.
bool is_known_unsupported_dtype(std::string_view name) {
    static constexpr std::string_view known[] = {
        "BOOL",    "I16", "U16",     "U32",     "U64", "F8_E4M3",     "F8_E5M2",
        "F8_E8M0", "F4",  "F6_E2M3", "F6_E3M2", "C64", "F8_E4M3FNUZ", "F8_E5M2FNUZ"};
    return std::find(std::begin(known), std::end(known), name) != std::end(known);
}

std::string offsets_string(std::uint64_t begin, std::uint64_t end) {
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
    TensorView v;
    v.shape = shape;
    return v.shape_string();
}

}  // namespace

struct SafetensorsFile::Impl {
    fs::path path;
    std::string label;  // the path as the user gave it, for messages
    const std::byte* map = nullptr;
    std::size_t map_size = 0;
    std::uint64_t data_start = 0;
    std::uint64_t data_size = 0;
    std::vector<TensorInfo> tensors;
    std::map<std::string, std::size_t, std::less<>> by_name;
    std::map<std::string, std::string> metadata;

    ~Impl() {
        if (map) ::munmap(const_cast<std::byte*>(map), map_size);
    }

    [[noreturn]] void fail(const std::string& problem) const {
        throw Error(ErrorKind::format, label + ": " + problem);
    }

    void map_file();
    void parse_header();
    TensorInfo parse_entry(const std::string& name, const json& entry) const;
    void check_coverage() const;
};

void SafetensorsFile::Impl::map_file() {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        throw Error(ErrorKind::io, label + ": cannot open: " + errno_message(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error(ErrorKind::io, label + ": cannot read file size: " + errno_message(err));
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw Error(ErrorKind::io, label + ": is a folder, not a safetensors file");
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(ErrorKind::io, label + ": is not a regular file");
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size < 8) {
        ::close(fd);
        fail("file is " + std::to_string(size) +
             " bytes, too short for a safetensors file (it starts with an 8-byte header length)");
    }
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (p == MAP_FAILED)
        throw Error(ErrorKind::io, label + ": cannot memory-map " + std::to_string(size) +
                                       " bytes: " + errno_message(err));
    map = static_cast<const std::byte*>(p);
    map_size = size;
}

void SafetensorsFile::Impl::parse_header() {
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | std::uint64_t(map[i]);
    if (header_len == 0) fail("header length is 0 (the JSON header is missing)");
    if (header_len > map_size - 8)
        fail("header length " + std::to_string(header_len) + " exceeds the file size (" +
             std::to_string(map_size) + " bytes); the file is truncated or not safetensors");
    if (header_len > max_header_bytes)
        fail("header length " + std::to_string(header_len) + " exceeds the limit of " +
             std::to_string(max_header_bytes) + " bytes");
    data_start = 8 + header_len;
    data_size = map_size - data_start;

    const std::string_view text(reinterpret_cast<const char*>(map) + 8, header_len);
    StrictJsonOptions options;
    options.label = label;
    options.what = "header";
    options.max_depth = 8;
    options.duplicate_message = [this](const std::string& key, int depth) {
        if (depth == 1) return label + ": duplicate tensor name '" + key + "' in the header";
        return label + ": the header repeats the key '" + key + "' inside one entry";
    };
    const json header = parse_strict_json(text, options);
    if (!header.is_object())
        fail(std::string("header is JSON ") + header.type_name() + ", expected an object");

    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object())
                fail(std::string("__metadata__ is ") + entry.type_name() +
                     ", expected an object of strings");
            for (const auto& [key, value] : entry.items()) {
                if (!value.is_string())
                    fail("__metadata__ value of '" + key + "' is " + value.type_name() +
                         ", expected a string");
                metadata.emplace(key, value.get<std::string>());
            }
            continue;
        }
        tensors.push_back(parse_entry(name, entry));
        by_name.emplace(name, tensors.size() - 1);
    }
    check_coverage();
}

TensorInfo SafetensorsFile::Impl::parse_entry(const std::string& name, const json& entry) const {
    const std::string what = "tensor '" + name + "'";
    if (!entry.is_object())
        fail(what + " is described by JSON " + entry.type_name() + ", expected an object");
    TensorInfo info;
    info.name = name;

    const auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end()) fail(what + " has no dtype");
    if (!dtype_it->is_string()) fail(what + " has a dtype that is not a string");
    const auto& dtype_name_text = dtype_it->get_ref<const std::string&>();
    const auto dtype = parse_dtype(dtype_name_text);
    if (!dtype) {
        if (is_known_unsupported_dtype(dtype_name_text))
            throw Error(ErrorKind::unsupported, label + ": " + what + " has unsupported dtype " +
                                                    dtype_name_text +
                                                    " (supported: F32 F16 BF16 I8 U8 I32 I64 F64)");
        fail(what + " has unknown dtype '" + dtype_name_text + "'");
    }
    info.dtype = *dtype;

    const auto shape_it = entry.find("shape");
    if (shape_it == entry.end()) fail(what + " has no shape");
    if (!shape_it->is_array()) fail(what + " has a shape that is not an array");
    std::uint64_t numel = 1;
    bool overflow = false;
    for (const auto& dim : *shape_it) {
        if (dim.is_number_unsigned()) {
            const auto d = dim.get<std::uint64_t>();
            if (d > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                fail(what + " has shape dimension " + std::to_string(d) + ", which is too large");
            info.shape.push_back(std::int64_t(d));
            overflow = overflow || __builtin_mul_overflow(numel, d, &numel);
        } else if (dim.is_number_integer()) {
            fail(what + " has negative shape dimension " + std::to_string(dim.get<std::int64_t>()));
        } else {
            fail(what + " has shape dimension " + json_excerpt(dim.dump()) +
                 ", expected a non-negative integer");
        }
    }
    std::uint64_t nbytes = 0;
    if (overflow || numel > std::uint64_t(std::numeric_limits<std::int64_t>::max()) ||
        __builtin_mul_overflow(numel, std::uint64_t(dtype_size(info.dtype)), &nbytes))
        fail(what + " has shape " + shape_text(info.shape) + " whose element count overflows");

    const auto off_it = entry.find("data_offsets");
    if (off_it == entry.end()) fail(what + " has no data_offsets");
    if (!off_it->is_array() || off_it->size() != 2 || !(*off_it)[0].is_number_unsigned() ||
        !(*off_it)[1].is_number_unsigned())
        fail(what + " has data_offsets " + json_excerpt(off_it->dump()) +
             ", expected [begin, end] with non-negative integers");
    info.begin = (*off_it)[0].get<std::uint64_t>();
    info.end = (*off_it)[1].get<std::uint64_t>();
    const std::string offsets = offsets_string(info.begin, info.end);
    if (info.begin > info.end) fail(what + " has data_offsets " + offsets + " with begin > end");
    if (info.end > data_size)
        fail(what + " has data_offsets " + offsets + " beyond the data area (" +
             std::to_string(data_size) + " bytes); the file is truncated or corrupt");
    if (info.end - info.begin != nbytes)
        fail(what + " has shape " + shape_text(info.shape) + " of " + dtype_name(info.dtype) +
             " (" + std::to_string(nbytes) + " bytes) but data_offsets " + offsets + " span " +
             std::to_string(info.end - info.begin) + " bytes");
    return info;
}

// The format requires the tensors to tile the data area exactly, as the reference
// implementation checks: sorted by offsets, each tensor begins where the previous one ended
// (an empty tensor occupies the point where it sits) and the last ends at the end of the file.
// So a hole, an overlap, or bytes inserted into or appended to the data area (which shift
// every tensor after them) are refused instead of read as nonsense weights.
void SafetensorsFile::Impl::check_coverage() const {
    std::vector<const TensorInfo*> order;
    order.reserve(tensors.size());
    for (const auto& t : tensors) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    std::uint64_t covered = 0;         // bytes [0, covered) belong to the tensors so far
    const TensorInfo* last = nullptr;  // the tensor that ends at `covered`
    std::string hole;                  // the first hole; overlaps are reported before it
    for (const TensorInfo* t : order) {
        if (t->begin < covered)
            fail("tensor '" + t->name + "' data_offsets " + offsets_string(t->begin, t->end) +
                 " overlap tensor '" + last->name + "' " + offsets_string(last->begin, last->end));
        if (t->begin > covered && hole.empty())
            hole = "data area bytes [" + std::to_string(covered) + ", " + std::to_string(t->begin) +
                   ") belong to no tensor (a hole " +
                   (last ? "between tensor '" + last->name + "' and tensor '" + t->name + "'"
                         : "before tensor '" + t->name + "', the first") +
                   "); the file is damaged or its data_offsets are wrong";
        covered = t->end;
        last = t;
    }
    if (!hole.empty()) fail(hole);
    if (covered != data_size) {
        const std::uint64_t extra = data_size - covered;
        fail("the data area holds " + std::to_string(data_size) + " bytes but the tensors end at " +
             std::to_string(covered) +
             (last ? " (tensor '" + last->name + "' is the last)" : " (the header lists none)") +
             ": " + std::to_string(extra) + (extra == 1 ? " byte belongs" : " bytes belong") +
             " to no tensor; the file was changed after it was written (bytes inserted or "
             "appended?) or its data_offsets are wrong");
    }
}

SafetensorsFile::SafetensorsFile(const fs::path& file) : impl_(std::make_unique<Impl>()) {
    impl_->path = file;
    impl_->label = file.string();
    impl_->map_file();
    impl_->parse_header();
}

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;

const fs::path& SafetensorsFile::path() const {
    return impl_->path;
}
const std::vector<TensorInfo>& SafetensorsFile::tensors() const {
    return impl_->tensors;
}
const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
    return impl_->metadata;
}
std::uint64_t SafetensorsFile::data_bytes() const {
    return impl_->data_size;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
    const auto it = impl_->by_name.find(name);
    return it == impl_->by_name.end() ? nullptr : &impl_->tensors[it->second];
}

TensorView SafetensorsFile::view(const TensorInfo& info) const {
    if (info.begin > info.end || info.end > impl_->data_size)
        throw Error(ErrorKind::invalid_argument,
                    impl_->label + ": tensor '" + info.name + "' offsets " +
                        offsets_string(info.begin, info.end) + " do not belong to this file");
    TensorView v;
    v.dtype = info.dtype;
    v.shape = info.shape;
    v.data = impl_->map + impl_->data_start + info.begin;
    v.nbytes = static_cast<std::size_t>(info.end - info.begin);
    return v;
}

TensorView SafetensorsFile::view(std::string_view name) const {
    const TensorInfo* info = find(name);
    if (!info)
        throw Error(ErrorKind::not_found,
                    impl_->label + ": no tensor named '" + std::string(name) + "'");
    return view(*info);
}

void release_pages(const void* data, std::size_t bytes) {
    if (!data || bytes == 0) return;
    static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    // Whole pages only: a page shared with a neighbouring tensor is left alone.
    const auto begin = (reinterpret_cast<std::uintptr_t>(data) + page - 1) / page * page;
    const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) / page * page;
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace meswitch::io
