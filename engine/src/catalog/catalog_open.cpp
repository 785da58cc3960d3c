// Opening a catalog: checks that the file is a usable ME-Switch catalog before anything is
// written to it, configures the connection (WAL, foreign keys, busy timeout) and applies
// pending migrations. Also transactions and moving a corrupt file aside.
//
// Many processes (the Studio, the CLI, the API server) and threads use one catalog at once,
// each thread through its own connection. Two rules keep that safe:
//  - The database file is never opened outside SQLite while this process may hold
//    connections to it: closing any descriptor of a file drops every POSIX lock the process
//    holds on it, and another process would then believe it is alone, checkpoint and delete
//    the WAL under the live connections. The header is sniffed through SQLite's own handle.
//  - A new catalog is built complete under a temporary name and linked into place, so an
//    existing file is always a whole catalog: an empty file or one without tables is damage,
//    never a fresh start, and two processes creating the catalog at once cannot both win.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string_view>
#include <vector>

#include "catalog/catalog_impl.h"
#include "catalog/schema.h"
#include "io/atomic_file.h"
#include "io/stale_temporaries.h"
#include "meswitch/error.h"

namespace fs = std::filesystem;

namespace meswitch {
namespace {

using catalog::Context;

constexpr const char* sql_schema_version = "PRAGMA schema_version";
constexpr const char* sql_quick_check = "PRAGMA quick_check(1)";
constexpr const char* sql_user_version = "PRAGMA user_version";
constexpr const char* sql_application_id = "PRAGMA application_id";
constexpr const char* sql_schema_names =
    "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'";
constexpr const char* sql_journal_wal = "PRAGMA journal_mode = WAL";
constexpr const char* sql_connection_settings =
    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
constexpr const char* sql_foreign_keys = "PRAGMA foreign_keys";
using catalog::busy_timeout_ms;

using Reason = CatalogOpenError::Reason;

[[noreturn]] void refuse(const Context& d, Reason reason, const std::string& problem) {
    throw CatalogOpenError(reason, "catalog " + d.file.string() + ": " + problem);
}

Reason reason_for(int sqlite_code) {
    switch (sqlite_code & 0xff) {
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            return Reason::corrupt;
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
        case SQLITE_AUTH:
        case SQLITE_READONLY:
            return Reason::access;
        default:
            return Reason::other;
    }
}

std::int64_t single_int(const Context& d, const char* sql, std::string_view doing) {
    auto st = d.prepare(sql, doing);
    return st.step() ? st.int64(0) : 0;
}

// Sniffs the first bytes of an existing file through the connection's own file handle (no
// second descriptor, see the top of this file), so that a file that is not a SQLite database
// at all is refused before SQLite looks at (and may reset) a stray -wal. A file that exists
// but is empty is damage: catalogs are created whole (create_catalog_file).
void check_header(const Context& d) {
    static constexpr char magic[] = "SQLite format 3";  // 16 bytes with the final NUL
    sqlite3_file* handle = nullptr;
    if (sqlite3_file_control(d.db.get(), "main", SQLITE_FCNTL_FILE_POINTER, &handle) != SQLITE_OK ||
        handle == nullptr || handle->pMethods == nullptr)
        refuse(d, Reason::access, "cannot read the file");
    sqlite3_int64 size = 0;
    if (handle->pMethods->xFileSize(handle, &size) != SQLITE_OK)
        refuse(d, Reason::access, "cannot read the file's size");
    if (size == 0)
        refuse(d, Reason::corrupt,
               "the file is empty (0 bytes): the catalog was truncated or overwritten. Move "
               "it aside to start a new catalog; the old chats, experts and runs are not in it");
    char header[100] = {};
    const int rc = handle->pMethods->xRead(handle, header, sizeof header, 0);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        refuse(d, Reason::access, "cannot read the file");
    if (rc == SQLITE_IOERR_SHORT_READ || std::memcmp(header, magic, sizeof magic) != 0)
        refuse(d, Reason::corrupt,
               "the file is not a ME-Switch catalog or is corrupt (file is not a database)");
}

void configure(const Context& d);
void migrate(Context& d);
int verify(const Context& d, bool new_file);

// sqlite3_open_v2 with the catalog's flags; the connection is owned by `d` even on failure.
void open_sqlite(Context& d, const fs::path& file, int flags) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(file.c_str(), &raw, flags | SQLITE_OPEN_EXRESCODE, nullptr);
    d.db.reset(raw);  // closed by the owner even when the open failed
    if (rc != SQLITE_OK) catalog::fail_sqlite(d.file, raw, rc, "opening the database");
    sqlite3_busy_timeout(raw, busy_timeout_ms);
}

void remove_quietly(const fs::path& file) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        fs::remove(file.string() + suffix, ec);
}

// Creates a new, fully migrated catalog at `file` if none is there: built under a temporary
// name in the same folder, closed (which checkpoints and removes its WAL) and hard-linked into
// place, which fails harmlessly when another process got there first.
void create_catalog_file(const Context& d) {
    const fs::path& file = d.file;
    fs::path parent = file.parent_path();
    if (parent.empty()) parent = ".";
    std::error_code ec;
    const auto parent_status = fs::status(parent, ec);
    if (!fs::exists(parent_status))
        refuse(d, Reason::access,
               "cannot create the catalog: the folder " + parent.string() + " does not exist");
    if (!fs::is_directory(parent_status))
        refuse(d, Reason::access,
               "cannot create the catalog: " + parent.string() + " is not a folder");

    static std::atomic<unsigned> counter{0};
    std::random_device entropy;
    const fs::path temp =
        parent / ("." + file.filename().string() + ".new-" + std::to_string(::getpid()) + "-" +
                  std::to_string(counter++) + "-" + std::to_string(entropy()));
    try {
        Context fresh;
        fresh.file = file;  // messages name the catalog the user asked for
        open_sqlite(fresh, temp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        verify(fresh, true);
        configure(fresh);
        migrate(fresh);
        fresh.db.reset();  // checkpoints into the file and removes the temporary WAL
        if (::link(temp.c_str(), file.c_str()) != 0) {
            const int err = errno;
            if (err == EEXIST) {
                spdlog::debug("catalog {}: created by another process meanwhile", file.string());
            } else if (err == EPERM || err == EOPNOTSUPP || err == EXDEV) {
                // A file system without hard links: rename, unless the file appeared.
                if (!fs::exists(file, ec)) fs::rename(temp, file, ec);
                if (ec)
                    refuse(d, Reason::access, "cannot create the catalog (" + ec.message() + ")");
            } else {
                refuse(d, Reason::access,
                       std::string("cannot create the catalog (") + std::strerror(err) + ")");
            }
        } else {
            spdlog::info("catalog {}: created (schema version {})", file.string(),
                         Catalog::current_schema_version);
        }
        if (const int err = io::sync_folder(parent); err == EIO)
            refuse(d, Reason::other,
                   "cannot make the new catalog durable (syncing " + parent.string() +
                       " failed: " + std::strerror(err) + ")");
    } catch (...) {
        remove_quietly(temp);
        throw;
    }
    remove_quietly(temp);
}

// Opens the connection to an existing file without creating anything.
void open_connection(Context& d) {
    const fs::path& file = d.file;
    std::error_code ec;
    auto status = fs::status(file, ec);
    if (!fs::exists(status)) {
        create_catalog_file(d);
        status = fs::status(file, ec);
        if (!fs::exists(status))
            refuse(d, Reason::other, "the catalog was removed while it was being created");
    }
    if (fs::is_directory(status))
        refuse(d, Reason::access, "the path is a folder, not a catalog file");
    if (!fs::is_regular_file(status)) refuse(d, Reason::access, "the path is not a regular file");
    if (::access(file.c_str(), R_OK | W_OK) != 0) {
        const int err = errno;
        refuse(d, Reason::access,
               std::string("cannot open the file for reading and writing (") + std::strerror(err) +
                   ")");
    }
    open_sqlite(d, file, SQLITE_OPEN_READWRITE);
    sqlite3* raw = d.db.get();
    // Until verify() accepts the file, closing must not checkpoint a WAL into it.
    sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    check_header(d);
    if (sqlite3_db_readonly(raw, "main") == 1)
        refuse(d, Reason::access,
               "the file is read-only; ME-Switch Studio needs to write its catalog "
               "(check the file's permissions)");
}

// Reads only: is this a ME-Switch catalog (or, for the file create_catalog_file() is building,
// a new empty database), or something else? Returns the schema version.
int verify(const Context& d, bool new_file) {
    single_int(d, sql_schema_version, "reading the database header");
    {
        auto st = d.prepare(sql_quick_check, "checking the database for corruption");
        const std::string result = st.step() ? st.text(0) : std::string("no result");
        if (result != "ok")
            refuse(d, Reason::corrupt,
                   "the file is not a ME-Switch catalog or is corrupt (integrity check: " + result +
                       ")");
    }
    const auto version = single_int(d, sql_user_version, "reading the schema version");
    const auto app_id = single_int(d, sql_application_id, "reading the application id");
    std::vector<std::string> present;  // tables, indexes, ...
    {
        auto st = d.prepare(sql_schema_names, "listing the tables");
        while (st.step()) present.push_back(st.text(0));
    }
    if (version == 0 && app_id == 0 && present.empty()) {
        if (new_file) return 0;
        refuse(d, Reason::corrupt,
               "the file is an empty database (it has lost its schema: no tables). Move it "
               "aside to start a new catalog");
    }
    if (app_id != catalog::application_id || version <= 0)
        refuse(d, Reason::foreign,
               "the file is not a ME-Switch catalog (it is a SQLite database of another "
               "application)");
    if (version > Catalog::current_schema_version)
        refuse(d, Reason::newer_version,
               "the catalog was written by a newer ME-Switch Studio (schema version " +
                   std::to_string(version) + "; this build supports up to " +
                   std::to_string(Catalog::current_schema_version) +
                   "). It was left unchanged: update ME-Switch Studio to open it");
    // Every table the applied migrations created must be there (a catalog that lost one
    // would fail later with "no such table" in the middle of a user's work).
    for (const auto& m : catalog::migrations()) {
        if (m.version > version) break;
        static constexpr std::string_view create = "CREATE TABLE ";
        const std::string_view sql = m.sql;
        for (auto at = sql.find(create); at != std::string_view::npos;
             at = sql.find(create, at + create.size())) {
            const auto begin = at + create.size();
            const auto end = sql.find_first_of(" (\n", begin);
            const std::string table(sql.substr(begin, end - begin));
            if (std::find(present.begin(), present.end(), table) == present.end())
                refuse(d, Reason::corrupt,
                       "the catalog is damaged: its table '" + table +
                           "' is missing (schema version " + std::to_string(version) + ")");
        }
    }
    return static_cast<int>(version);
}

void configure(const Context& d) {
    {
        auto st = d.prepare(sql_journal_wal, "switching to write-ahead logging");
        const std::string mode = st.step() ? st.text(0) : std::string();
        if (mode != "wal")
            refuse(d, Reason::other,
                   "cannot switch to write-ahead logging (journal mode stays '" + mode +
                       "'); is the folder on a network file system?");
    }
    d.exec(sql_connection_settings, "configuring the connection");
    if (single_int(d, sql_foreign_keys, "checking foreign keys") != 1)
        refuse(d, Reason::other, "this SQLite build cannot enforce foreign keys");
}

void migrate(Context& d) {
    const bool upgrade = d.version > 0;  // a new catalog's migrations are not news
    for (const auto& m : catalog::migrations()) {
        if (m.version <= d.version) continue;
        const std::string doing =
            "applying schema migration " + std::to_string(m.version) + " (" + m.name + ")";
        d.exec("BEGIN IMMEDIATE", doing);
        try {
            // Another process may have applied it while this one waited for the write lock.
            const auto now = single_int(d, sql_user_version, "reading the schema version");
            if (now >= m.version) {
                d.exec("COMMIT", doing);
                d.version = static_cast<int>(now);
                continue;
            }
            d.exec(m.sql, doing);
            const std::string set_version = "PRAGMA user_version = " + std::to_string(m.version);
            d.exec(set_version.c_str(), doing);
            d.exec("COMMIT", doing);
        } catch (...) {
            if (!sqlite3_get_autocommit(d.db.get()))
                sqlite3_exec(d.db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
        d.version = m.version;
        if (upgrade)
            spdlog::info("catalog {}: applied schema migration {} ({})", d.file.string(), m.version,
                         m.name);
    }
}

}  // namespace

const char* to_string(ModelRole role) {
    return role == ModelRole::expert ? "expert" : "base";
}

const char* to_string(RunStatus status) {
    switch (status) {
        case RunStatus::running:
            return "running";
        case RunStatus::finished:
            return "finished";
        case RunStatus::failed:
            return "failed";
        case RunStatus::cancelled:
            return "cancelled";
    }
    return "failed";
}

Catalog::Catalog(const fs::path& file) : impl_(std::make_unique<Impl>()) {
    impl_->file = file;
    try {
        open_connection(*impl_);
        impl_->version = verify(*impl_, false);
        sqlite3_db_config(impl_->db.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, nullptr);
        configure(*impl_);
        migrate(*impl_);
    } catch (const CatalogOpenError&) {
        throw;
    } catch (const catalog::SqliteError& e) {
        throw CatalogOpenError(reason_for(e.code()), e.what());
    } catch (const Error& e) {
        throw CatalogOpenError(Reason::other, e.what());
    }
    // Whatever a process that died mid-write left in the data folder (a half-written .msd, an
    // interrupted copy or catalog creation) is removed by the next process that opens it.
    const fs::path folder = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    for (const fs::path& f : {folder, folder / "deltas", folder / "models"})
        io::remove_stale_temporaries(f);
}

Catalog::~Catalog() = default;
Catalog::Catalog(Catalog&&) noexcept = default;
Catalog& Catalog::operator=(Catalog&&) noexcept = default;

const fs::path& Catalog::path() const {
    return impl_->file;
}
int Catalog::schema_version() const {
    return impl_->version;
}
sqlite3* Catalog::handle() const {
    return impl_->db.get();
}

void Catalog::transaction(const std::function<void()>& body) {
    Impl& d = *impl_;
    sqlite3* db = d.db.get();
    if (d.depth > 0) {
        // Nested: join the outer transaction; a savepoint undoes only this body on failure.
        const std::string name = "meswitch_nested_" + std::to_string(d.depth);
        d.exec(("SAVEPOINT " + name).c_str(), "starting a nested transaction");
        ++d.depth;
        try {
            body();
        } catch (...) {
            --d.depth;
            sqlite3_exec(db, ("ROLLBACK TO " + name + "; RELEASE " + name).c_str(), nullptr,
                         nullptr, nullptr);
            throw;
        }
        --d.depth;
        d.exec(("RELEASE " + name).c_str(), "finishing a nested transaction");
        return;
    }
    d.exec("BEGIN IMMEDIATE", "starting a transaction");
    d.depth = 1;
    try {
        body();
        d.depth = 0;
        d.exec("COMMIT", "committing a transaction");
    } catch (...) {
        d.depth = 0;
        if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

fs::path move_aside_corrupt_catalog(const fs::path& file) {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);

    auto taken = [](const fs::path& p) {
        std::error_code ec;
        return fs::exists(fs::symlink_status(p, ec));
    };
    const std::string base = file.string() + ".corrupt-" + stamp;
    fs::path target = base;
    for (int n = 2; taken(target) || taken(target.string() + "-wal"); ++n)
        target = base + "-" + std::to_string(n);

    std::error_code ec;
    fs::rename(file, target, ec);
    if (ec)
        throw Error(ErrorKind::io, "cannot move the catalog " + file.string() + " aside to " +
                                       target.string() + ": " + ec.message());
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        const fs::path side = file.string() + suffix;
        if (!taken(side)) continue;
        const fs::path side_target = target.string() + suffix;
        fs::rename(side, side_target, ec);
        if (ec)
            throw Error(ErrorKind::io, "moved the catalog " + file.string() + " to " +
                                           target.string() + " but cannot move " + side.string() +
                                           ": " + ec.message());
    }
    spdlog::warn("catalog {}: moved aside to {}", file.string(), target.string());
    return target;
}

}  // namespace meswitch
