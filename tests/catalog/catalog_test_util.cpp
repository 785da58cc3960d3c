#include "catalog_test_util.h"

#include <QRegularExpression>

#include <fstream>

namespace catalog_test {

// Schema version 1 exactly as released. It must never follow later changes of the engine:
// the migration test builds a version-1 database from it.
const char* const frozen_schema_v1 = R"sql(
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

const char* const frozen_rows_v1 = R"sql(
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

RawDb::RawDb(const fs::path& file, int flags) {
    if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(db);
        db = nullptr;
    }
}

RawDb::~RawDb() {
    sqlite3_close_v2(db);
}

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

std::optional<Reason> open_failure(const fs::path& file) {
    try {
        Catalog cat(file);
    } catch (const CatalogOpenError& e) {
        return e.reason();
    } catch (...) {
    }
    return std::nullopt;
}

bool side_files_absent(const fs::path& file) {
    for (const char* suffix : {"-wal", "-shm", "-journal"})
        if (fs::exists(file.string() + suffix)) return false;
    return true;
}

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

}  // namespace catalog_test
