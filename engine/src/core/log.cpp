#include "meswitch/log.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "meswitch/error.h"
#include "meswitch/paths.h"

namespace meswitch {

std::filesystem::path log_file_path(const std::filesystem::path& dir) { return dir / "meswitch.log"; }

static spdlog::level::level_enum parse_level(std::string_view level) {
    auto parsed = spdlog::level::from_str(std::string(level));
    // from_str returns `off` for unknown names; only accept "off" when it was asked for.
    if (parsed == spdlog::level::off && level != "off")
        throw Error(ErrorKind::invalid_argument,
                    "unknown log level '" + std::string(level) +
                        "' (use trace, debug, info, warn, error, critical or off)");
    return parsed;
}

void init_logging(const LogOptions& options) {
    auto level = parse_level(options.level);
    std::vector<spdlog::sink_ptr> sinks;
    if (options.to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    if (!options.dir.empty()) {
        ensure_dir(options.dir);
        try {
            sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                log_file_path(options.dir).string(), 5 * 1024 * 1024, 3));
        } catch (const spdlog::spdlog_ex& e) {
            throw Error(ErrorKind::io, "cannot open log file " + log_file_path(options.dir).string() +
                                           ": " + e.what());
        }
    }
    auto logger = std::make_shared<spdlog::logger>("meswitch", sinks.begin(), sinks.end());
    logger->set_level(level);
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

void set_log_level(std::string_view level) { spdlog::default_logger()->set_level(parse_level(level)); }

}  // namespace meswitch
