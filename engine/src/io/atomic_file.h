// Writing files safely: to a temporary name in the same folder, fsync, then rename.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace meswitch::io {

// An open temporary file that becomes `target` on commit(); destroyed uncommitted, the
// temporary file is removed. Errors throw Error(io) naming the target and the problem.
class AtomicFile {
public:
    explicit AtomicFile(const std::filesystem::path& target);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, std::size_t size);
    void commit();  // flush, fsync, rename over target, fsync the folder
    const std::filesystem::path& target() const { return target_; }

private:
    void discard() noexcept;  // closes and removes the temporary file unless committed

    std::filesystem::path target_;
    std::filesystem::path temp_;
    int fd_ = -1;
    bool committed_ = false;
};

// fsync of a folder, which makes a rename or link in it durable. Returns 0, or the errno
// (EINVAL where the file system cannot sync folders: durability is weaker, nothing failed).
int sync_folder(const std::filesystem::path& folder);

// Whole-content convenience for small files (JSON, configs).
void write_file_atomic(const std::filesystem::path& target, std::string_view content);

}  // namespace meswitch::io
