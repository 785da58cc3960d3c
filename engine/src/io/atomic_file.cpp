// AtomicFile: write to a temporary name in the target's folder, fsync, rename.

#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>

#include "meswitch/error.h"

namespace fs = std::filesystem;

namespace meswitch::io {

namespace {

std::string errno_message(int err) {
    return std::error_code(err, std::generic_category()).message();
}

[[noreturn]] void throw_write_error(const fs::path& target, int err) {
    if (err == ENOSPC || err == EDQUOT) {
        throw Error(ErrorKind::io, "cannot write " + target.string() + ": no space left on device" +
                                       (err == EDQUOT ? " (disk quota exceeded)" : ""));
    }
    throw Error(ErrorKind::io, "cannot write " + target.string() + ": " + errno_message(err));
}

fs::path folder_of(const fs::path& target) {
    fs::path parent = target.parent_path();
    return parent.empty() ? fs::path(".") : parent;
}

}  // namespace

AtomicFile::AtomicFile(const fs::path& target) : target_(target) {
    static std::atomic<unsigned> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    for (int attempt = 0; attempt < 100; ++attempt) {
        const std::string suffix = ".tmp." + std::to_string(::getpid()) + "." +
                                   std::to_string(counter.fetch_add(1)) + "." +
                                   std::to_string(static_cast<unsigned long long>(stamp) % 100000);
        temp_ = folder_of(target) / ("." + target.filename().string() + suffix);
        // 0666 before the umask, like any new file; mkstemp's 0600 would surprise users.
        fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd_ >= 0) return;
        if (errno != EEXIST) {
            const int err = errno;
            throw Error(ErrorKind::io, "cannot create " + target.string() + ": " +
                                           errno_message(err) + " (temporary file " +
                                           temp_.string() + ")");
        }
    }
    throw Error(ErrorKind::io,
                "cannot create " + target.string() + ": no free temporary file name in its folder");
}

AtomicFile::~AtomicFile() {
    discard();
}

void AtomicFile::discard() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (!committed_ && !temp_.empty()) {
        ::unlink(temp_.c_str());
        temp_.clear();
    }
}

void AtomicFile::write(const void* data, std::size_t size) {
    if (fd_ < 0)
        throw Error(ErrorKind::invalid_argument,
                    "cannot write " + target_.string() + ": the file is already closed");
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const std::size_t chunk = size < (std::size_t(1) << 30) ? size : (std::size_t(1) << 30);
        const ssize_t n = ::write(fd_, p, chunk);
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) continue;
            discard();  // free the space now, not when the caller gets round to it
            throw_write_error(target_, err);
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

void AtomicFile::commit() {
    if (fd_ < 0)
        throw Error(ErrorKind::invalid_argument,
                    "cannot commit " + target_.string() + ": the file is already closed");
    if (::fsync(fd_) != 0) {
        const int err = errno;
        discard();
        throw_write_error(target_, err);
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
        const int err = errno;
        discard();
        throw_write_error(target_, err);
    }
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
        const int err = errno;
        discard();
        throw Error(ErrorKind::io, "cannot write " + target_.string() + ": renaming " +
                                       temp_.string() + " failed: " + errno_message(err));
    }
    committed_ = true;
    // Make the rename itself durable. Some file systems cannot fsync a folder (EINVAL);
    // that only weakens durability, so it is not an error, but a failing disk (EIO) is.
    if (const int err = sync_folder(folder_of(target_)); err == EIO)
        throw Error(ErrorKind::io, "cannot write " + target_.string() +
                                       ": syncing its folder failed: " + errno_message(err));
}

int sync_folder(const fs::path& folder) {
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    const int rc = ::fsync(dir);
    const int err = errno;
    ::close(dir);
    return rc == 0 ? 0 : err;
}

void write_file_atomic(const fs::path& target, std::string_view content) {
    AtomicFile file(target);
    file.write(content.data(), content.size());
    file.commit();
}

}  // namespace meswitch::io
