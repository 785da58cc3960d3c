// Helpers shared by the catalog tests: a frozen copy of schema version 1, raw SQLite
// access, record builders and error checks.
#pragma once

#include <QString>
#include <QTest>

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "meswitch/catalog.h"
#include "meswitch/error.h"

namespace catalog_test {

namespace fs = std::filesystem;
using namespace meswitch;
using Reason = CatalogOpenError::Reason;

// A frozen copy of schema migration 1 as released ("initial tables"), and rows for it.
extern const char* const frozen_schema_v1;
extern const char* const frozen_rows_v1;

QString qs(const std::string& s);
std::string read_bytes(const fs::path& file);
void write_bytes(const fs::path& file, const std::string& bytes);

// Runs `f`; returns the message of the Error(catalog) it threw, or a description of what
// happened instead (starting with '<') so that a failed check prints it.
std::string catalog_error(const std::function<void()>& f);
bool contains(const std::string& text, const std::string& part);

// A raw connection, for checks the Catalog API does not expose.
struct RawDb {
    sqlite3* db = nullptr;
    explicit RawDb(const fs::path& file, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ~RawDb();
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;
};

int exec_rc(sqlite3* db, const char* sql);
std::string query_text(sqlite3* db, const char* sql);  // first column of the first row
std::int64_t query_int(sqlite3* db, const char* sql);

ModelRecord base_model(const std::string& name);
ModelRecord expert_model(const std::string& name, std::int64_t base_id);
CompressionRunRecord run_with_layers(std::int64_t expert_id, int layers);
bool is_iso_timestamp(const std::string& s);

// Why opening `file` fails, or nullopt when it opens (or fails with another exception).
std::optional<Reason> open_failure(const fs::path& file);
bool side_files_absent(const fs::path& file);  // no -wal, -shm, -journal beside it
// A real catalog with enough rows to span many pages; closed (checkpointed) on return.
void make_populated_catalog(const fs::path& file);

}  // namespace catalog_test

#define VERIFY_CONTAINS(text, part)                              \
    QVERIFY2(::catalog_test::contains((text), (part)),           \
             qPrintable(QStringLiteral("expected \"%1\" in: %2") \
                            .arg(::catalog_test::qs(part), ::catalog_test::qs(text))))
