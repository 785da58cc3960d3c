// meswitch compress: compress an expert's delta against its base into an .msd artifact.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli_context.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/paths.h"

namespace meswitch::cli {
namespace {

nlohmann::json to_json(const CompressResult& r) {
    nlohmann::json layers = nlohmann::json::array();
    for (const CompressLayerReport& l : r.layers) {
        nlohmann::json j = {{"name", l.name},
                            {"rows", l.rows},
                            {"cols", l.cols},
                            {"salient", l.salient},
                            {"bits_per_param", l.bits_per_param},
                            {"rel_output_error", l.rel_output_error},
                            {"rel_weight_error", l.rel_weight_error},
                            {"seconds", l.seconds}};
        if (l.baseline_rel_output_error >= 0)
            j["baseline_rel_output_error"] = l.baseline_rel_output_error;
        if (l.heldout_rel_output_error >= 0)
            j["heldout_rel_output_error"] = l.heldout_rel_output_error;
        if (l.heldout_baseline_rel_output_error >= 0)
            j["heldout_baseline_rel_output_error"] = l.heldout_baseline_rel_output_error;
        layers.push_back(std::move(j));
    }
    nlohmann::json j = {{"artifact", r.artifact.string()},
                        {"method", r.method},
                        {"bits", r.bits},
                        {"salient", r.salient},
                        {"salient_count", r.salient_count},
                        {"parameters", r.parameters},
                        {"delta_bytes", r.delta_bytes},
                        {"bits_per_param", r.bits_per_param},
                        {"file_bytes", r.file_bytes},
                        {"embedding_storage", r.embedding_storage},
                        {"calibration_model", r.calibration_model},
                        {"calibration_tokens", r.calibration_tokens},
                        {"base_hash", r.base_hash},
                        {"expert_hash", r.expert_hash},
                        {"mean_rel_output_error", r.mean_rel_output_error},
                        {"seconds", r.seconds},
                        {"stages",
                         {{"load_seconds", r.stages.load},
                          {"calibration_forward_seconds", r.stages.calibration_forward},
                          {"statistics_seconds", r.stages.statistics},
                          {"linears_seconds", r.stages.linears},
                          {"embeddings_head_seconds", r.stages.embeddings_head},
                          {"writing_seconds", r.stages.writing},
                          {"calibration_windows", r.stages.windows}}},
                        {"layers", std::move(layers)},
                        {"recorded", r.run_id.has_value()}};
    if (r.mean_baseline_rel_output_error >= 0)
        j["mean_baseline_rel_output_error"] = r.mean_baseline_rel_output_error;
    if (r.mean_heldout_rel_output_error >= 0) {
        j["heldout_tokens"] = r.heldout_tokens;
        j["mean_heldout_rel_output_error"] = r.mean_heldout_rel_output_error;
    }
    if (r.mean_heldout_baseline_rel_output_error >= 0)
        j["mean_heldout_baseline_rel_output_error"] = r.mean_heldout_baseline_rel_output_error;
    if (r.artifact_id) j["artifact_id"] = *r.artifact_id;
    if (r.run_id) j["run_id"] = *r.run_id;
    return j;
}

std::filesystem::path canonical_or_empty(const std::filesystem::path& p) {
    std::error_code ec;
    auto c = std::filesystem::weakly_canonical(p, ec);
    return ec ? std::filesystem::path() : c;
}

// The catalog name of an imported expert whose folder is `expert` and whose base's folder
// is `base`, if any.
std::optional<std::string> imported_pair(Catalog& catalog, const std::filesystem::path& expert,
                                         const std::filesystem::path& base) {
    const auto e = canonical_or_empty(expert), b = canonical_or_empty(base);
    for (const ModelRecord& m : catalog.list_models()) {
        if (m.role != ModelRole::expert || !m.base_model_id) continue;
        if (canonical_or_empty(m.path) != e) continue;
        const auto bm = catalog.model(*m.base_model_id);
        if (bm && canonical_or_empty(bm->path) == b) return m.name;
    }
    return std::nullopt;
}

}  // namespace

void register_compress(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "compress",
        "compress an expert's delta weights against its base into an .msd artifact.\n"
        "With a catalog expert name, the base is its catalog base, calibration adds its "
        "domains' example prompts, the artifact goes to <home>/deltas/<expert>-<method>-"
        "<bits>bit.msd and the run is recorded in the catalog. With a folder path, --base is "
        "required and the run is recorded only when both folders are imported as that expert "
        "and its base; otherwise only the file is written.");
    static std::string expert_arg, base_arg, method = "meswitch", salient, calib, heldout, out,
                                             calib_model = "expert", embeddings = "quantized";
    static int bits = 2, embedding_bits = 0, threads = 0;
    static bool json = false, baseline = false;
    cmd->add_option("--expert", expert_arg, "expert: catalog name or model folder")->required();
    cmd->add_option("--base", base_arg,
                    "base: catalog name or model folder (required for a folder)");
    cmd->add_option("--bits", bits, "bits per quantized delta weight (1-4)")->capture_default_str();
    cmd->add_option("--salient", salient,
                    "salient input channels kept in 16 bits per layer: a count (16) or a "
                    "percentage (2%); default 1% (meswitch only)");
    cmd->add_option("--method", method, "meswitch, rtn (per-row min/max) or bitdelta (1 bit)")
        ->capture_default_str();
    cmd->add_option("--calib", calib,
                    "calibration text, one sample per line (default: a built-in mixed set plus "
                    "the expert's domain examples)");
    cmd->add_option("--calib-model", calib_model, "whose activations calibrate: expert or base")
        ->capture_default_str();
    cmd->add_option("--heldout", heldout,
                    "held-out text: also report each layer's output error on it");
    cmd->add_flag("--baseline", baseline, "also measure RTN at the same bits for every layer");
    cmd->add_option("--embeddings", embeddings,
                    "embedding/head delta storage: quantized or dense16")
        ->capture_default_str();
    cmd->add_option("--embedding-bits", embedding_bits,
                    "bits for quantized embeddings (default: --bits + 2, at most 4)");
    cmd->add_option("--out", out, "output .msd file");
    cmd->add_option("--threads", threads, "CPU threads (default: all cores)");
    cmd->add_flag("--json", json, "print the result as one JSON object");
    cmd->callback([&ctx] {
        CompressOptions o;
        o.method = method;
        o.bits = bits;
        o.salient = salient;
        o.calibration_file = calib;
        o.heldout_file = heldout;
        o.baseline = baseline;
        o.embedding_bits = embedding_bits;
        o.threads = threads;
        o.out = out;
        if (calib_model == "base")
            o.calibration_model = CalibrationModel::base;
        else if (calib_model != "expert")
            throw Error(ErrorKind::invalid_argument,
                        "--calib-model must be base or expert, not '" + calib_model + "'");
        if (embeddings == "dense16")
            o.embeddings = EmbeddingStorage::dense16;
        else if (embeddings != "quantized")
            throw Error(ErrorKind::invalid_argument,
                        "--embeddings must be quantized or dense16, not '" + embeddings + "'");

        const bool tty = isatty(STDERR_FILENO);
        int last_shown = -1;
        auto progress = [&](double f, std::string_view msg) {
            const int pct = static_cast<int>(f * 100);
            if (tty && pct != last_shown) {
                std::fprintf(stderr, "\rcompressing: %3d%% %-60.60s", pct,
                             std::string(msg).c_str());
                std::fflush(stderr);
                last_shown = pct;
            }
        };

        CompressResult r;
        const bool is_folder = std::filesystem::is_directory(expert_arg);
        if (!is_folder) {
            const auto e = ctx.catalog().find_model(expert_arg);
            if (!e)
                throw Error(ErrorKind::not_found, "'" + expert_arg +
                                                      "' is neither a model folder nor a model "
                                                      "in the catalog (see: meswitch list)");
            if (!base_arg.empty() && e->base_model_id) {
                const auto b = ctx.catalog().model(*e->base_model_id);
                const auto given = ctx.resolve_model(base_arg);
                if (b && canonical_or_empty(given) != canonical_or_empty(b->path))
                    throw Error(ErrorKind::invalid_argument,
                                "--base '" + base_arg + "' is not the catalog base of '" +
                                    expert_arg + "' ('" + b->name + "')");
            }
            r = compress_catalog_expert(ctx.catalog(), expert_arg, ctx.home(), o, progress);
        } else {
            if (base_arg.empty())
                throw Error(ErrorKind::invalid_argument,
                            "--base is required when --expert is a folder");
            const auto base_folder = ctx.resolve_model(base_arg);
            std::optional<std::string> name;
            try {
                name = imported_pair(ctx.catalog(), expert_arg, base_folder);
            } catch (const Error&) {  // no usable catalog: just write the file
            }
            if (name) {
                r = compress_catalog_expert(ctx.catalog(), *name, ctx.home(), o, progress);
            } else {
                if (o.out.empty()) {
                    const int b = method == "bitdelta" ? 1 : bits;
                    o.out =
                        deltas_dir(ctx.home()) /
                        (std::filesystem::path(expert_arg).lexically_normal().filename().string() +
                         "-" + method + "-" + std::to_string(b) + "bit.msd");
                }
                r = compress_expert(base_folder, expert_arg, o, progress);
            }
        }
        if (tty) std::fprintf(stderr, "\r%90s\r", "");
        if (json) {
            print_json(to_json(r));
            return;
        }
        std::printf("%-48s %5s %7s %9s %9s\n", "layer", "k", "bits", "out err", "w err");
        for (const auto& l : r.layers)
            std::printf("%-48s %5lld %7.3f %9.4f %9.4f\n", l.name.c_str(),
                        static_cast<long long>(l.salient), l.bits_per_param, l.rel_output_error,
                        l.rel_weight_error);
        std::printf(
            "wrote %s: %s %d-bit, salient %s, %.3f bits/param (%lld bytes of %lld "
            "parameters), mean output error %.4f, %.1f s%s\n",
            r.artifact.string().c_str(), r.method.c_str(), r.bits, r.salient.c_str(),
            r.bits_per_param, static_cast<long long>(r.delta_bytes),
            static_cast<long long>(r.parameters), r.mean_rel_output_error, r.seconds,
            r.run_id ? ", recorded in the catalog" : "");
        const auto& st = r.stages;
        std::printf(
            "time: load %.1f s, calibration forward %.1f s (%lld window%s), statistics %.1f s, "
            "linears %.1f s, embeddings and head %.1f s, writing %.1f s\n",
            st.load, st.calibration_forward, static_cast<long long>(st.windows),
            st.windows == 1 ? "" : "s", st.statistics, st.linears, st.embeddings_head, st.writing);
    });
}

}  // namespace meswitch::cli
