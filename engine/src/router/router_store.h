// Trained routers in the catalog's router_models table (schema migration 3): one row per
// trained version, feature_spec = JSON fingerprint, blob = the classifier.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "meswitch/catalog.h"

namespace meswitch::router {

struct StoredRouter {
    std::int64_t id = 0;
    std::int64_t version = 0;
    std::string created_at;
    std::string feature_spec;  // JSON text
    std::vector<std::uint8_t> blob;
};

// XXH3-64 (hex) over the domains' names and example prompts, in the order given.
std::string examples_fingerprint(const std::vector<DomainRecord>& domains);

// The newest row (highest version) for which `matches(feature_spec)` is true.
std::optional<StoredRouter> find_stored_router(
    Catalog& catalog, const std::function<bool(const std::string& feature_spec)>& matches);

// Inserts a row with version = (highest version) + 1 in one transaction; returns the version.
std::int64_t store_router(Catalog& catalog, const std::string& feature_spec,
                          const std::vector<std::uint8_t>& blob);

// Every stored version, oldest first (for tests and the CLI).
std::vector<StoredRouter> stored_routers(Catalog& catalog, bool with_blobs = false);

}  // namespace meswitch::router
