#include "cli_context.h"

#include <iostream>

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

void print_json(const nlohmann::json& value) { std::cout << value.dump(2) << '\n'; }

}  // namespace meswitch::cli
