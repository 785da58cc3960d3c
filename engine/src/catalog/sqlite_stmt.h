// Small RAII layer over the SQLite C API for the catalog: an owned connection that is
// closed with sqlite3_close_v2, and a prepared statement that is finalized on scope exit.
// Every failure throws Error(catalog) naming the database file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "meswitch/error.h"

namespace meswitch::catalog {

// How long a connection waits for another connection's write lock (or a WAL recovery) before
// an operation fails with "busy". Writers keep their transactions short, so reaching this
// means something held the catalog locked far longer than any ME-Switch operation does.
inline constexpr int busy_timeout_ms = 30000;

struct ConnectionCloser {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;

// An Error(catalog) from a failed SQLite call, keeping the SQLite result code.
class SqliteError : public Error {
public:
    SqliteError(int code, const std::string& message)
        : Error(ErrorKind::catalog, message), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

// "catalog /x/catalog.sqlite: <problem>" as Error(catalog).
[[noreturn]] void fail(const std::filesystem::path& file, const std::string& problem);

// Turns a SQLite result code into user words: what was being done and why it failed.
// Throws SqliteError.
[[noreturn]] void fail_sqlite(const std::filesystem::path& file, sqlite3* db, int rc,
                              std::string_view doing);

// Runs SQL text that returns no rows (may hold several statements).
void exec(const std::filesystem::path& file, sqlite3* db, const char* sql, std::string_view doing);

class Statement {
public:
    Statement(const std::filesystem::path& file, sqlite3* db, const char* sql,
              std::string_view doing);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Binds by 1-based index; returns *this so binds chain.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::optional<std::int64_t>& value);
    Statement& bind(int index, const std::optional<double>& value);
    Statement& bind_blob(int index, const void* data, std::size_t size);
    Statement& bind_null(int index);

    // Steps once: true when a row is ready, false when done. Errors throw.
    bool step();
    // Steps to completion of a statement that returns no rows.
    void run();
    void reset();

    std::int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    bool is_null(int column) const;
    std::optional<std::int64_t> optional_int64(int column) const;
    std::optional<double> optional_real(int column) const;

    // Index of the last inserted row on this connection.
    std::int64_t last_insert_id() const;
    // Rows changed by the last run().
    int changes() const;

private:
    void check_bind(int rc, int index);

    const std::filesystem::path& file_;
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    std::string doing_;
};

}  // namespace meswitch::catalog
