// Helpers shared by the libFuzzer targets: a private scratch folder for the readers that take
// a path, an invariant check that stops the fuzzer with a message, a UTF-8 validity check and
// the fixtures folder. Header-only: each target is one .cpp linked with the engine.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace meswitch::fuzz {

// A folder of its own for this process: $MESWITCH_FUZZ_TMP (scripts/fuzz.sh points it at a
// folder in /dev/shm), else /dev/shm, else the system temporary folder. Removed at exit.
class ScratchDir {
public:
    ScratchDir() {
        namespace fs = std::filesystem;
        fs::path base;
        if (const char* env = std::getenv("MESWITCH_FUZZ_TMP"); env && *env)
            base = env;
        else if (std::error_code ec; fs::is_directory("/dev/shm", ec))
            base = "/dev/shm";
        else
            base = fs::temp_directory_path();
        std::string pattern = (base / "meswitch-fuzz-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) {
            std::perror(pattern.c_str());
            std::abort();
        }
        dir_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::filesystem::path& path() const { return dir_; }
    std::filesystem::path operator/(std::string_view name) const { return dir_ / name; }

private:
    std::filesystem::path dir_;
};

// The process's scratch folder (made at the first call).
inline ScratchDir& scratch() {
    static ScratchDir dir;
    return dir;
}

// Replaces `file` with exactly these bytes (unlink first: rewriting in place forces a flush on
// some file systems). A failure to write is a broken fuzzing setup, not a finding: abort.
inline void write_file(const std::filesystem::path& file, const void* data, std::size_t size) {
    ::unlink(file.c_str());
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::perror(file.c_str());
        std::abort();
    }
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n <= 0) {
            std::perror(file.c_str());
            std::abort();
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    ::close(fd);
}

// An invariant of the engine's documented behaviour does not hold: report and crash, so that
// libFuzzer saves the input.
[[noreturn]] inline void invariant_failed(const char* file, int line, const char* what) {
    std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
    std::abort();
}

#define FUZZ_CHECK(cond)                                                            \
    do {                                                                            \
        if (!(cond)) ::meswitch::fuzz::invariant_failed(__FILE__, __LINE__, #cond); \
    } while (0)

// True when `s` is well-formed UTF-8 (no surrogates, no overlong forms, at most U+10FFFF).
inline bool is_valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (s.size() - i <= n) return false;  // truncated sequence
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

// Keeps the optimiser from dropping reads whose only purpose is to let ASan check them.
inline void consume(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    unsigned sum = 0;
    for (std::size_t i = 0; i < size; ++i) sum += p[i];
    asm volatile("" : : "r"(sum) : "memory");
}
inline void consume(std::string_view s) {
    consume(s.data(), s.size());
}

// The shared fixtures folder: $MESWITCH_FIXTURES, else the path configured at build time;
// nullopt when `sub` is absent there (targets that use fixtures fall back to built-in data).
inline std::optional<std::filesystem::path> fixture(std::string_view sub) {
    std::filesystem::path base;
    if (const char* env = std::getenv("MESWITCH_FIXTURES"); env && *env)
        base = env;
    else
        base = MESWITCH_FUZZ_FIXTURES_DIR;
    std::error_code ec;
    const auto p = base / sub;
    if (std::filesystem::exists(p, ec)) return p;
    return std::nullopt;
}

}  // namespace meswitch::fuzz
