// Catalog::Impl, shared by the catalog_*.cpp files: the connection, the file name for
// error messages, and the transaction depth. Free helpers take the Context base.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "catalog/sqlite_stmt.h"
#include "meswitch/catalog.h"

namespace meswitch {
namespace catalog {

struct Context {
    std::filesystem::path file;
    catalog::Connection db;
    int version = 0;
    int depth = 0;  // nesting of transaction(); > 0 while one is open

    [[noreturn]] void fail(const std::string& problem) const { catalog::fail(file, problem); }
    void exec(const char* sql, std::string_view doing) const {
        catalog::exec(file, db.get(), sql, doing);
    }
    catalog::Statement prepare(const char* sql, std::string_view doing) const {
        return catalog::Statement(file, db.get(), sql, doing);
    }
};

// Quotes a user-supplied name for messages: 'name'.
inline std::string in_quotes(std::string_view name) {
    return "'" + std::string(name) + "'";
}

}  // namespace catalog

struct Catalog::Impl : catalog::Context {};

}  // namespace meswitch
