#include "router/router_store.h"

#include <sqlite3.h>
#include <xxhash.h>

#include <cstdio>
#include <memory>

#include "meswitch/error.h"

namespace meswitch::router {

namespace {

struct Finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, Finalizer>;

[[noreturn]] void fail(Catalog& catalog, const std::string& doing) {
    throw Error(ErrorKind::catalog, "catalog " + catalog.path().string() + ": " + doing + ": " +
                                        sqlite3_errmsg(catalog.handle()));
}

Stmt prepare(Catalog& catalog, const char* sql, const std::string& doing) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(catalog.handle(), sql, -1, &s, nullptr) != SQLITE_OK) {
        sqlite3_finalize(s);
        fail(catalog, doing);
    }
    return Stmt(s);
}

std::string column_text(sqlite3_stmt* s, int col) {
    const auto* p = sqlite3_column_text(s, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
             : std::string();
}

StoredRouter read_row(sqlite3_stmt* s, bool with_blob) {
    StoredRouter r;
    r.id = sqlite3_column_int64(s, 0);
    r.version = sqlite3_column_int64(s, 1);
    r.created_at = column_text(s, 2);
    r.feature_spec = column_text(s, 3);
    if (with_blob) {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 4));
        const int n = sqlite3_column_bytes(s, 4);
        if (p && n > 0) r.blob.assign(p, p + n);
    }
    return r;
}

constexpr const char* select_all_sql =
    "SELECT id, version, created_at, feature_spec, blob FROM router_models "
    "ORDER BY version DESC, id DESC";

}  // namespace

std::string examples_fingerprint(const std::vector<DomainRecord>& domains) {
    XXH3_state_t* st = XXH3_createState();
    if (!st) throw Error(ErrorKind::out_of_memory, "router: cannot hash the example prompts");
    XXH3_64bits_reset(st);
    auto add = [&](const std::string& s) {
        const std::uint64_t n = s.size();
        XXH3_64bits_update(st, &n, sizeof n);  // length-prefixed: no ambiguity between fields
        XXH3_64bits_update(st, s.data(), s.size());
    };
    for (const auto& d : domains) {
        add(d.name);
        const std::uint64_t count = d.examples.size();
        XXH3_64bits_update(st, &count, sizeof count);
        for (const auto& e : d.examples) add(e);
    }
    const std::uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

std::optional<StoredRouter> find_stored_router(
    Catalog& catalog, const std::function<bool(const std::string&)>& matches) {
    Stmt s = prepare(catalog, select_all_sql, "reading the stored routers");
    for (;;) {
        const int rc = sqlite3_step(s.get());
        if (rc == SQLITE_DONE) return std::nullopt;
        if (rc != SQLITE_ROW) fail(catalog, "reading the stored routers");
        const std::string spec = column_text(s.get(), 3);
        if (matches(spec)) return read_row(s.get(), true);
    }
}

std::int64_t store_router(Catalog& catalog, const std::string& feature_spec,
                          const std::vector<std::uint8_t>& blob) {
    std::int64_t version = 0;
    catalog.transaction([&] {
        Stmt q = prepare(catalog, "SELECT COALESCE(MAX(version), 0) FROM router_models",
                         "reading the router version");
        if (sqlite3_step(q.get()) != SQLITE_ROW) fail(catalog, "reading the router version");
        version = sqlite3_column_int64(q.get(), 0) + 1;
        Stmt ins = prepare(catalog,
                           "INSERT INTO router_models(version, feature_spec, blob) VALUES(?, ?, ?)",
                           "storing the trained router");
        sqlite3_bind_int64(ins.get(), 1, version);
        sqlite3_bind_text(ins.get(), 2, feature_spec.data(), static_cast<int>(feature_spec.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_blob(ins.get(), 3, blob.data(), static_cast<int>(blob.size()),
                          SQLITE_TRANSIENT);
        if (sqlite3_step(ins.get()) != SQLITE_DONE) fail(catalog, "storing the trained router");
    });
    return version;
}

std::vector<StoredRouter> stored_routers(Catalog& catalog, bool with_blobs) {
    Stmt s = prepare(catalog,
                     "SELECT id, version, created_at, feature_spec, blob FROM router_models "
                     "ORDER BY version, id",
                     "reading the stored routers");
    std::vector<StoredRouter> out;
    for (;;) {
        const int rc = sqlite3_step(s.get());
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) fail(catalog, "reading the stored routers");
        out.push_back(read_row(s.get(), with_blobs));
    }
}

}  // namespace meswitch::router
