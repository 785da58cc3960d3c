// Where ME-Switch Studio keeps its data: the catalog, logs, compressed deltas.
#pragma once

#include <filesystem>
#include <optional>

namespace meswitch {

// The data folder. Order: `override_dir` (the CLI's --home), $MESWITCH_HOME,
// $XDG_DATA_HOME/meswitch-studio, ~/.local/share/meswitch-studio.
std::filesystem::path data_home(const std::optional<std::filesystem::path>& override_dir = {});

std::filesystem::path catalog_path(const std::filesystem::path& home);  // home/catalog.sqlite
std::filesystem::path log_dir(const std::filesystem::path& home);       // home/logs
std::filesystem::path deltas_dir(const std::filesystem::path& home);    // home/deltas

// Creates the folder (and parents) or throws Error(io) naming it.
void ensure_dir(const std::filesystem::path& dir);

}  // namespace meswitch
