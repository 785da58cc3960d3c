#include "catalog/schema.h"

#include "meswitch/catalog.h"

namespace meswitch::catalog {
namespace {

// Timestamps: ISO 8601 UTC with milliseconds, e.g. 2024-05-01T12:34:56.789Z.
#define MESWITCH_NOW "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"

// Version 1: models, domains, artifacts, compression runs, chats and messages.
constexpr const char* migration_1_initial = R"sql(
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
    created_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(,
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
    created_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(
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
    created_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(
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
    created_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(,
    updated_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(
);
CREATE INDEX chats_updated ON chats(updated_at);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    text TEXT NOT NULL DEFAULT '',
    expert_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
    routing_confidence REAL,
    created_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(
);
CREATE INDEX messages_chat ON messages(chat_id, id);
CREATE INDEX messages_expert ON messages(expert_id);
)sql";

// Version 2: generation timings on chat messages (shown under each answer).
constexpr const char* migration_2_message_timings = R"sql(
ALTER TABLE messages ADD COLUMN token_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN prompt_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN generate_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN tokens_per_second REAL NOT NULL DEFAULT 0;
)sql";

// Version 3: trained router models (domain classifiers), newest version wins. The router
// module reads and writes this table through Catalog::handle().
constexpr const char* migration_3_router_models = R"sql(
CREATE TABLE router_models (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(,
    feature_spec TEXT NOT NULL DEFAULT '',
    blob BLOB NOT NULL
);
CREATE INDEX router_models_version ON router_models(version);
)sql";

// Version 4: MoE consolidation plans (engine/src/moe/plan_store.cpp): which (layer, expert)
// positions the variants of one Mixtral family share, with the distances that chose them.
constexpr const char* migration_4_moe_plans = R"sql(
CREATE TABLE moe_plans (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    base_path TEXT NOT NULL,
    metric TEXT NOT NULL CHECK (metric IN ('l2', 'cosine')),
    shared_expert TEXT NOT NULL CHECK (shared_expert IN ('mean', 'medoid', 'base')),
    layers INTEGER NOT NULL,
    experts INTEGER NOT NULL,
    expert_block_bytes INTEGER NOT NULL,
    non_expert_bytes INTEGER NOT NULL,
    budget_bytes INTEGER,
    created_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(
);

CREATE TABLE moe_plan_variants (
    plan_id INTEGER NOT NULL REFERENCES moe_plans(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (plan_id, position)
) WITHOUT ROWID;

CREATE TABLE moe_plan_positions (
    plan_id INTEGER NOT NULL REFERENCES moe_plans(id) ON DELETE CASCADE,
    layer INTEGER NOT NULL,
    expert INTEGER NOT NULL,
    shared INTEGER NOT NULL CHECK (shared IN (0, 1)),
    distance REAL NOT NULL,
    base_distance REAL NOT NULL,
    PRIMARY KEY (plan_id, layer, expert)
) WITHOUT ROWID;
)sql";

// Version 5: regenerated answers kept as alternatives (the Chat page's ‹ 1/2 ›). The message
// row always holds the chosen alternative, so a conversation read from `messages` is what the
// next turn sees; `message_alternatives` holds every alternative of a message that has more
// than one (an answer never regenerated has no rows there), `messages.alternative` the
// position of the chosen one.
constexpr const char* migration_5_message_alternatives = R"sql(
ALTER TABLE messages ADD COLUMN alternative INTEGER NOT NULL DEFAULT 0;

CREATE TABLE message_alternatives (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    expert_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
    routing_confidence REAL,
    token_count INTEGER NOT NULL DEFAULT 0,
    prompt_ms REAL NOT NULL DEFAULT 0,
    generate_ms REAL NOT NULL DEFAULT 0,
    tokens_per_second REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT )sql" MESWITCH_NOW R"sql(,
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID;
CREATE INDEX message_alternatives_expert ON message_alternatives(expert_id);
)sql";

// Version 6: a model's sampling defaults from its generation_config.json (HF's keys, the
// compact JSON GenerationDefaults::to_json writes; '' when the folder had none), read at
// import and used wherever that model answers unless the user chose otherwise.
constexpr const char* migration_6_generation_config = R"sql(
ALTER TABLE models ADD COLUMN generation_config TEXT NOT NULL DEFAULT '';
)sql";

#undef MESWITCH_NOW

constexpr Migration all_migrations[] = {
    {1, "initial tables", migration_1_initial},
    {2, "message timing columns", migration_2_message_timings},
    {3, "router models table", migration_3_router_models},
    {4, "MoE consolidation plans", migration_4_moe_plans},
    {5, "message alternatives", migration_5_message_alternatives},
    {6, "model generation defaults", migration_6_generation_config},
};

static_assert(std::size(all_migrations) == Catalog::current_schema_version,
              "the last migration must be Catalog::current_schema_version");
static_assert(application_id == 1296388951, "migration 1 writes this application_id");

}  // namespace

std::span<const Migration> migrations() {
    return all_migrations;
}

}  // namespace meswitch::catalog
