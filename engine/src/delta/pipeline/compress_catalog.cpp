// compress_catalog_expert: compress a catalog expert against its base and record the
// artifact and the run (with per-layer statistics) in one transaction.
#include <chrono>

#include "import/content_hash.h"
#include "io/safetensors.h"
#include "io/stale_temporaries.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/paths.h"

namespace meswitch {
namespace {

std::vector<LayerStat> layer_stats(const CompressResult& r) {
    std::vector<LayerStat> out;
    for (const CompressLayerReport& l : r.layers) out.push_back(to_layer_stat(l));
    return out;
}

}  // namespace

LayerStat to_layer_stat(const CompressLayerReport& l) {
    LayerStat s;
    s.layer = l.name;
    s.rows = l.rows;
    s.cols = l.cols;
    s.salient = l.salient;
    s.bits_per_param = l.bits_per_param;
    s.rel_output_error = l.rel_output_error;
    s.rel_weight_error = l.rel_weight_error;
    s.baseline_rel_output_error = l.baseline_rel_output_error;
    s.seconds = l.seconds;
    return s;
}

std::string checkpoint_hash(const std::filesystem::path& folder) {
    return content_hash(io::Checkpoint(folder));
}

CompressResult compress_catalog_expert(Catalog& catalog, std::string_view expert_name,
                                       const std::filesystem::path& data_home,
                                       const CompressOptions& options, const ProgressFn& progress,
                                       const CancelToken* cancel) {
    const auto expert = catalog.find_model(expert_name);
    if (!expert)
        throw Error(ErrorKind::not_found, "no model named '" + std::string(expert_name) +
                                              "' in the catalog " + catalog.path().string());
    if (expert->role != ModelRole::expert || !expert->base_model_id)
        throw Error(ErrorKind::invalid_argument,
                    "'" + expert->name + "' is a base model; compress an expert of it");
    const auto base = catalog.model(*expert->base_model_id);
    if (!base)
        throw Error(ErrorKind::catalog, "the base of expert '" + expert->name + "' is missing");

    CompressOptions o = options;
    if (o.calibration_file.empty())
        for (const DomainRecord& d : catalog.domains_of(expert->id))
            o.extra_calibration_lines.insert(o.extra_calibration_lines.end(), d.examples.begin(),
                                             d.examples.end());
    if (o.out.empty()) {
        const int bits = o.method == "bitdelta" ? 1 : o.bits;
        o.out = deltas_dir(data_home) /
                (expert->name + "-" + o.method + "-" + std::to_string(bits) + "bit.msd");
    }
    ensure_dir(o.out.parent_path());
    io::remove_stale_temporaries(o.out.parent_path());  // .msd files of runs killed mid-write

    const auto t0 = std::chrono::steady_clock::now();
    CompressResult r;
    try {
        r = compress_expert(base->path, expert->path, o, progress, cancel);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::cancelled) throw;
        CompressionRunRecord run;
        run.expert_id = expert->id;
        run.method = o.method;
        run.bits = o.bits;
        run.salient_spec = o.salient;
        run.status = RunStatus::failed;
        run.message = e.what();
        run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        try {
            catalog.add_compression_run(run);
        } catch (const Error&) {  // the original error is the one to report
        }
        throw;
    }

    try {
        catalog.transaction([&] {
            // A re-run that wrote the same file replaces the older row for it.
            for (const DeltaArtifactRecord& a : catalog.delta_artifacts(expert->id))
                if (a.path == r.artifact.string()) catalog.remove_delta_artifact(a.id);
            DeltaArtifactRecord a;
            a.expert_id = expert->id;
            a.path = r.artifact.string();
            a.method = r.method;
            a.bits = r.bits;
            a.salient_count = r.salient_count;
            a.bytes = r.file_bytes;
            a.bits_per_param = r.bits_per_param;
            r.artifact_id = catalog.add_delta_artifact(a);
            CompressionRunRecord run;
            run.expert_id = expert->id;
            run.artifact_id = r.artifact_id;
            run.method = r.method;
            run.bits = r.bits;
            run.salient_spec = r.salient;
            run.status = RunStatus::finished;
            run.seconds = r.seconds;
            run.mean_rel_output_error = r.mean_rel_output_error;
            run.layers = layer_stats(r);
            r.run_id = catalog.add_compression_run(run);
        });
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(r.artifact, ec);
        throw;
    }
    return r;
}

}  // namespace meswitch
