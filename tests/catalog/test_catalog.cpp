// The SQLite catalog: creation, round trips of every record, migrations from an older
// schema, constraint errors, crash safety (a child killed mid-transaction) and bad files.
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "meswitch/catalog.h"
#include "meswitch/error.h"

namespace fs = std::filesystem;
using namespace meswitch;

namespace {

// A frozen copy of schema migration 1 as released ("initial tables"). It must never follow
// later changes of the engine: the migration test builds a version-1 database from it.
constexpr const char* frozen_schema_v1 = R"sql(
PRAGMA application_id = 1296388951;
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL DEFAULT '',
    architecture TEXT NOT NULL DEFAULT '',
    dtype TEXT NOT NULL DEFAULT '',
    parameter_count INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('base', 'expert')),
    base_model_id INTEGER REFERENCES models(id),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((role = 'base' AND base_model_id IS NULL) OR
           (role = 'expert' AND base_model_id IS NOT NULL))
);
CREATE INDEX models_base ON models(base_model_id);
CREATE TABLE domains (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE domain_examples (
    id INTEGER PRIMARY KEY,
    domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (domain_id, position)
);
CREATE TABLE expert_domains (
    expert_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    PRIMARY KEY (expert_id, domain_id)
);
CREATE INDEX expert_domains_domain ON expert_domains(domain_id);
CREATE TABLE delta_artifacts (
    id INTEGER PRIMARY KEY,
    expert_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    method TEXT NOT NULL,
    bits INTEGER NOT NULL,
    salient_count INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    bits_per_param REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX delta_artifacts_expert ON delta_artifacts(expert_id);
CREATE TABLE compression_runs (
    id INTEGER PRIMARY KEY,
    expert_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    artifact_id INTEGER REFERENCES delta_artifacts(id) ON DELETE SET NULL,
    method TEXT NOT NULL,
    bits INTEGER NOT NULL,
    salient_spec TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'cancelled')),
    message TEXT NOT NULL DEFAULT '',
    seconds REAL NOT NULL DEFAULT 0,
    mean_rel_output_error REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX compression_runs_expert ON compression_runs(expert_id);
CREATE INDEX compression_runs_artifact ON compression_runs(artifact_id);
CREATE TABLE compression_layer_stats (
    run_id INTEGER NOT NULL REFERENCES compression_runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    layer TEXT NOT NULL,
    rows INTEGER NOT NULL,
    cols INTEGER NOT NULL,
    salient INTEGER NOT NULL DEFAULT 0,
    bits_per_param REAL NOT NULL DEFAULT 0,
    rel_output_error REAL NOT NULL DEFAULT 0,
    rel_weight_error REAL NOT NULL DEFAULT 0,
    baseline_rel_output_error REAL,
    seconds REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, position)
);
CREATE TABLE chats (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX chats_updated ON chats(updated_at);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    text TEXT NOT NULL DEFAULT '',
    expert_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
    routing_confidence REAL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX messages_chat ON messages(chat_id, id);
CREATE INDEX messages_expert ON messages(expert_id);
PRAGMA user_version = 1;
)sql";

constexpr const char* frozen_rows_v1 = R"sql(
INSERT INTO models (id, name, path, architecture, dtype, parameter_count, bytes, content_hash,
                    role, base_model_id, created_at)
VALUES (1, 'llama-base', '/models/base', 'LlamaForCausalLM', 'BF16', 1000, 2000, 'aa11', 'base',
        NULL, '2024-01-02T03:04:05.006Z'),
       (2, 'llama-math', '/models/math', 'LlamaForCausalLM', 'BF16', 1000, 2000, 'bb22',
        'expert', 1, '2024-01-02T03:04:06.000Z');
INSERT INTO domains (id, name, description) VALUES (1, 'math', 'arithmetic and proofs');
INSERT INTO domain_examples (domain_id, position, text) VALUES (1, 0, 'what is 2+2?'),
                                                               (1, 1, 'prove it');
INSERT INTO expert_domains (expert_id, domain_id) VALUES (2, 1);
INSERT INTO chats (id, title, system_prompt, created_at, updated_at)
VALUES (1, 'old chat', 'be brief', '2024-01-02T03:04:07.000Z', '2024-01-02T03:04:08.000Z');
INSERT INTO messages (id, chat_id, role, text, expert_id, routing_confidence, created_at)
VALUES (1, 1, 'user', 'hello', NULL, NULL, '2024-01-02T03:04:07.500Z'),
       (2, 1, 'assistant', 'hi there', 2, 0.875, '2024-01-02T03:04:08.000Z');
)sql";

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

std::string read_bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs `f`; returns the message of the Error(catalog) it threw, or a description of what
// happened instead (starting with '<') so that a failed check prints it.
std::string catalog_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::catalog)
            return std::string("<wrong error kind: ") + to_string(e.kind()) + "> " + e.what();
        return e.what();
    } catch (const std::exception& e) {
        return std::string("<not a meswitch::Error> ") + e.what();
    }
    return "<no error>";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

#define VERIFY_CONTAINS(text, part)    \
    QVERIFY2(contains((text), (part)), \
             qPrintable(QStringLiteral("expected \"%1\" in: %2").arg(qs(part), qs(text))))

// A raw connection, for checks the Catalog API does not expose.
struct RawDb {
    sqlite3* db = nullptr;
    explicit RawDb(const fs::path& file, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
        if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
            sqlite3_close_v2(db);
            db = nullptr;
        }
    }
    ~RawDb() { sqlite3_close_v2(db); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;
};

int exec_rc(sqlite3* db, const char* sql) {
    return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

std::string query_text(sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    std::string out = "<error>";
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            const auto* t = sqlite3_column_text(st, 0);
            out = t ? reinterpret_cast<const char*>(t) : "<null>";
        } else {
            out = "<no row>";
        }
    }
    sqlite3_finalize(st);
    return out;
}

std::int64_t query_int(sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    std::int64_t out = -12345;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return out;
}

ModelRecord base_model(const std::string& name) {
    ModelRecord m;
    m.name = name;
    m.path = "/models/" + name;
    m.architecture = "LlamaForCausalLM";
    m.dtype = "BF16";
    m.parameter_count = 260000;
    m.bytes = 520000;
    m.content_hash = "0123456789abcdef";
    m.role = ModelRole::base;
    return m;
}

ModelRecord expert_model(const std::string& name, std::int64_t base_id) {
    ModelRecord m = base_model(name);
    m.role = ModelRole::expert;
    m.base_model_id = base_id;
    m.dtype = "F32";
    m.content_hash = "fedcba9876543210";
    return m;
}

CompressionRunRecord run_with_layers(std::int64_t expert_id, int layers) {
    CompressionRunRecord r;
    r.expert_id = expert_id;
    r.method = "meswitch";
    r.bits = 2;
    r.salient_spec = "2%";
    r.status = RunStatus::finished;
    r.seconds = 12.5;
    r.mean_rel_output_error = 0.0125;
    for (int i = 0; i < layers; ++i) {
        LayerStat l;
        l.layer = "model.layers." + std::to_string(i) + ".self_attn.q_proj.weight";
        l.rows = 64 + i;
        l.cols = 128;
        l.salient = 3;
        l.bits_per_param = 2.25;
        l.rel_output_error = 0.01 * (i + 1);
        l.rel_weight_error = 0.02 * (i + 1);
        l.baseline_rel_output_error = (i % 2 == 0) ? 0.5 : -1;
        l.seconds = 0.25;
        r.layers.push_back(l);
    }
    return r;
}

bool is_iso_timestamp(const std::string& s) {
    static const QRegularExpression re(
        QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$"));
    return re.match(qs(s)).hasMatch();
}

bool side_files_absent(const fs::path& file) {
    for (const char* suffix : {"-wal", "-shm", "-journal"})
        if (fs::exists(file.string() + suffix)) return false;
    return true;
}

// A real catalog with enough rows to span many pages; closed (checkpointed) on return.
void make_populated_catalog(const fs::path& file) {
    Catalog cat(file);
    const auto base = cat.add_model(base_model("base"));
    const auto expert = cat.add_model(expert_model("expert", base));
    cat.add_compression_run(run_with_layers(expert, 300));
    for (int i = 0; i < 20; ++i) {
        const auto chat = cat.create_chat("chat " + std::to_string(i));
        cat.add_message({0, chat, "user", std::string(500, 'x'), {}, {}, 0, 0, 0, 0, {}});
    }
}

}  // namespace

class TestCatalog : public QObject {
    Q_OBJECT

private slots:
    void creation();
    void models_round_trip();
    void domains_round_trip();
    void artifacts_and_runs_round_trip();
    void remove_model_cascades();
    void chats_and_messages();
    void transactions();
    void constraint_errors();
    void raw_sql_checks();
    void migration_from_version_1();
    void newer_version_refused();
    void crash_during_transaction();
    void bad_file_random_bytes();
    void bad_file_truncated();
    void bad_file_damaged_with_wal();
    void bad_file_foreign_database();
    void zero_length_file_is_new_catalog();
    void directory_instead_of_file();
    void parent_not_a_folder();
    void unreadable_file();
    void move_aside_corrupt();
};

void TestCatalog::creation() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    QVERIFY(!fs::exists(file));
    {
        Catalog cat(file);
        QCOMPARE(cat.schema_version(), Catalog::current_schema_version);
        QCOMPARE(cat.path(), file);
        QVERIFY(fs::exists(file));
        sqlite3* db = cat.handle();
        QVERIFY(db != nullptr);
        QCOMPARE(query_int(db, "PRAGMA user_version"),
                 std::int64_t(Catalog::current_schema_version));
        QCOMPARE(qs(query_text(db, "PRAGMA journal_mode")), QStringLiteral("wal"));
        QCOMPARE(query_int(db, "PRAGMA foreign_keys"), std::int64_t(1));
        QCOMPARE(query_int(db, "PRAGMA synchronous"), std::int64_t(1));  // NORMAL
        QCOMPARE(query_int(db, "PRAGMA busy_timeout"), std::int64_t(5000));
        QVERIFY(cat.list_models().empty());
        QVERIFY(cat.list_chats().empty());

        // Moving keeps the connection usable.
        Catalog moved(std::move(cat));
        QCOMPARE(moved.path(), file);
        QVERIFY(moved.list_domains().empty());
    }
    // The version and WAL mode are stored in the file, as another reader sees them.
    RawDb raw(file, SQLITE_OPEN_READONLY);
    QVERIFY(raw.db != nullptr);
    QCOMPARE(query_int(raw.db, "PRAGMA user_version"),
             std::int64_t(Catalog::current_schema_version));
    QCOMPARE(qs(query_text(raw.db, "PRAGMA journal_mode")), QStringLiteral("wal"));
    QCOMPARE(query_int(raw.db, "PRAGMA application_id"), std::int64_t(0x4D455357));
    // Reopening an up-to-date catalog changes nothing.
    Catalog again(file);
    QCOMPARE(again.schema_version(), Catalog::current_schema_version);
}

void TestCatalog::models_round_trip() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    Catalog cat(file);
    const auto zbase = cat.add_model(base_model("z-base"));
    const auto bbase = cat.add_model(base_model("b-base"));
    ModelRecord e = expert_model("a-expert", zbase);
    const auto expert = cat.add_model(e);
    const auto expert2 = cat.add_model(expert_model("c-expert", zbase));
    QVERIFY(zbase > 0 && bbase > 0 && expert > 0 && expert2 > 0);

    const auto found = cat.find_model("a-expert");
    QVERIFY(found.has_value());
    QCOMPARE(found->id, expert);
    QCOMPARE(qs(found->name), QStringLiteral("a-expert"));
    QCOMPARE(qs(found->path), qs(e.path));
    QCOMPARE(qs(found->architecture), qs(e.architecture));
    QCOMPARE(qs(found->dtype), QStringLiteral("F32"));
    QCOMPARE(found->parameter_count, e.parameter_count);
    QCOMPARE(found->bytes, e.bytes);
    QCOMPARE(qs(found->content_hash), qs(e.content_hash));
    QVERIFY(found->role == ModelRole::expert);
    QVERIFY(found->base_model_id.has_value());
    QCOMPARE(*found->base_model_id, zbase);
    QVERIFY2(is_iso_timestamp(found->created_at), found->created_at.c_str());

    const auto by_id = cat.model(zbase);
    QVERIFY(by_id.has_value());
    QCOMPARE(qs(by_id->name), QStringLiteral("z-base"));
    QVERIFY(by_id->role == ModelRole::base);
    QVERIFY(!by_id->base_model_id.has_value());
    QVERIFY(!cat.find_model("nobody").has_value());
    QVERIFY(!cat.model(9999).has_value());

    // Bases first, then by name.
    const auto all = cat.list_models();
    QCOMPARE(all.size(), std::size_t(4));
    QCOMPARE(qs(all[0].name), QStringLiteral("b-base"));
    QCOMPARE(qs(all[1].name), QStringLiteral("z-base"));
    QCOMPARE(qs(all[2].name), QStringLiteral("a-expert"));
    QCOMPARE(qs(all[3].name), QStringLiteral("c-expert"));

    const auto experts = cat.experts_of(zbase);
    QCOMPARE(experts.size(), std::size_t(2));
    QCOMPARE(experts[0].id, expert);
    QCOMPARE(experts[1].id, expert2);
    QVERIFY(cat.experts_of(bbase).empty());

    QCOMPARE(qs(to_string(ModelRole::base)), QStringLiteral("base"));
    QCOMPARE(qs(to_string(ModelRole::expert)), QStringLiteral("expert"));

    // Removing an unused base works; the data survives reopening.
    cat.remove_model(bbase);
    QVERIFY(!cat.model(bbase).has_value());
    Catalog reopened(file);
    QCOMPARE(reopened.list_models().size(), std::size_t(3));
}

void TestCatalog::domains_round_trip() {
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));
    const auto math = cat.add_model(expert_model("math-expert", base));
    const auto code = cat.add_model(expert_model("code-expert", base));

    const std::vector<std::string> examples = {"what is 7*6?", "solve x^2 = 4", "integrate x"};
    const auto dmath = cat.add_domain("math", "arithmetic, algebra", examples);
    const auto dcode = cat.add_domain("code", "programming");
    const auto dchat = cat.add_domain("chat", "small talk", {"hi"});

    auto found = cat.find_domain("math");
    QVERIFY(found.has_value());
    QCOMPARE(found->id, dmath);
    QCOMPARE(qs(found->description), QStringLiteral("arithmetic, algebra"));
    QCOMPARE(found->examples.size(), examples.size());
    for (std::size_t i = 0; i < examples.size(); ++i)
        QCOMPARE(qs(found->examples[i]), qs(examples[i]));
    QVERIFY(!cat.find_domain("poetry").has_value());

    // Replacing the examples keeps the new order.
    cat.set_domain_examples(dmath, {"third", "first", "second"});
    found = cat.find_domain("math");
    QCOMPARE(found->examples.size(), std::size_t(3));
    QCOMPARE(qs(found->examples[0]), QStringLiteral("third"));
    QCOMPARE(qs(found->examples[2]), QStringLiteral("second"));
    cat.set_domain_examples(dcode, {"write a loop"});

    const auto list = cat.list_domains();  // by name
    QCOMPARE(list.size(), std::size_t(3));
    QCOMPARE(qs(list[0].name), QStringLiteral("chat"));
    QCOMPARE(qs(list[1].name), QStringLiteral("code"));
    QCOMPARE(list[1].examples.size(), std::size_t(1));
    QCOMPARE(qs(list[2].name), QStringLiteral("math"));

    cat.link_expert_domain(math, dmath);
    cat.link_expert_domain(math, dmath);  // linking twice is harmless
    cat.link_expert_domain(math, dchat);
    cat.link_expert_domain(code, dcode);
    cat.link_expert_domain(code, dchat);
    auto of_math = cat.domains_of(math);
    QCOMPARE(of_math.size(), std::size_t(2));
    QCOMPARE(qs(of_math[0].name), QStringLiteral("chat"));
    QCOMPARE(qs(of_math[1].name), QStringLiteral("math"));
    QCOMPARE(of_math[1].examples.size(), std::size_t(3));
    auto for_chat = cat.experts_for_domain(dchat);
    QCOMPARE(for_chat.size(), std::size_t(2));
    QCOMPARE(qs(for_chat[0].name), QStringLiteral("code-expert"));
    QCOMPARE(qs(for_chat[1].name), QStringLiteral("math-expert"));

    cat.unlink_expert_domain(math, dchat);
    QCOMPARE(cat.domains_of(math).size(), std::size_t(1));
    QCOMPARE(cat.experts_for_domain(dchat).size(), std::size_t(1));

    // A base is not linked to domains.
    VERIFY_CONTAINS(catalog_error([&] { cat.link_expert_domain(base, dmath); }), "base model");
    VERIFY_CONTAINS(catalog_error([&] { cat.link_expert_domain(math, 999); }),
                    "no domain with id 999");

    // Removing a domain removes its examples and links.
    cat.remove_domain(dchat);
    QVERIFY(!cat.find_domain("chat").has_value());
    QVERIFY(cat.domains_of(code).size() == 1);
    QCOMPARE(query_int(cat.handle(),
                       "SELECT count(*) FROM domain_examples WHERE domain_id NOT "
                       "IN (SELECT id FROM domains)"),
             std::int64_t(0));
    VERIFY_CONTAINS(catalog_error([&] { cat.remove_domain(dchat); }), "no domain with id");
    VERIFY_CONTAINS(catalog_error([&] { cat.add_domain("math", "again"); }),
                    "a domain named 'math' already exists");
}

void TestCatalog::artifacts_and_runs_round_trip() {
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));
    const auto e1 = cat.add_model(expert_model("e1", base));
    const auto e2 = cat.add_model(expert_model("e2", base));

    DeltaArtifactRecord a{0, e1, "/deltas/e1-2bit.msd", "meswitch", 2, 17, 123456, 2.31, {}};
    const auto a1 = cat.add_delta_artifact(a);
    const auto a2 = cat.add_delta_artifact({0, e2, "/deltas/e2.msd", "rtn", 4, 0, 999, 4.0, {}});
    const auto arts = cat.delta_artifacts();
    QCOMPARE(arts.size(), std::size_t(2));
    QCOMPARE(arts[0].id, a1);
    QCOMPARE(arts[0].expert_id, e1);
    QCOMPARE(qs(arts[0].path), qs(a.path));
    QCOMPARE(qs(arts[0].method), QStringLiteral("meswitch"));
    QCOMPARE(arts[0].bits, 2);
    QCOMPARE(arts[0].salient_count, std::int64_t(17));
    QCOMPARE(arts[0].bytes, std::int64_t(123456));
    QCOMPARE(arts[0].bits_per_param, 2.31);
    QVERIFY(is_iso_timestamp(arts[0].created_at));
    const auto only_e2 = cat.delta_artifacts(e2);
    QCOMPARE(only_e2.size(), std::size_t(1));
    QCOMPARE(only_e2[0].id, a2);

    auto run = run_with_layers(e1, 5);
    run.artifact_id = a1;
    const auto r1 = cat.add_compression_run(run);
    CompressionRunRecord failed = run_with_layers(e2, 0);
    failed.status = RunStatus::failed;
    failed.message = "out of memory on layer 3";
    const auto r2 = cat.add_compression_run(failed);

    const auto got = cat.compression_run(r1);
    QVERIFY(got.has_value());
    QCOMPARE(got->expert_id, e1);
    QVERIFY(got->artifact_id.has_value());
    QCOMPARE(*got->artifact_id, a1);
    QCOMPARE(qs(got->method), QStringLiteral("meswitch"));
    QCOMPARE(got->bits, 2);
    QCOMPARE(qs(got->salient_spec), QStringLiteral("2%"));
    QVERIFY(got->status == RunStatus::finished);
    QCOMPARE(got->seconds, 12.5);
    QCOMPARE(got->mean_rel_output_error, 0.0125);
    QVERIFY(is_iso_timestamp(got->created_at));
    QCOMPARE(got->layers.size(), std::size_t(5));
    for (std::size_t i = 0; i < 5; ++i) {
        const LayerStat& want = run.layers[i];
        const LayerStat& have = got->layers[i];
        QCOMPARE(qs(have.layer), qs(want.layer));
        QCOMPARE(have.rows, want.rows);
        QCOMPARE(have.cols, want.cols);
        QCOMPARE(have.salient, want.salient);
        QCOMPARE(have.bits_per_param, want.bits_per_param);
        QCOMPARE(have.rel_output_error, want.rel_output_error);
        QCOMPARE(have.rel_weight_error, want.rel_weight_error);
        QCOMPARE(have.baseline_rel_output_error, want.baseline_rel_output_error);
        QCOMPARE(have.seconds, want.seconds);
    }

    const auto all = cat.compression_runs();
    QCOMPARE(all.size(), std::size_t(2));
    QVERIFY(all[0].layers.empty());  // without layers unless asked
    QVERIFY(all[1].status == RunStatus::failed);
    QCOMPARE(qs(all[1].message), QStringLiteral("out of memory on layer 3"));
    QVERIFY(!all[1].artifact_id.has_value());
    const auto e1_runs = cat.compression_runs(e1, true);
    QCOMPARE(e1_runs.size(), std::size_t(1));
    QCOMPARE(e1_runs[0].layers.size(), std::size_t(5));
    QCOMPARE(cat.compression_runs(e2).front().id, r2);
    QVERIFY(!cat.compression_run(9999).has_value());

    for (auto s : {RunStatus::running, RunStatus::cancelled}) {
        auto r = run_with_layers(e2, 1);
        r.status = s;
        const auto id = cat.add_compression_run(r);
        QVERIFY(cat.compression_run(id)->status == s);
    }

    // Removing the artifact keeps the run and clears its link.
    cat.remove_delta_artifact(a1);
    QCOMPARE(cat.delta_artifacts().size(), std::size_t(1));
    const auto after = cat.compression_run(r1);
    QVERIFY(after.has_value());
    QVERIFY(!after->artifact_id.has_value());
    QCOMPARE(after->layers.size(), std::size_t(5));
    VERIFY_CONTAINS(catalog_error([&] { cat.remove_delta_artifact(a1); }), "no such artifact");

    VERIFY_CONTAINS(catalog_error([&] {
                        cat.add_delta_artifact({0, 77, "/x.msd", "rtn", 2, 0, 0, 0, {}});
                    }),
                    "names expert id 77 which does not exist");
    VERIFY_CONTAINS(catalog_error([&] {
                        cat.add_delta_artifact({0, base, "/x.msd", "rtn", 2, 0, 0, 0, {}});
                    }),
                    "is a base model, not an expert");
    auto bad_run = run_with_layers(e1, 3);
    bad_run.artifact_id = 4242;
    VERIFY_CONTAINS(catalog_error([&] { cat.add_compression_run(bad_run); }),
                    "delta artifact id 4242 which does not exist");
    QCOMPARE(cat.compression_runs().size(), std::size_t(4));  // the refused run left nothing
}

void TestCatalog::remove_model_cascades() {
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));
    const auto e1 = cat.add_model(expert_model("e1", base));
    const auto e2 = cat.add_model(expert_model("e2", base));
    const auto domain = cat.add_domain("math", "", {"a", "b"});
    cat.link_expert_domain(e1, domain);
    cat.link_expert_domain(e2, domain);
    const auto art = cat.add_delta_artifact({0, e1, "/d/e1.msd", "meswitch", 2, 1, 1, 2.0, {}});
    auto run = run_with_layers(e1, 4);
    run.artifact_id = art;
    cat.add_compression_run(run);
    cat.add_compression_run(run_with_layers(e2, 2));
    const auto chat = cat.create_chat("c");
    const auto msg = cat.add_message({0, chat, "assistant", "answer", e1, 0.9, 3, 1, 2, 3, {}});

    VERIFY_CONTAINS(catalog_error([&] { cat.remove_model(base); }),
                    "cannot remove base 'base': experts 'e1', 'e2' still use it");

    cat.remove_model(e1);
    QVERIFY(!cat.model(e1).has_value());
    QVERIFY(cat.delta_artifacts(e1).empty());
    QVERIFY(cat.compression_runs(e1).empty());
    QCOMPARE(cat.compression_runs().size(), std::size_t(1));
    sqlite3* db = cat.handle();
    QCOMPARE(query_int(db, "SELECT count(*) FROM compression_layer_stats"), std::int64_t(2));
    QCOMPARE(cat.experts_for_domain(domain).size(), std::size_t(1));
    QCOMPARE(cat.find_domain("math")->examples.size(), std::size_t(2));  // the domain stays
    const auto msgs = cat.messages(chat);
    QCOMPARE(msgs.size(), std::size_t(1));  // the message stays, answered by "no longer known"
    QCOMPARE(msgs[0].id, msg);
    QVERIFY(!msgs[0].expert_id.has_value());

    VERIFY_CONTAINS(catalog_error([&] { cat.remove_model(base); }),
                    "cannot remove base 'base': expert 'e2' still uses it");
    cat.remove_model(e2);
    cat.remove_model(base);
    QVERIFY(cat.list_models().empty());
    VERIFY_CONTAINS(catalog_error([&] { cat.remove_model(base); }), "no such model");
    QCOMPARE(query_int(db, "SELECT count(*) FROM compression_layer_stats"), std::int64_t(0));
    QCOMPARE(qs(query_text(db, "PRAGMA foreign_key_check")), QStringLiteral("<no row>"));
}

void TestCatalog::chats_and_messages() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    Catalog cat(file);
    const auto base = cat.add_model(base_model("base"));
    const auto expert = cat.add_model(expert_model("math", base));

    const auto c1 = cat.create_chat("first", "You are helpful.");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // distinct millisecond stamps
    const auto c2 = cat.create_chat("second");
    auto chats = cat.list_chats();
    QCOMPARE(chats.size(), std::size_t(2));
    QCOMPARE(chats[0].id, c2);  // most recently updated first
    QCOMPARE(qs(chats[1].system_prompt), QStringLiteral("You are helpful."));
    QVERIFY(is_iso_timestamp(chats[1].created_at));
    QVERIFY(is_iso_timestamp(chats[1].updated_at));
    const std::string c1_updated_before = chats[1].updated_at;

    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    MessageRecord user{0, c1, "user", "what is 6*7?", {}, {}, 6, 0, 0, 0, {}};
    const auto m1 = cat.add_message(user);
    MessageRecord answer{0, c1, "assistant", "42", expert, 0.93, 2, 12.5, 80.25, 24.9, {}};
    const auto m2 = cat.add_message(answer);
    const auto m3 = cat.add_message({0, c1, "user", "and 6*8?", {}, {}, 6, 0, 0, 0, {}});
    const auto m4 = cat.add_message({0, c1, "assistant", "48", {}, {}, 2, 1, 2, 3, {}});
    QVERIFY(m1 < m2 && m2 < m3 && m3 < m4);

    chats = cat.list_chats();
    QCOMPARE(chats[0].id, c1);  // the new message moved it to the top
    QVERIFY(chats[0].updated_at > c1_updated_before);

    auto msgs = cat.messages(c1);
    QCOMPARE(msgs.size(), std::size_t(4));
    QCOMPARE(msgs[0].id, m1);
    QCOMPARE(qs(msgs[0].role), QStringLiteral("user"));
    QCOMPARE(qs(msgs[0].text), QStringLiteral("what is 6*7?"));
    QVERIFY(!msgs[0].expert_id.has_value());
    QVERIFY(!msgs[0].routing_confidence.has_value());
    QCOMPARE(msgs[1].chat_id, c1);
    QCOMPARE(*msgs[1].expert_id, expert);
    QCOMPARE(*msgs[1].routing_confidence, 0.93);
    QCOMPARE(msgs[1].token_count, std::int64_t(2));
    QCOMPARE(msgs[1].prompt_ms, 12.5);
    QCOMPARE(msgs[1].generate_ms, 80.25);
    QCOMPARE(msgs[1].tokens_per_second, 24.9);
    QVERIFY(is_iso_timestamp(msgs[1].created_at));
    QVERIFY(cat.messages(c2).empty());

    // Edit and resend: everything from the second user message on goes.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cat.add_message({0, c2, "user", "hello", {}, {}, 1, 0, 0, 0, {}});
    QCOMPARE(cat.list_chats()[0].id, c2);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cat.truncate_chat(c1, m3);
    msgs = cat.messages(c1);
    QCOMPARE(msgs.size(), std::size_t(2));
    QCOMPARE(msgs[1].id, m2);
    QCOMPARE(cat.list_chats()[0].id, c1);  // truncating is a change too
    cat.truncate_chat(c1, m3);             // nothing left to remove: no error
    QCOMPARE(cat.messages(c1).size(), std::size_t(2));

    cat.rename_chat(c2, "renamed");
    cat.set_chat_system_prompt(c2, "Answer in French.");
    chats = cat.list_chats();
    QCOMPARE(qs(chats[1].title), QStringLiteral("renamed"));
    QCOMPARE(qs(chats[1].system_prompt), QStringLiteral("Answer in French."));

    cat.remove_chat(c1);
    QCOMPARE(cat.list_chats().size(), std::size_t(1));
    QVERIFY(cat.messages(c1).empty());
    QCOMPARE(query_int(cat.handle(), "SELECT count(*) FROM messages"), std::int64_t(1));

    VERIFY_CONTAINS(catalog_error([&] { cat.rename_chat(c1, "x"); }), "no such chat");
    VERIFY_CONTAINS(catalog_error([&] { cat.remove_chat(c1); }), "no such chat");
    VERIFY_CONTAINS(catalog_error([&] { cat.truncate_chat(c1, 1); }), "no such chat");
    VERIFY_CONTAINS(catalog_error([&] { cat.set_chat_system_prompt(c1, "x"); }), "no such chat");
    QCOMPARE(qs(to_string(RunStatus::cancelled)), QStringLiteral("cancelled"));
}

void TestCatalog::transactions() {
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));

    // A failing body leaves nothing behind.
    const std::string failed = catalog_error([&] {
        cat.transaction([&] {
            cat.add_model(expert_model("e1", base));
            cat.create_chat("inside");
            cat.add_model(base_model("base"));  // duplicate: throws
        });
    });
    VERIFY_CONTAINS(failed, "a model named 'base' already exists");
    QVERIFY(!cat.find_model("e1").has_value());
    QVERIFY(cat.list_chats().empty());

    // A non-catalog exception rolls back too and is rethrown unchanged.
    bool caught = false;
    try {
        cat.transaction([&] {
            cat.create_chat("doomed");
            throw std::runtime_error("user code failed");
        });
    } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "user code failed";
    }
    QVERIFY(caught);
    QVERIFY(cat.list_chats().empty());

    // Nested: an inner failure caught by the outer body undoes only the inner part.
    cat.transaction([&] {
        cat.create_chat("outer");
        const std::string inner = catalog_error([&] {
            cat.transaction([&] {
                cat.create_chat("inner");
                cat.rename_chat(424242, "nobody");  // throws
            });
        });
        VERIFY_CONTAINS(inner, "no such chat");
        cat.add_model(expert_model("e2", base));  // add_model's own transaction joins this one
    });
    const auto chats = cat.list_chats();
    QCOMPARE(chats.size(), std::size_t(1));
    QCOMPARE(qs(chats[0].title), QStringLiteral("outer"));
    QVERIFY(cat.find_model("e2").has_value());
    QVERIFY(sqlite3_get_autocommit(cat.handle()) != 0);  // no transaction left open
}

void TestCatalog::constraint_errors() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    Catalog cat(file);
    const auto base = cat.add_model(base_model("foo"));
    const auto e1 = cat.add_model(expert_model("e1", base));

    std::string msg = catalog_error([&] { cat.add_model(base_model("foo")); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ": a model named 'foo' already exists");

    ModelRecord orphan = expert_model("orphan", 0);
    orphan.base_model_id.reset();
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(orphan); }),
                    "expert 'orphan' names no base model");
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(expert_model("lost", 7)); }),
                    "expert 'lost' names base id 7 which does not exist");
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(expert_model("chained", e1)); }),
                    "that is an expert, not a base model");
    ModelRecord base_with_base = base_model("weird");
    base_with_base.base_model_id = base;
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(base_with_base); }),
                    "cannot itself name a base");
    VERIFY_CONTAINS(catalog_error([&] { cat.add_model(base_model("")); }), "needs a name");
    QCOMPARE(cat.list_models().size(), std::size_t(2));

    VERIFY_CONTAINS(catalog_error([&] { cat.remove_model(base); }),
                    "cannot remove base 'foo': expert 'e1' still uses it");

    msg = catalog_error([&] {
        cat.add_message({0, 4711, "user", "hello?", {}, {}, 0, 0, 0, 0, {}});
    });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ": cannot add a message to chat id 4711");
    VERIFY_CONTAINS(msg, "no such chat");
    const auto chat = cat.create_chat("c");
    VERIFY_CONTAINS(catalog_error([&] {
                        cat.add_message({0, chat, "robot", "beep", {}, {}, 0, 0, 0, 0, {}});
                    }),
                    "message role 'robot' is not one of system, user, assistant");
    VERIFY_CONTAINS(catalog_error([&] {
                        cat.add_message({0, chat, "assistant", "x", 999, 0.5, 0, 0, 0, 0, {}});
                    }),
                    "names expert id 999 which does not exist");
    QVERIFY(cat.messages(chat).empty());
    VERIFY_CONTAINS(catalog_error([&] { cat.set_domain_examples(55, {"x"}); }),
                    "no domain with id 55");
}

void TestCatalog::raw_sql_checks() {
    // The schema itself refuses bad rows, whoever writes them.
    QTemporaryDir dir;
    Catalog cat(fs::path(dir.path().toStdString()) / "catalog.sqlite");
    const auto base = cat.add_model(base_model("base"));
    const auto expert = cat.add_model(expert_model("expert", base));
    sqlite3* db = cat.handle();

    auto expect_constraint = [&](const char* sql, const char* what) {
        const int rc = exec_rc(db, sql);
        QVERIFY2((rc & 0xff) == SQLITE_CONSTRAINT,
                 qPrintable(QStringLiteral("%1: rc %2 (%3)")
                                .arg(QLatin1String(what))
                                .arg(rc)
                                .arg(QLatin1String(sqlite3_errmsg(db)))));
    };
    expect_constraint("INSERT INTO models (name, role) VALUES ('x', 'teacher')", "bad role");
    expect_constraint("INSERT INTO models (name, role) VALUES ('x', 'expert')",
                      "expert without base");
    expect_constraint("INSERT INTO models (name, role, base_model_id) VALUES ('x', 'base', 1)",
                      "base with a base");
    expect_constraint("INSERT INTO models (name, role, base_model_id) VALUES ('x', 'expert', 99)",
                      "expert naming a missing base (foreign key)");
    const std::string bad_status =
        "INSERT INTO compression_runs (expert_id, method, bits, status) VALUES (" +
        std::to_string(expert) + ", 'rtn', 2, 'paused')";
    expect_constraint(bad_status.c_str(), "bad status");
    expect_constraint("INSERT INTO messages (chat_id, role) VALUES (12345, 'user')",
                      "message for a missing chat (foreign key)");
    cat.create_chat("c");
    expect_constraint("INSERT INTO messages (chat_id, role) VALUES (1, 'narrator')",
                      "bad message role");
    QCOMPARE(cat.list_models().size(), std::size_t(2));
}

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

    // Reopening does not migrate again.
    Catalog again(file);
    QCOMPARE(again.messages(chats[0].id).size(), std::size_t(3));
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
    const std::size_t middle = bytes.size() / 2 / page * page;
    for (std::size_t i = middle; i < middle + page; ++i) bytes[i] = '\x55';
    write_bytes(file, bytes);
    const std::string wal_bytes = read_bytes(wal);

    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "not a ME-Switch catalog or is corrupt");
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
    QVERIFY(read_bytes(file) == before);
}

void TestCatalog::zero_length_file_is_new_catalog() {
    // SQLite treats an empty file as an empty database: it becomes a new catalog.
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    write_bytes(file, "");
    QCOMPARE(fs::file_size(file), std::uintmax_t(0));
    Catalog cat(file);
    QCOMPARE(cat.schema_version(), Catalog::current_schema_version);
    QVERIFY(cat.list_models().empty());
    cat.add_model(base_model("base"));
    QCOMPARE(cat.list_models().size(), std::size_t(1));
}

void TestCatalog::directory_instead_of_file() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "catalog.sqlite";
    fs::create_directory(file);
    const std::string msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, "catalog " + file.string() + ":");
    VERIFY_CONTAINS(msg, "is a folder");
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

    QCOMPARE(::chmod(file.c_str(), 0444), 0);  // readable but not writable
    msg = catalog_error([&] { Catalog cat(file); });
    VERIFY_CONTAINS(msg, file.string());
    VERIFY_CONTAINS(msg, "Permission denied");

    QCOMPARE(::chmod(file.c_str(), 0644), 0);
    QVERIFY(read_bytes(file) == before);
    Catalog cat(file);
    QCOMPARE(cat.list_models().size(), std::size_t(2));
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

QTEST_GUILESS_MAIN(TestCatalog)
#include "test_catalog.moc"
