// Shared state of the meswitch CLI: global options and lazily opened engine objects.
// Each command lives in its own cmd_*.cpp and registers itself with register_*().
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "meswitch/catalog.h"

namespace meswitch::cli {

struct Context {
    std::string home_option;  // --home
    std::string log_level = "warn";

    std::filesystem::path home() const;
    // Opens the catalog in the data folder (creating it), once.
    Catalog& catalog();

private:
    std::unique_ptr<Catalog> catalog_;
};

// Prints one JSON document to stdout, pretty, newline-terminated.
void print_json(const nlohmann::json& value);


void register_info(CLI::App& app, Context& ctx);
void register_list(CLI::App& app, Context& ctx);

}  // namespace meswitch::cli
