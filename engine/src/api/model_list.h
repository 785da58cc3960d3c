// What GET /v1/models lists and what a request's "model" may name: "auto" (the engine
// routes; without domains it answers with the base, saying why), the base the engine serves,
// and every expert of that base with its domains (MoE variants imported as experts too).
#pragma once

#include <string>

#include "api/protocol.h"
#include "meswitch/catalog.h"

namespace meswitch::api {

// `base_name` empty: the catalog's default base (meswitch::default_base), as the engine
// chooses it. A catalog without a base gives the list {"base"}.
ModelList list_models(const Catalog& catalog, const std::string& base_name);

// Without a catalog: the engine's base alone, as "base".
ModelList base_only();

}  // namespace meswitch::api
