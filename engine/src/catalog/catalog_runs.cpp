// Catalog: compressed delta artifacts and compression runs with per-layer statistics.
#include "catalog/catalog_impl.h"

namespace meswitch {
namespace {

using catalog::Context;
using catalog::in_quotes;

constexpr const char* sql_insert_artifact =
    "INSERT INTO delta_artifacts (expert_id, path, method, bits, salient_count, bytes, "
    "bits_per_param) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* sql_list_artifacts =
    "SELECT id, expert_id, path, method, bits, salient_count, bytes, bits_per_param, "
    "created_at FROM delta_artifacts WHERE ?1 IS NULL OR expert_id = ?1 ORDER BY id";
constexpr const char* sql_artifact_exists = "SELECT expert_id FROM delta_artifacts WHERE id = ?1";
constexpr const char* sql_delete_artifact = "DELETE FROM delta_artifacts WHERE id = ?1";

constexpr const char* sql_insert_run =
    "INSERT INTO compression_runs (expert_id, artifact_id, method, bits, salient_spec, status, "
    "message, seconds, mean_rel_output_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* sql_insert_layer =
    "INSERT INTO compression_layer_stats (run_id, position, layer, rows, cols, salient, "
    "bits_per_param, rel_output_error, rel_weight_error, baseline_rel_output_error, seconds) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
#define RUN_COLUMNS                                                                             \
    "SELECT id, expert_id, artifact_id, method, bits, salient_spec, status, message, seconds, " \
    "mean_rel_output_error, created_at FROM compression_runs "
constexpr const char* sql_list_runs = RUN_COLUMNS "WHERE ?1 IS NULL OR expert_id = ?1 ORDER BY id";
constexpr const char* sql_run_by_id = RUN_COLUMNS "WHERE id = ?1";
#undef RUN_COLUMNS
constexpr const char* sql_layers_of =
    "SELECT layer, rows, cols, salient, bits_per_param, rel_output_error, rel_weight_error, "
    "baseline_rel_output_error, seconds FROM compression_layer_stats WHERE run_id = ?1 "
    "ORDER BY position";

RunStatus parse_status(const std::string& text) {
    if (text == "running") return RunStatus::running;
    if (text == "finished") return RunStatus::finished;
    if (text == "cancelled") return RunStatus::cancelled;
    return RunStatus::failed;
}

void require_expert(const Catalog& catalog, const Context& d, std::int64_t expert_id,
                    const std::string& what) {
    const auto m = catalog.model(expert_id);
    if (!m)
        d.fail(what + " names expert id " + std::to_string(expert_id) + " which does not exist");
    if (m->role != ModelRole::expert)
        d.fail(what + " names " + in_quotes(m->name) + ", which is a base model, not an expert");
}

std::vector<LayerStat> layers_of(const Context& d, std::int64_t run_id) {
    auto st = d.prepare(sql_layers_of, "reading per-layer statistics");
    st.bind(1, run_id);
    std::vector<LayerStat> out;
    while (st.step()) {
        LayerStat l;
        l.layer = st.text(0);
        l.rows = st.int64(1);
        l.cols = st.int64(2);
        l.salient = st.int64(3);
        l.bits_per_param = st.real(4);
        l.rel_output_error = st.real(5);
        l.rel_weight_error = st.real(6);
        l.baseline_rel_output_error = st.optional_real(7).value_or(-1.0);
        l.seconds = st.real(8);
        out.push_back(std::move(l));
    }
    return out;
}

std::vector<CompressionRunRecord> read_runs(const Context& d, catalog::Statement& st,
                                            bool with_layers) {
    std::vector<CompressionRunRecord> out;
    while (st.step()) {
        CompressionRunRecord r;
        r.id = st.int64(0);
        r.expert_id = st.int64(1);
        r.artifact_id = st.optional_int64(2);
        r.method = st.text(3);
        r.bits = static_cast<int>(st.int64(4));
        r.salient_spec = st.text(5);
        r.status = parse_status(st.text(6));
        r.message = st.text(7);
        r.seconds = st.real(8);
        r.mean_rel_output_error = st.real(9);
        r.created_at = st.text(10);
        out.push_back(std::move(r));
    }
    if (with_layers)
        for (auto& r : out) r.layers = layers_of(d, r.id);
    return out;
}

}  // namespace

std::int64_t Catalog::add_delta_artifact(const DeltaArtifactRecord& a) {
    const Impl& d = *impl_;
    std::int64_t id = 0;
    transaction([&] {
        require_expert(*this, d, a.expert_id, "delta artifact " + in_quotes(a.path));
        auto st = d.prepare(sql_insert_artifact, "adding delta artifact " + in_quotes(a.path));
        st.bind(1, a.expert_id).bind(2, a.path).bind(3, a.method).bind(4, a.bits);
        st.bind(5, a.salient_count).bind(6, a.bytes).bind(7, a.bits_per_param);
        st.run();
        id = st.last_insert_id();
    });
    return id;
}

std::vector<DeltaArtifactRecord> Catalog::delta_artifacts(
    std::optional<std::int64_t> expert_id) const {
    auto st = impl_->prepare(sql_list_artifacts, "listing delta artifacts");
    st.bind(1, expert_id);
    std::vector<DeltaArtifactRecord> out;
    while (st.step()) {
        DeltaArtifactRecord a;
        a.id = st.int64(0);
        a.expert_id = st.int64(1);
        a.path = st.text(2);
        a.method = st.text(3);
        a.bits = static_cast<int>(st.int64(4));
        a.salient_count = st.int64(5);
        a.bytes = st.int64(6);
        a.bits_per_param = st.real(7);
        a.created_at = st.text(8);
        out.push_back(std::move(a));
    }
    return out;
}

void Catalog::remove_delta_artifact(std::int64_t id) {
    const Impl& d = *impl_;
    transaction([&] {
        auto check = d.prepare(sql_artifact_exists, "looking up a delta artifact");
        check.bind(1, id);
        if (!check.step())
            d.fail("cannot remove delta artifact id " + std::to_string(id) + ": no such artifact");
        auto st = d.prepare(sql_delete_artifact, "removing a delta artifact");
        st.bind(1, id).run();
    });
}

std::int64_t Catalog::add_compression_run(const CompressionRunRecord& run) {
    const Impl& d = *impl_;
    std::int64_t id = 0;
    transaction([&] {
        require_expert(*this, d, run.expert_id, "compression run");
        if (run.artifact_id) {
            auto check = d.prepare(sql_artifact_exists, "looking up a delta artifact");
            check.bind(1, *run.artifact_id);
            if (!check.step())
                d.fail("compression run names delta artifact id " +
                       std::to_string(*run.artifact_id) + " which does not exist");
        }
        auto st = d.prepare(sql_insert_run, "adding a compression run");
        st.bind(1, run.expert_id).bind(2, run.artifact_id).bind(3, run.method);
        st.bind(4, run.bits).bind(5, run.salient_spec).bind(6, to_string(run.status));
        st.bind(7, run.message).bind(8, run.seconds).bind(9, run.mean_rel_output_error);
        st.run();
        id = st.last_insert_id();

        auto layer = d.prepare(sql_insert_layer, "saving per-layer statistics");
        for (std::size_t i = 0; i < run.layers.size(); ++i) {
            const LayerStat& l = run.layers[i];
            layer.bind(1, id).bind(2, static_cast<std::int64_t>(i)).bind(3, l.layer);
            layer.bind(4, l.rows).bind(5, l.cols).bind(6, l.salient).bind(7, l.bits_per_param);
            layer.bind(8, l.rel_output_error).bind(9, l.rel_weight_error);
            if (l.baseline_rel_output_error >= 0)
                layer.bind(10, l.baseline_rel_output_error);
            else
                layer.bind_null(10);
            layer.bind(11, l.seconds);
            layer.run();
            layer.reset();
        }
    });
    return id;
}

std::vector<CompressionRunRecord> Catalog::compression_runs(std::optional<std::int64_t> expert_id,
                                                            bool with_layers) const {
    auto st = impl_->prepare(sql_list_runs, "listing compression runs");
    st.bind(1, expert_id);
    return read_runs(*impl_, st, with_layers);
}

std::optional<CompressionRunRecord> Catalog::compression_run(std::int64_t id) const {
    auto st = impl_->prepare(sql_run_by_id, "reading a compression run");
    st.bind(1, id);
    auto runs = read_runs(*impl_, st, true);
    if (runs.empty()) return std::nullopt;
    return std::move(runs.front());
}

}  // namespace meswitch
