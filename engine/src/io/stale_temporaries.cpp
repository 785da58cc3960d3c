#include "io/stale_temporaries.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <regex>

namespace fs = std::filesystem;

namespace meswitch::io {

std::optional<long> temporary_owner(const std::string& name) {
    static const std::regex pattern(R"(^\..+\.(tmp\.|importing\.|new-)([0-9]{1,10})[.-].*$)");
    std::smatch m;
    if (!std::regex_match(name, m, pattern)) return std::nullopt;
    return std::stol(m[2].str());
}

int remove_stale_temporaries(const fs::path& folder) {
    int removed = 0;
    std::error_code ec;
    fs::directory_iterator it(folder, ec);
    if (ec) return 0;
    for (const auto& entry : it) {
        const auto owner = temporary_owner(entry.path().filename().string());
        if (!owner || *owner <= 0) continue;
        // kill(pid, 0) fails with ESRCH only when no such process exists (EPERM: it exists).
        if (::kill(static_cast<pid_t>(*owner), 0) == 0 || errno != ESRCH) continue;
        std::error_code rm;
        fs::remove_all(entry.path(), rm);
        if (rm) {
            spdlog::warn("cannot remove {}, left by process {} that stopped mid-write: {}",
                         entry.path().string(), *owner, rm.message());
        } else {
            spdlog::info("removed {}, left by process {} that stopped mid-write",
                         entry.path().string(), *owner);
            ++removed;
        }
    }
    return removed;
}

}  // namespace meswitch::io
