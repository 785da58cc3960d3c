#include "meswitch/paths.h"

#include <cstdlib>
#include <system_error>

#include "meswitch/error.h"

namespace fs = std::filesystem;

namespace meswitch {

static const char* non_empty_env(const char* name) {
    const char* v = std::getenv(name);
    return (v && *v) ? v : nullptr;
}

fs::path data_home(const std::optional<fs::path>& override_dir) {
    if (override_dir && !override_dir->empty()) return fs::absolute(*override_dir);
    if (const char* home = non_empty_env("MESWITCH_HOME")) return fs::absolute(home);
    if (const char* xdg = non_empty_env("XDG_DATA_HOME")) return fs::path(xdg) / "meswitch-studio";
    if (const char* home = non_empty_env("HOME"))
        return fs::path(home) / ".local" / "share" / "meswitch-studio";
    return fs::current_path() / ".meswitch-studio";
}

fs::path catalog_path(const fs::path& home) { return home / "catalog.sqlite"; }
fs::path log_dir(const fs::path& home) { return home / "logs"; }
fs::path deltas_dir(const fs::path& home) { return home / "deltas"; }

void ensure_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw Error(ErrorKind::io, "cannot create folder " + dir.string() + ": " +
                                       (ec ? ec.message() : std::string("not a directory")));
}

}  // namespace meswitch
