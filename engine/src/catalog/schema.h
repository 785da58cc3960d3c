// The catalog's schema history. Migrations are applied in order, each in one
// transaction that also sets PRAGMA user_version to its version. A migration, once
// released, is never edited: later changes are new migrations appended to the list.
#pragma once

#include <cstdint>
#include <span>

namespace meswitch::catalog {

// PRAGMA application_id of every ME-Switch catalog ("MESW").
inline constexpr std::int32_t application_id = 0x4D455357;

struct Migration {
    int version;       // the user_version after this migration
    const char* name;  // for logs and errors
    const char* sql;   // one or more statements
};

// All migrations, ordered by version (1, 2, ...).
std::span<const Migration> migrations();

}  // namespace meswitch::catalog
