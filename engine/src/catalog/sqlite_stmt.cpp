#include "catalog/sqlite_stmt.h"

#include <cstring>
#include <limits>

#include "meswitch/error.h"

namespace meswitch::catalog {

void fail(const std::filesystem::path& file, const std::string& problem) {
    throw Error(ErrorKind::catalog, "catalog " + file.string() + ": " + problem);
}

void fail_sqlite(const std::filesystem::path& file, sqlite3* db, int rc, std::string_view doing) {
    const std::string what(doing);
    const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int err = db ? sqlite3_system_errno(db) : 0;
    const std::string os_detail = err != 0 ? detail + ": " + std::strerror(err) : detail;
    std::string problem;
    switch (rc & 0xff) {
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            problem = "the file is not a ME-Switch catalog or is corrupt (" + detail +
                      "); found while " + what;
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            problem = "the catalog stayed locked by another process or thread for more than " +
                      std::to_string(busy_timeout_ms / 1000) + " s while " + what;
            break;
        case SQLITE_FULL:
            problem = "the disk is full while " + what;
            break;
        case SQLITE_READONLY:
            problem = "the catalog cannot be written (" + detail + ") while " + what;
            break;
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
        case SQLITE_AUTH:
            problem = "cannot open the file (" + os_detail + ") while " + what;
            break;
        case SQLITE_IOERR:
            problem = "input/output error (" + os_detail + ") while " + what;
            break;
        case SQLITE_NOMEM:
            problem = "out of memory while " + what;
            break;
        case SQLITE_CONSTRAINT:
            problem = what + " was refused: " + detail;
            break;
        default:
            problem = what + " failed: " + detail;
            break;
    }
    throw SqliteError(rc, "catalog " + file.string() + ": " + problem);
}

void exec(const std::filesystem::path& file, sqlite3* db, const char* sql, std::string_view doing) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    sqlite3_free(message);  // sqlite3_errmsg(db) still holds the text
    if (rc != SQLITE_OK) fail_sqlite(file, db, rc, doing);
}

Statement::Statement(const std::filesystem::path& file, sqlite3* db, const char* sql,
                     std::string_view doing)
    : file_(file), db_(db), doing_(doing) {
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail_sqlite(file_, db_, rc, doing_);
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

void Statement::check_bind(int rc, int index) {
    if (rc != SQLITE_OK)
        fail_sqlite(file_, db_, rc, doing_ + " (parameter " + std::to_string(index) + ")");
}

Statement& Statement::bind(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    check_bind(sqlite3_bind_double(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    if (value.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        fail(file_,
             doing_ + ": a text value is too long (" + std::to_string(value.size()) + " bytes)");
    // An empty view may have a null data(); SQLite would store NULL for it, so pass "".
    const char* data = value.data() ? value.data() : "";
    check_bind(
        sqlite3_bind_text(stmt_, index, data, static_cast<int>(value.size()), SQLITE_TRANSIENT),
        index);
    return *this;
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind(int index, const std::optional<double>& value) {
    return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind_blob(int index, const void* data, std::size_t size) {
    check_bind(sqlite3_bind_blob64(stmt_, index, size ? data : "", size, SQLITE_TRANSIENT), index);
    return *this;
}

Statement& Statement::bind_null(int index) {
    check_bind(sqlite3_bind_null(stmt_, index), index);
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(stmt_);
    fail_sqlite(file_, db_, rc, doing_);
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double Statement::real(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string Statement::text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (!data) return {};
    return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
}

std::optional<double> Statement::optional_real(int column) const {
    if (is_null(column)) return std::nullopt;
    return real(column);
}

std::int64_t Statement::last_insert_id() const {
    return sqlite3_last_insert_rowid(db_);
}

int Statement::changes() const {
    return sqlite3_changes(db_);
}

}  // namespace meswitch::catalog
