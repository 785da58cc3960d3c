// Logging: spdlog, a rotating file in the data folder, optionally stderr too.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace meswitch {

struct LogOptions {
    std::filesystem::path dir;   // empty: no file sink
    bool to_stderr = true;
    std::string level = "info";  // trace, debug, info, warn, error, critical, off
};

// Installs the default logger. Safe to call again (replaces the sinks).
void init_logging(const LogOptions& options);
void set_log_level(std::string_view level);  // throws Error(invalid_argument) on an unknown name
std::filesystem::path log_file_path(const std::filesystem::path& dir);  // dir/meswitch.log

}  // namespace meswitch
