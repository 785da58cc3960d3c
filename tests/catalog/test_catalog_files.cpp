// The SQLite catalog on disk: migration from an older schema, a newer schema refused,
// a process killed mid-transaction, and files that are not usable catalogs.
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <random>

#include "catalog_test_util.h"
#include "test_catalog.h"

using namespace catalog_test;

void TestCatalog::migration_from_version_1() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    {
        RawDb raw(file);
        QVERIFY(raw.db != nullptr);
        QCOMPARE(exec_rc(raw.db, frozen_schema_v1), SQLITE_OK);
        QCOMPARE(exec_rc(raw.db, frozen_rows_v1), SQLITE_OK);
        QCOMPARE(query_int(raw.db, "PRAGMA user_version"), std::int64_t(1));
    }
    Catalog cat(file);
    QCOMPARE(cat.schema_version(), Catalog::current_schema_version);
    sqlite3* db = cat.handle();
    QCOMPARE(query_int(db, "PRAGMA user_version"), std::int64_t(Catalog::current_schema_version));
    QCOMPARE(qs(query_text(db, "PRAGMA journal_mode")), QStringLiteral("wal"));
    QCOMPARE(qs(query_text(db, "PRAGMA integrity_check")), QStringLiteral("ok"));

    // The old rows are intact.
    const auto models = cat.list_models();
    QCOMPARE(models.size(), std::size_t(2));
    QCOMPARE(qs(models[0].name), QStringLiteral("llama-base"));
    QCOMPARE(qs(models[0].created_at), QStringLiteral("2024-01-02T03:04:05.006Z"));
    QCOMPARE(qs(models[1].content_hash), QStringLiteral("bb22"));
    QCOMPARE(*models[1].base_model_id, models[0].id);
    const auto math = cat.find_domain("math");
    QVERIFY(math.has_value());
    QCOMPARE(math->examples.size(), std::size_t(2));
    QCOMPARE(qs(math->examples[1]), QStringLiteral("prove it"));
    QCOMPARE(cat.experts_for_domain(math->id).size(), std::size_t(1));
    const auto chats = cat.list_chats();
    QCOMPARE(chats.size(), std::size_t(1));
    QCOMPARE(qs(chats[0].system_prompt), QStringLiteral("be brief"));
    auto msgs = cat.messages(chats[0].id);
    QCOMPARE(msgs.size(), std::size_t(2));
    QCOMPARE(qs(msgs[1].text), QStringLiteral("hi there"));
    QCOMPARE(*msgs[1].routing_confidence, 0.875);
    QCOMPARE(msgs[1].token_count, std::int64_t(0));  // migration 2's defaults
    QCOMPARE(msgs[1].tokens_per_second, 0.0);

    // Migration 2's columns are usable.
    const auto id = cat.add_message(
        {0, chats[0].id, "assistant", "timed", models[1].id, 0.5, 17, 3.5, 170.0, 100.0, {}});
    msgs = cat.messages(chats[0].id);
    QCOMPARE(msgs.back().id, id);
    QCOMPARE(msgs.back().token_count, std::int64_t(17));
    QCOMPARE(msgs.back().generate_ms, 170.0);

    // Migration 3's table is usable.
    QCOMPARE(exec_rc(db,
                     "INSERT INTO router_models (version, feature_spec, blob) "
                     "VALUES (1, '{\"layer\": -1}', x'00ff10')"),
             SQLITE_OK);
    QCOMPARE(query_int(db, "SELECT length(blob) FROM router_models WHERE version = 1"),
             std::int64_t(3));
    QVERIFY(is_iso_timestamp(query_text(db, "SELECT created_at FROM router_models")));

    // Migration 5: an old answer has one alternative and can be regenerated.
    QCOMPARE(msgs[1].alternative_count, 1);
    QCOMPARE(cat.add_alternative(msgs[1].id, {0, 0, "", "hello again", {}, {}, 2, 0, 0, 0, {}}), 1);
    const auto alts = cat.alternatives(msgs[1].id);
    QCOMPARE(alts.size(), std::size_t(2));
    QCOMPARE(qs(alts[0].text), QStringLiteral("hi there"));
    QCOMPARE(*alts[0].routing_confidence, 0.875);
    QCOMPARE(qs(cat.messages(chats[0].id)[1].text), QStringLiteral("hello again"));

    // Reopening does not migrate again.
    Catalog again(file);
    QCOMPARE(again.messages(chats[0].id).size(), std::size_t(3));
    QCOMPARE(again.messages(chats[0].id)[1].alternative_count, 2);
}

void TestCatalog::newer_version_refused() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    {
        RawDb raw(file);
        QCOMPARE(exec_rc(raw.db, frozen_schema_v1), SQLITE_OK);
        QCOMPARE(exec_rc(raw.db, frozen_rows_v1), SQLITE_OK);
        QCOMPARE(exec_rc(raw.db, "PRAGMA user_version = 99"), SQLITE_OK);
    }
    const std::string before = read_bytes(file);
    QVERIFY(!before.empty());
    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, file.string());
    VERIFY_CONTAINS(msg, "newer ME-Switch Studio (schema version 99");
    VERIFY_CONTAINS(msg, "left unchanged");
    QVERIFY(open_failure(file) == Reason::newer_version);
    QVERIFY(read_bytes(file) == before);
    QVERIFY(side_files_absent(file));
    RawDb raw(file, SQLITE_OPEN_READONLY);
    QCOMPARE(query_int(raw.db, "PRAGMA user_version"), std::int64_t(99));
}

void TestCatalog::crash_during_transaction() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    std::int64_t expert = 0;
    std::int64_t committed_run = 0;
    {
        Catalog cat(file);
        const auto base = cat.add_model(base_model("base"));
        expert = cat.add_model(expert_model("expert", base));
        committed_run = cat.add_compression_run(run_with_layers(expert, 10));
        const auto chat = cat.create_chat("kept");
        cat.add_message({0, chat, "user", "committed", {}, {}, 0, 0, 0, 0, {}});
    }  // closed before fork: no connection crosses it

    int pipe_fds[2];
    QCOMPARE(::pipe(pipe_fds), 0);
    const pid_t pid = ::fork();
    QVERIFY(pid >= 0);
    if (pid == 0) {
        // Child: only engine calls and async-signal-safe exits, never Qt.
        ::close(pipe_fds[0]);
        try {
            Catalog cat(file);
            // A tiny page cache makes SQLite spill uncommitted pages into the WAL file, so
            // the crash leaves partial frames that recovery must ignore.
            sqlite3_exec(cat.handle(), "PRAGMA cache_size = 10", nullptr, nullptr, nullptr);
            cat.transaction([&] {
                for (int i = 0; i < 40; ++i) cat.add_compression_run(run_with_layers(expert, 100));
                const auto chat = cat.create_chat("child chat");
                cat.add_message({0, chat, "user", "never committed", {}, {}, 0, 0, 0, 0, {}});
                const char ready = 'm';
                if (::write(pipe_fds[1], &ready, 1) != 1) ::_exit(4);
                for (;;) ::pause();  // mid-transaction until the parent kills us
            });
        } catch (...) {
            ::_exit(3);
        }
        ::_exit(2);
    }
    ::close(pipe_fds[1]);
    char got = 0;
    ssize_t n = 0;
    do {
        n = ::read(pipe_fds[0], &got, 1);
    } while (n < 0 && errno == EINTR);
    ::close(pipe_fds[0]);
    const fs::path wal = file.string() + "-wal";
    const auto wal_size = fs::exists(wal) ? fs::file_size(wal) : 0;
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    QCOMPARE(int(n), 1);
    QCOMPARE(got, 'm');
    QVERIFY(WIFSIGNALED(status));
    QCOMPARE(WTERMSIG(status), SIGKILL);
    // The child really had written uncommitted pages when it died.
    QVERIFY2(wal_size > 100 * 1024, qPrintable(QString::number(wal_size)));

    {
        RawDb raw(file);
        QVERIFY(raw.db != nullptr);
        QCOMPARE(qs(query_text(raw.db, "PRAGMA integrity_check")), QStringLiteral("ok"));
    }
    Catalog cat(file);
    const auto runs = cat.compression_runs({}, true);
    QCOMPARE(runs.size(), std::size_t(1));
    QCOMPARE(runs[0].id, committed_run);
    QCOMPARE(runs[0].layers.size(), std::size_t(10));
    QCOMPARE(query_int(cat.handle(), "SELECT count(*) FROM compression_layer_stats"),
             std::int64_t(10));
    const auto chats = cat.list_chats();
    QCOMPARE(chats.size(), std::size_t(1));
    QCOMPARE(qs(chats[0].title), QStringLiteral("kept"));
    QCOMPARE(cat.messages(chats[0].id).size(), std::size_t(1));
    QCOMPARE(query_int(cat.handle(), "SELECT count(*) FROM messages"), std::int64_t(1));
    QCOMPARE(cat.list_models().size(), std::size_t(2));
    // And the catalog takes new writes.
    cat.add_compression_run(run_with_layers(expert, 3));
    QCOMPARE(cat.compression_runs().size(), std::size_t(2));
}

void TestCatalog::bad_file_random_bytes() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    std::mt19937 rng(1234);
    std::string bytes(8192, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng() & 0xff);
    write_bytes(file, bytes);

    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "not a ME-Switch catalog or is corrupt");
    VERIFY_CONTAINS(msg, "file is not a database");
    QVERIFY(open_failure(file) == Reason::corrupt);
    QVERIFY(read_bytes(file) == bytes);
    QVERIFY(side_files_absent(file));
}

void TestCatalog::bad_file_truncated() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    make_populated_catalog(file);
    QVERIFY(side_files_absent(file));  // closing checkpointed everything into the file
    std::string bytes = read_bytes(file);
    QVERIFY(bytes.size() > 16 * 4096);
    bytes.resize(bytes.size() / 2);
    write_bytes(file, bytes);

    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "not a ME-Switch catalog or is corrupt");
    QVERIFY(open_failure(file) == Reason::corrupt);
    QVERIFY(read_bytes(file) == bytes);
    // SQLite may open an empty -wal for a WAL-mode file, but nothing is written to it.
    const fs::path wal = file.string() + "-wal";
    QVERIFY(!fs::exists(wal) || fs::file_size(wal) == 0);
}

void TestCatalog::bad_file_damaged_with_wal() {
    // Committed transactions still in the WAL beside a file with a damaged page: refusing
    // the file must not checkpoint the WAL into it (SQLite would on close) or reset the WAL.
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    make_populated_catalog(file);
    {
        RawDb raw(file);
        QVERIFY(raw.db != nullptr);
        sqlite3_db_config(raw.db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
        QCOMPARE(exec_rc(raw.db,
                         "PRAGMA wal_autocheckpoint = 0;"
                         "INSERT INTO chats (title) VALUES ('only in the wal');"),
                 SQLITE_OK);
    }
    const fs::path wal = file.string() + "-wal";
    QVERIFY(fs::exists(wal) && fs::file_size(wal) > 0);
    std::string bytes = read_bytes(file);
    const std::size_t page = 4096;
    QVERIFY(bytes.size() > 16 * page);
    const std::string wal_bytes = read_bytes(wal);
    // The pages the WAL holds newer copies of (readers see those, not the damage): the big-endian
    // page number that starts each frame after the 32-byte WAL header.
    std::vector<std::size_t> in_wal;
    for (std::size_t at = 32; at + 24 + page <= wal_bytes.size(); at += 24 + page) {
        std::size_t number = 0;
        for (std::size_t i = 0; i < 4; ++i) number = number << 8 | std::uint8_t(wal_bytes[at + i]);
        in_wal.push_back(number);
    }
    // Damage the middle page, or the next one the WAL does not shadow (schema changes move the
    // tables' pages around).
    std::size_t middle = bytes.size() / 2 / page * page;
    while (std::find(in_wal.begin(), in_wal.end(), middle / page + 1) != in_wal.end())
        middle += page;
    QVERIFY(middle + page <= bytes.size());
    for (std::size_t i = middle; i < middle + page; ++i) bytes[i] = '\x55';
    write_bytes(file, bytes);

    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "not a ME-Switch catalog or is corrupt");
    QVERIFY(open_failure(file) == Reason::corrupt);
    QVERIFY(read_bytes(file) == bytes);
    QVERIFY(read_bytes(wal) == wal_bytes);
}

void TestCatalog::bad_file_foreign_database() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "other.sqlite";
    {
        RawDb raw(file);
        QCOMPARE(exec_rc(raw.db,
                         "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
                         "INSERT INTO notes (body) VALUES ('mine');"),
                 SQLITE_OK);
    }
    const std::string before = read_bytes(file);
    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, file.string());
    VERIFY_CONTAINS(msg, "not a ME-Switch catalog");
    QVERIFY(open_failure(file) == Reason::foreign);
    QVERIFY(read_bytes(file) == before);
}

void TestCatalog::zero_length_file_is_damage() {
    // Catalogs are created whole under a temporary name, so an existing empty file is a
    // catalog that was truncated or overwritten: say so, never start afresh in silence.
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    write_bytes(file, "");
    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "the file is empty (0 bytes)");
    QVERIFY(open_failure(file) == Reason::corrupt);  // the Studio offers to move it aside
    QCOMPARE(fs::file_size(file), std::uintmax_t(0));
    QVERIFY(side_files_absent(file));
    // Moved aside, a new catalog takes its place.
    const fs::path aside = move_aside_corrupt_catalog(file);
    QVERIFY(fs::exists(aside));
    Catalog cat(file);
    QCOMPARE(cat.schema_version(), Catalog::current_schema_version);
}

void TestCatalog::schema_lost_is_damage() {
    // A SQLite file whose tables were all dropped is damage too, not a new catalog.
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    {
        RawDb raw(file);
        QCOMPARE(exec_rc(raw.db, "CREATE TABLE t (x); DROP TABLE t;"), SQLITE_OK);
    }
    const std::string before = read_bytes(file);
    QVERIFY(!before.empty());
    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "lost its schema");
    QVERIFY(open_failure(file) == Reason::corrupt);
    QVERIFY(read_bytes(file) == before);
}

void TestCatalog::missing_table_is_damage() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    make_populated_catalog(file);
    {
        RawDb raw(file);
        QCOMPARE(exec_rc(raw.db, "PRAGMA foreign_keys = OFF; DROP TABLE messages;"), SQLITE_OK);
    }
    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "table 'messages' is missing");
    QVERIFY(open_failure(file) == Reason::corrupt);
}

void TestCatalog::new_catalog_created_whole() {
    // A new catalog appears complete (schema applied, WAL mode recorded in the file) and no
    // temporary file is left beside it.
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    const fs::path file = folder / "catalog.sqlite";
    {
        Catalog cat(file);
        QCOMPARE(cat.schema_version(), Catalog::current_schema_version);
        std::size_t entries = 0;
        for (const auto& entry : fs::directory_iterator(folder)) {
            ++entries;
            QVERIFY2(entry.path().filename().string().rfind("catalog.sqlite", 0) == 0,
                     entry.path().c_str());
        }
        QVERIFY(entries >= 1);
    }
    const std::string bytes = read_bytes(file);
    QVERIFY(bytes.size() >= 100);
    QCOMPARE(int(bytes[18]), 2);  // file format write version 2: WAL
    QCOMPARE(int(bytes[19]), 2);
}

void TestCatalog::directory_instead_of_file() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    fs::create_directory(file);
    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "is a folder");
    QVERIFY(open_failure(file) == Reason::access);
    QVERIFY(fs::is_directory(file));
    QVERIFY(fs::is_empty(file));
    QVERIFY(side_files_absent(file));
}

void TestCatalog::parent_not_a_folder() {
    QTemporaryDir dir;
    const fs::path not_dir = fs::path(dir.path().toStdString()) / "plain-file";
    write_bytes(not_dir, "not a folder");
    const fs::path file = not_dir / "catalog.sqlite";
    std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "is not a folder");
    QVERIFY(open_failure(file) == Reason::access);
    QCOMPARE(qs(read_bytes(not_dir)), QStringLiteral("not a folder"));

    const fs::path missing = fs::path(dir.path().toStdString()) / "missing" / "catalog.sqlite";
    msg = catalog_error([&] { Catalog cat(missing); });
    VERIFY_CONTAINS(msg, missing.string());
    VERIFY_CONTAINS(msg, "does not exist");
    QVERIFY(!fs::exists(missing.parent_path()));
}

void TestCatalog::unreadable_file() {
    if (::geteuid() == 0) QSKIP("running as root: file permissions do not stop root");
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    make_populated_catalog(file);
    const std::string before = read_bytes(file);

    QCOMPARE(::chmod(file.c_str(), 0), 0);
    std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "cannot open the file");
    VERIFY_CONTAINS(msg, "Permission denied");
    QVERIFY(open_failure(file) == Reason::access);

    QCOMPARE(::chmod(file.c_str(), 0444), 0);  // readable but not writable
    msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, file.string());
    VERIFY_CONTAINS(msg, "Permission denied");

    QCOMPARE(::chmod(file.c_str(), 0644), 0);
    QVERIFY(read_bytes(file) == before);
    Catalog cat(file);
    QCOMPARE(cat.list_models().size(), std::size_t(2));
}

void TestCatalog::open_error_reasons() {
    QVERIFY(CatalogOpenError(Reason::corrupt, "x").can_move_aside());
    QVERIFY(CatalogOpenError(Reason::foreign, "x").can_move_aside());
    QVERIFY(!CatalogOpenError(Reason::newer_version, "x").can_move_aside());
    QVERIFY(!CatalogOpenError(Reason::access, "x").can_move_aside());
    QVERIFY(!CatalogOpenError(Reason::other, "x").can_move_aside());
    QCOMPARE(CatalogOpenError(Reason::other, "x").kind(), ErrorKind::catalog);
}

void TestCatalog::move_aside_corrupt() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    const std::string garbage(5000, 'g');
    write_bytes(file, garbage);
    write_bytes(file.string() + "-wal", "stale wal");
    QVERIFY(!catalog_error([&] { Catalog cat(file); }).starts_with("<"));

    const fs::path moved = move_aside_corrupt_catalog(file);
    const QRegularExpression name_re(QStringLiteral("^catalog\\.sqlite\\.corrupt-\\d{8}-\\d{6}$"));
    QVERIFY2(name_re.match(qs(moved.filename().string())).hasMatch(), moved.c_str());
    QCOMPARE(moved.parent_path(), file.parent_path());
    QVERIFY(!fs::exists(file));
    QVERIFY(!fs::exists(file.string() + "-wal"));
    QVERIFY(read_bytes(moved) == garbage);
    QCOMPARE(qs(read_bytes(moved.string() + "-wal")), QStringLiteral("stale wal"));

    {
        Catalog fresh(file);
        QCOMPARE(fresh.schema_version(), Catalog::current_schema_version);
        fresh.add_model(base_model("base"));
    }
    // A second move in the same second gets its own name; nothing is overwritten.
    const fs::path moved2 = move_aside_corrupt_catalog(file);
    QVERIFY(moved2 != moved);
    QVERIFY(read_bytes(moved) == garbage);
    QVERIFY(fs::exists(moved2));

    bool io_error = false;
    try {
        move_aside_corrupt_catalog(file);  // nothing there any more
    } catch (const Error& e) {
        io_error = e.kind() == ErrorKind::io && contains(e.what(), file.string());
    }
    QVERIFY(io_error);
}
