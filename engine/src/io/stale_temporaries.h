// Temporary files and folders left behind by a process that died mid-write (kill -9, power
// loss): AtomicFile's ".<name>.tmp.<pid>.<n>", a new catalog's ".<name>.new-<pid>-…" and an
// import's ".<name>.importing.<pid>.<n>". Each carries the writer's process id; one whose
// process no longer exists can never be finished and is removed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace meswitch::io {

// The writer's process id encoded in a temporary name, or nullopt when `name` is not one.
std::optional<long> temporary_owner(const std::string& name);

// Removes the temporaries in `folder` (not recursive) whose writer is gone. Never throws;
// returns how many were removed (each is logged).
int remove_stale_temporaries(const std::filesystem::path& folder);

}  // namespace meswitch::io
