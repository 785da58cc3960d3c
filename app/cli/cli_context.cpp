#include "cli_context.h"

#include <iostream>

#include "meswitch/error.h"
#include "meswitch/paths.h"

namespace meswitch::cli {

std::filesystem::path Context::home() const {
    return data_home(home_option.empty() ? std::nullopt
                                         : std::optional<std::filesystem::path>(home_option));
}

Catalog& Context::catalog() {
    if (!catalog_) {
        auto h = home();
        ensure_dir(h);
        catalog_ = std::make_unique<Catalog>(catalog_path(h));
    }
    return *catalog_;
}

EngineOptions Context::engine_options(const std::string& device, int threads,
                                      double threshold) const {
    EngineOptions eo;
    eo.catalog = catalog_path(home());
    eo.device = device;
    eo.threads = threads;
    eo.router.threads = threads;
    eo.router.threshold = threshold;
    return eo;
}

std::filesystem::path Context::resolve_model(const std::string& path_or_name) {
    const std::filesystem::path p(path_or_name);
    if (std::filesystem::exists(p)) return p;
    if (auto m = catalog().find_model(path_or_name)) return m->path;
    throw Error(ErrorKind::not_found, "'" + path_or_name +
                                          "' is neither an existing folder nor a model in the "
                                          "catalog (see: meswitch list)");
}

// Catalog text that is not valid UTF-8 (a name written by another tool) prints as U+FFFD
// instead of failing the whole command.
void print_json(const nlohmann::json& value) {
    std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace meswitch::cli
