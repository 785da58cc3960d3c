// The catalog: one SQLite database (WAL, foreign keys, versioned schema) that records
// models, experts, domains, compressed delta artifacts, compression runs and chats.
// Every multi-statement change runs in one transaction. Errors are Error(ErrorKind::catalog)
// and name the database file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/error.h"

struct sqlite3;

namespace meswitch {

enum class ModelRole { base, expert };  // stored as the text 'base' / 'expert'
const char* to_string(ModelRole role);

struct ModelRecord {
    std::int64_t id = 0;
    std::string name;          // unique
    std::string path;          // the model folder (referenced in place or copied)
    std::string architecture;  // "LlamaForCausalLM", ...
    std::string dtype;         // "F32", "BF16", "F16"
    std::int64_t parameter_count = 0;
    std::int64_t bytes = 0;    // size of the tensor data on disk
    std::string content_hash;  // xxhash of the tensor data, hex
    ModelRole role = ModelRole::base;
    std::optional<std::int64_t> base_model_id;  // set for experts
    std::string created_at;                     // ISO 8601 UTC, filled by the catalog
    // Sampling defaults from the folder's generation_config.json at import
    // (GenerationDefaults::to_json; "" when it had none).
    std::string generation_config;
};

struct DomainRecord {
    std::int64_t id = 0;
    std::string name;  // unique
    std::string description;
    std::vector<std::string> examples;  // example prompts, in order
};

struct DeltaArtifactRecord {
    std::int64_t id = 0;
    std::int64_t expert_id = 0;
    std::string path;    // the .msd file
    std::string method;  // "meswitch", "rtn", "bitdelta"
    int bits = 0;
    std::int64_t salient_count = 0;
    std::int64_t bytes = 0;
    double bits_per_param = 0;
    std::string created_at;
};

struct LayerStat {
    std::string layer;  // tensor name, e.g. "model.layers.0.self_attn.q_proj.weight"
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::int64_t salient = 0;
    double bits_per_param = 0;
    double rel_output_error = 0;
    double rel_weight_error = 0;
    double baseline_rel_output_error = -1;  // RTN at the same bits, or -1 when not measured
    double seconds = 0;
};

enum class RunStatus { running, finished, failed, cancelled };  // stored as text
const char* to_string(RunStatus status);

struct CompressionRunRecord {
    std::int64_t id = 0;
    std::int64_t expert_id = 0;
    std::optional<std::int64_t> artifact_id;
    std::string method;
    int bits = 0;
    std::string salient_spec;  // "2%" or "16"
    RunStatus status = RunStatus::finished;
    std::string message;  // error text for failed runs
    double seconds = 0;
    double mean_rel_output_error = 0;
    std::string created_at;
    std::vector<LayerStat> layers;
};

struct ChatRecord {
    std::int64_t id = 0;
    std::string title;
    std::string system_prompt;
    std::string created_at;
    std::string updated_at;
};

struct MessageRecord {
    std::int64_t id = 0;
    std::int64_t chat_id = 0;
    std::string role;  // "system", "user", "assistant"
    std::string text;
    std::optional<std::int64_t> expert_id;  // the expert that answered (null: base)
    std::optional<double> routing_confidence;
    std::int64_t token_count = 0;
    double prompt_ms = 0;
    double generate_ms = 0;
    double tokens_per_second = 0;
    std::string created_at;
    // Regenerated answers: the chosen alternative (0-based) and how many there are. The text
    // and the fields above are the chosen alternative's. Filled by the catalog.
    int alternative = 0;
    int alternative_count = 1;
};

// What the Catalog constructor throws when a file cannot be used as a catalog: an
// Error(catalog) that also says why, so that the app offers to move the file aside only
// where that helps (a damaged file or another program's database), not for a catalog
// written by a newer version or a file it may not read.
class CatalogOpenError : public Error {
public:
    enum class Reason {
        corrupt,        // not a SQLite database, or a damaged one
        foreign,        // a SQLite database of another application
        newer_version,  // written by a newer ME-Switch Studio; left unchanged
        access,         // permissions, a folder in the way, a missing parent folder
        other,          // busy, out of memory, disk full, ...
    };
    CatalogOpenError(Reason reason, const std::string& message)
        : Error(ErrorKind::catalog, message), reason_(reason) {}
    Reason reason() const noexcept { return reason_; }
    bool can_move_aside() const noexcept {
        return reason_ == Reason::corrupt || reason_ == Reason::foreign;
    }

private:
    Reason reason_;
};

class Catalog {
public:
    // 1: initial tables; 2: message timing columns; 3: router_models table;
    // 4: MoE consolidation plans (meswitch/moe.h); 5: message alternatives.
    static constexpr int current_schema_version = 6;

    // Opens (creating if absent) and migrates the database. A file that is not a usable
    // catalog throws CatalogOpenError naming it; the file is never overwritten.
    // A catalog written by a newer ME-Switch (higher schema version) is refused, never
    // downgraded. One Catalog is used by one thread at a time.
    explicit Catalog(const std::filesystem::path& file);
    ~Catalog();
    Catalog(Catalog&&) noexcept;
    Catalog& operator=(Catalog&&) noexcept;
    Catalog(const Catalog&) = delete;
    Catalog& operator=(const Catalog&) = delete;

    const std::filesystem::path& path() const;
    int schema_version() const;

    // Models. Names are unique; an expert must name an existing base.
    std::int64_t add_model(const ModelRecord& model);
    std::vector<ModelRecord> list_models() const;
    std::optional<ModelRecord> find_model(std::string_view name) const;
    std::optional<ModelRecord> model(std::int64_t id) const;
    std::vector<ModelRecord> experts_of(std::int64_t base_id) const;
    // Removes the row and everything that hangs on it (artifact rows, runs, domain links).
    // Refuses to remove a base that still has experts. Never touches files.
    void remove_model(std::int64_t id);

    // Domains and their example prompts.
    std::int64_t add_domain(std::string_view name, std::string_view description,
                            const std::vector<std::string>& examples = {});
    void set_domain_examples(std::int64_t domain_id, const std::vector<std::string>& examples);
    std::vector<DomainRecord> list_domains() const;
    std::optional<DomainRecord> find_domain(std::string_view name) const;
    void remove_domain(std::int64_t domain_id);
    void link_expert_domain(std::int64_t expert_id, std::int64_t domain_id);
    void unlink_expert_domain(std::int64_t expert_id, std::int64_t domain_id);
    std::vector<DomainRecord> domains_of(std::int64_t expert_id) const;
    std::vector<ModelRecord> experts_for_domain(std::int64_t domain_id) const;

    // Compressed delta artifacts.
    std::int64_t add_delta_artifact(const DeltaArtifactRecord& artifact);
    std::vector<DeltaArtifactRecord> delta_artifacts(
        std::optional<std::int64_t> expert_id = {}) const;
    void remove_delta_artifact(std::int64_t id);

    // Compression runs with their per-layer statistics, written in one transaction.
    std::int64_t add_compression_run(const CompressionRunRecord& run);
    std::vector<CompressionRunRecord> compression_runs(std::optional<std::int64_t> expert_id = {},
                                                       bool with_layers = false) const;
    std::optional<CompressionRunRecord> compression_run(std::int64_t id) const;  // with layers

    // Chats and messages. Adding a message bumps its chat's updated_at.
    std::int64_t create_chat(std::string_view title, std::string_view system_prompt = {});
    void rename_chat(std::int64_t chat_id, std::string_view title);
    void set_chat_system_prompt(std::int64_t chat_id, std::string_view system_prompt);
    std::vector<ChatRecord> list_chats() const;  // most recently updated first
    void remove_chat(std::int64_t chat_id);      // and its messages
    std::int64_t add_message(const MessageRecord& message);
    std::vector<MessageRecord> messages(std::int64_t chat_id) const;
    // Deletes messages of the chat with id >= message_id (edit and resend, regenerate).
    void truncate_chat(std::int64_t chat_id, std::int64_t from_message_id);
    // Regenerate: `answer` (its text, expert, confidence and timings; chat_id and role are
    // ignored) becomes a new alternative of assistant message `message_id` and the chosen one;
    // returns its index. The earlier answers stay as alternatives. One transaction.
    int add_alternative(std::int64_t message_id, const MessageRecord& answer);
    // Makes alternative `index` (0-based) of the message the chosen one: messages() returns it
    // and the next turn sees it. Throws for an index out of range.
    void choose_alternative(std::int64_t message_id, int index);
    // Every alternative of the message in order (one: the message itself when it was never
    // regenerated), each with its index in `alternative`.
    std::vector<MessageRecord> alternatives(std::int64_t message_id) const;

    // Runs `body` inside BEGIN IMMEDIATE … COMMIT; rolls back and rethrows on exception.
    // Nested calls join the outer transaction.
    void transaction(const std::function<void()>& body);

    // For engine modules that keep their own tables (router, MoE plans).
    sqlite3* handle() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Renames a catalog that cannot be opened (and its -wal / -shm / -journal files) to
// `<name>.corrupt-YYYYMMDD-HHMMSS` (local time) beside it, so that a fresh catalog can be
// created; returns the new path. Throws Error(io) naming the file when the rename fails.
std::filesystem::path move_aside_corrupt_catalog(const std::filesystem::path& file);

}  // namespace meswitch
