// Installing the demo pack into a catalog: import, domains, compression, router training,
// with progress, cancel and a roll-back of everything this call added when it fails.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <system_error>

#include "meswitch/demo.h"
#include "meswitch/error.h"
#include "meswitch/import.h"
#include "meswitch/router.h"

namespace fs = std::filesystem;

namespace meswitch {

namespace {

constexpr double kImportShare = 0.10;
constexpr double kCompressShare = 0.80;

// What this call added, so that a failure or a cancel can take it back.
struct Added {
    std::vector<std::int64_t> models;  // in creation order (base first)
    std::vector<fs::path> folders;     // copied model folders
    std::vector<std::int64_t> domains;
    std::vector<std::int64_t> artifacts;
    std::vector<fs::path> artifact_files;

    void roll_back(Catalog& catalog) noexcept {
        std::error_code ec;
        for (auto id : artifacts) try {
                catalog.remove_delta_artifact(id);
            } catch (...) {
            }
        for (const auto& f : artifact_files) fs::remove(f, ec);
        for (auto it = models.rbegin(); it != models.rend(); ++it) try {
                catalog.remove_model(*it);
            } catch (const std::exception& e) {
                spdlog::warn("demo install roll-back: model {}: {}", *it, e.what());
            }
        for (auto id : domains) try {
                catalog.remove_domain(id);
            } catch (...) {
            }
        for (const auto& f : folders) fs::remove_all(f, ec);
    }
};

// The model `name` if the catalog already has it with the pack's content, else nullopt.
// A model of that name with other weights is an error: the pack does not overwrite it.
std::optional<ModelRecord> existing_model(const Catalog& catalog, const std::string& name,
                                          const fs::path& pack_folder, ModelRole role) {
    auto m = catalog.find_model(name);
    if (!m) return std::nullopt;
    if (m->role != role || m->content_hash != checkpoint_hash(pack_folder))
        throw Error(ErrorKind::invalid_argument,
                    "the catalog already has a model named '" + name + "' (" + m->path +
                        ") that is not the demo pack's " + pack_folder.string() +
                        "; remove or rename it first");
    return m;
}

// Makes sure the expert is linked to its domain and the domain has the pack's examples.
void ensure_domain(Catalog& catalog, const ModelRecord& expert, const DemoExpert& spec,
                   Added& added) {
    catalog.transaction([&] {
        std::int64_t id = 0;
        if (auto d = catalog.find_domain(spec.domain)) {
            id = d->id;
            auto merged = d->examples;
            for (const auto& e : spec.examples)
                if (std::find(merged.begin(), merged.end(), e) == merged.end()) merged.push_back(e);
            if (merged.size() != d->examples.size()) catalog.set_domain_examples(id, merged);
        } else {
            id = catalog.add_domain(spec.domain, spec.description, spec.examples);
            added.domains.push_back(id);
        }
        catalog.link_expert_domain(expert.id, id);
    });
}

}  // namespace

DemoInstallResult install_demo_pack(Catalog& catalog, const DemoPack& pack,
                                    const fs::path& data_home, const DemoInstallOptions& options,
                                    const ProgressFn& progress, const CancelToken* cancel) {
    const auto t0 = std::chrono::steady_clock::now();
    auto report = [&](double f, std::string_view what) {
        if (progress) progress(std::min(1.0, std::max(0.0, f)), what);
    };
    DemoInstallResult result;
    Added added;
    try {
        // ---- import: the base, then every expert (each 1/(n+1) of the import share)
        const double per_model = kImportShare / static_cast<double>(pack.experts.size() + 1);
        auto import_one = [&](const std::string& name, const fs::path& folder, ModelRole role,
                              const DemoExpert* spec, int index) -> ModelRecord {
            if (auto m = existing_model(catalog, name, folder, role)) {
                result.reused.push_back(name);
                return *m;
            }
            ImportOptions io;
            io.name = name;
            io.copy = options.copy;
            io.data_home = data_home;
            if (spec) {
                io.base = pack.base_name;
                io.domain = spec->domain;
                io.domain_description = spec->description;
                io.examples = spec->examples;
            }
            const bool had_domain = spec && catalog.find_domain(spec->domain).has_value();
            ModelRecord rec = import_model(
                catalog, folder, io,
                [&](double f, std::string_view what) {
                    report(per_model * (index + f), "importing " + name + ": " + std::string(what));
                },
                cancel);
            added.models.push_back(rec.id);
            if (options.copy) added.folders.emplace_back(rec.path);
            if (spec && !had_domain)
                if (auto d = catalog.find_domain(spec->domain)) added.domains.push_back(d->id);
            return rec;
        };
        result.base = import_one(pack.base_name, pack.base_folder, ModelRole::base, nullptr, 0);
        for (std::size_t i = 0; i < pack.experts.size(); ++i) {
            const DemoExpert& spec = pack.experts[i];
            ModelRecord rec = import_one(spec.name, spec.folder, ModelRole::expert, &spec,
                                         static_cast<int>(i) + 1);
            if (rec.base_model_id != result.base.id)
                throw Error(ErrorKind::invalid_argument,
                            "the catalog's '" + rec.name + "' is not an expert of '" +
                                result.base.name + "'; remove it first");
            ensure_domain(catalog, rec, spec, added);
            result.experts.push_back(std::move(rec));
        }
        report(kImportShare, "imported the demo models");

        // ---- compression, with the pack's settings, of every expert without an artifact
        if (options.compress) {
            const double per_expert = kCompressShare / static_cast<double>(result.experts.size());
            for (std::size_t i = 0; i < result.experts.size(); ++i) {
                const ModelRecord& e = result.experts[i];
                const double start = kImportShare + per_expert * static_cast<double>(i);
                if (!catalog.delta_artifacts(e.id).empty()) continue;
                CompressOptions co;
                co.threads = options.threads;
                if (pack.compression_bits > 0) co.bits = pack.compression_bits;
                if (!pack.compression_salient.empty()) co.salient = pack.compression_salient;
                CompressResult r = compress_catalog_expert(
                    catalog, e.name, data_home, co,
                    [&](double f, std::string_view what) {
                        report(start + per_expert * f,
                               "compressing " + e.name + ": " + std::string(what));
                    },
                    cancel);
                if (r.artifact_id) added.artifacts.push_back(*r.artifact_id);
                added.artifact_files.push_back(r.artifact);
                result.compressed.push_back(std::move(r));
            }
        }
        if (cancel) cancel->throw_if_cancelled("installing the demo pack");

        // ---- the feature router, trained on the pack's examples and stored in the catalog
        report(kImportShare + kCompressShare, "training the router");
        RouterOptions ro;
        ro.base = pack.base_name;
        ro.threads = options.threads;
        Router router = Router::open(catalog, ro);
        result.router = router.info().router;
        result.router_version = router.info().version;
    } catch (...) {
        added.roll_back(catalog);
        throw;
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report(1.0, "demo pack installed");
    spdlog::info("demo pack installed from {} in {:.1f} s ({} compressed, router {} v{})",
                 pack.dir.string(), result.seconds, result.compressed.size(), result.router,
                 result.router_version);
    return result;
}

}  // namespace meswitch
