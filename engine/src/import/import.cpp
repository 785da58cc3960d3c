#include "meswitch/import.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <system_error>

#include "import/content_hash.h"
#include "io/safetensors.h"
#include "io/stale_temporaries.h"
#include "meswitch/error.h"
#include "meswitch/generation_defaults.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"
#include "model/weights.h"

namespace fs = std::filesystem;

namespace meswitch {

namespace {

constexpr std::size_t kMaxListedMismatches = 5;

// Differences in tensor names and shapes between a base and an expert checkpoint.
std::vector<std::string> shape_mismatches(const io::Checkpoint& base, const io::Checkpoint& expert,
                                          std::size_t max_listed) {
    std::vector<std::string> out;
    auto add = [&](std::string line) {
        if (out.size() < max_listed) out.push_back(std::move(line));
    };
    std::size_t total = 0;
    for (const auto& name : base.tensor_names()) {
        if (!expert.contains(name)) {
            ++total;
            add("tensor '" + name + "' is missing");
            continue;
        }
        const auto& b = base.info(name);
        const auto& e = expert.info(name);
        if (b.shape != e.shape) {
            ++total;
            add("tensor '" + name + "' has shape " + expert.view(name).shape_string() +
                " but the base has " + base.view(name).shape_string());
        }
    }
    for (const auto& name : expert.tensor_names())
        if (!base.contains(name)) {
            ++total;
            add("tensor '" + name + "' is not in the base");
        }
    if (total > out.size())
        out.push_back("… and " + std::to_string(total - out.size()) + " more differences");
    return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += "\n  " + l;
    return s;
}

std::string summarize_dtype(const io::Checkpoint& ck) {
    std::map<std::string, std::int64_t> by_dtype;
    for (const auto& name : ck.tensor_names()) {
        const auto& info = ck.info(name);
        std::int64_t n = 1;
        for (auto d : info.shape) n *= d;
        by_dtype[dtype_name(info.dtype)] += n;
    }
    if (by_dtype.size() == 1) return by_dtype.begin()->first;
    return by_dtype.empty() ? "" : "mixed";
}

// Copies the regular files of `src` into a new temporary folder beside `dest` (named after
// this process, see io/stale_temporaries.h, so that a copy cut short by a crash is removed by
// the next process) and returns it; import_model() renames it to `dest` inside the catalog
// transaction that adds the row.
fs::path copy_to_temporary(const fs::path& src, const fs::path& dest, const CancelToken* cancel) {
    static std::atomic<unsigned> counter{0};
    fs::create_directories(dest.parent_path());
    io::remove_stale_temporaries(dest.parent_path());
    const fs::path tmp =
        dest.parent_path() / ("." + dest.filename().string() + ".importing." +
                              std::to_string(::getpid()) + "." + std::to_string(counter++));
    std::error_code ec;
    try {
        fs::create_directories(tmp);
        for (const auto& entry : fs::directory_iterator(src)) {
            if (cancel) cancel->throw_if_cancelled("copying " + src.string());
            if (!entry.is_regular_file()) continue;
            fs::copy_file(entry.path(), tmp / entry.path().filename());
        }
    } catch (const fs::filesystem_error& e) {
        fs::remove_all(tmp, ec);
        throw Error(ErrorKind::io, "cannot copy " + src.string() + " to " + dest.string() + ": " +
                                       e.code().message());
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    return tmp;
}

// Moves the finished copy into place; runs inside the catalog's write transaction, so no other
// process is between its own rename and commit. A folder already at `dest` that no catalog row
// uses is what an import killed between rename and commit leaves: it is replaced.
void place_copy(const Catalog& catalog, std::int64_t new_id, const fs::path& tmp,
                const fs::path& dest) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(dest, ec))) {
        for (const auto& m : catalog.list_models())
            if (m.id != new_id && fs::path(m.path).lexically_normal() == dest.lexically_normal())
                throw Error(ErrorKind::io, "cannot copy the model: " + dest.string() +
                                               " already exists (it holds catalog model '" +
                                               m.name + "')");
        spdlog::warn("replacing {}: no catalog model uses it (left by an interrupted import)",
                     dest.string());
        fs::remove_all(dest, ec);
        if (ec)
            throw Error(ErrorKind::io,
                        "cannot copy the model: " + dest.string() +
                            " already exists and cannot be removed: " + ec.message());
    }
    fs::rename(tmp, dest, ec);
    if (ec)
        throw Error(ErrorKind::io,
                    "cannot move the copied model into " + dest.string() + ": " + ec.message());
}

}  // namespace

ModelInspection inspect_model(const fs::path& folder, const Catalog* catalog) {
    ModelInspection r;
    r.folder = folder;
    if (!fs::is_directory(folder)) {
        r.problems.push_back(folder.string() + ": not a folder");
        return r;
    }
    std::optional<ModelConfig> config;
    try {
        config = parse_model_config(folder / "config.json");
        r.architecture = arch_name(config->arch);
    } catch (const Error& e) {
        r.problems.push_back(e.what());
    }
    std::optional<io::Checkpoint> ck;
    try {
        ck.emplace(folder);
        r.weight_files = ck->files();
        r.tensor_count = ck->tensor_names().size();
        r.bytes = ck->total_data_bytes();
        for (const auto& name : ck->tensor_names()) r.parameter_count += ck->view(name).numel();
        r.dtype = summarize_dtype(*ck);
    } catch (const Error& e) {
        r.problems.push_back(e.what());
    }
    if (config && ck) {
        auto problems = check_tensor_shapes(
            *config, [&](const std::string& name) -> std::optional<std::vector<std::int64_t>> {
                if (!ck->contains(name)) return std::nullopt;
                return ck->info(name).shape;
            });
        for (auto& p : model::unused_tensor_problems(*config, ck->tensor_names()))
            problems.push_back(std::move(p));
        for (std::size_t i = 0; i < problems.size() && i < kMaxListedMismatches; ++i)
            r.problems.push_back(folder.string() + ": " + problems[i]);
        if (problems.size() > kMaxListedMismatches)
            r.problems.push_back(folder.string() + ": … and " +
                                 std::to_string(problems.size() - kMaxListedMismatches) +
                                 " more weight problems");
    }
    try {
        const Tokenizer tok = Tokenizer::from_folder(folder);
        r.tokenizer = std::to_string(tok.vocab_size()) + " tokens";
        r.has_chat_template = !tok.chat_template().empty();
    } catch (const Error& e) {
        r.problems.push_back(std::string("tokenizer: ") + e.what());
    }
    try {
        r.generation = GenerationDefaults::read_folder(folder);
    } catch (const Error& e) {
        r.problems.push_back(e.what());
    }
    if (catalog && ck && r.problems.empty()) {
        for (const auto& m : catalog->list_models()) {
            if (m.role != ModelRole::base || m.architecture != r.architecture) continue;
            try {
                const io::Checkpoint base(m.path);
                if (shape_mismatches(base, *ck, 1).empty()) r.matching_bases.push_back(m.name);
            } catch (const Error& e) {
                spdlog::warn("import: cannot compare with base '{}': {}", m.name, e.what());
            }
        }
    }
    return r;
}

ModelRecord import_model(Catalog& catalog, const fs::path& folder, const ImportOptions& options,
                         const ProgressFn& progress, const CancelToken* cancel) {
    const ModelInspection insp = inspect_model(folder, nullptr);
    if (!insp.problems.empty())
        throw Error(ErrorKind::format,
                    "cannot import " + folder.string() + ":" + join_lines(insp.problems));
    const io::Checkpoint ck(folder);

    ModelRecord rec;
    rec.name = options.name.empty() ? fs::absolute(folder).lexically_normal().filename().string()
                                    : options.name;
    if (rec.name.empty()) rec.name = fs::absolute(folder).parent_path().filename().string();
    rec.architecture = insp.architecture;
    rec.dtype = insp.dtype;
    rec.parameter_count = insp.parameter_count;
    rec.bytes = static_cast<std::int64_t>(insp.bytes);
    rec.role = options.base ? ModelRole::expert : ModelRole::base;
    rec.generation_config = insp.generation.to_json();

    if (catalog.find_model(rec.name))
        throw Error(
            ErrorKind::invalid_argument,
            "a model named '" + rec.name + "' is already in the catalog; choose another name");
    if (options.domain && !options.base)
        throw Error(ErrorKind::invalid_argument,
                    "only experts have domains: give the base model with --base to import " +
                        folder.string() + " as an expert of domain '" + *options.domain + "'");
    if (options.base) {
        const auto base = catalog.find_model(*options.base);
        if (!base)
            throw Error(ErrorKind::not_found, "base model '" + *options.base +
                                                  "' is not in the catalog (see: meswitch list)");
        if (base->role != ModelRole::base)
            throw Error(ErrorKind::invalid_argument,
                        "'" + *options.base + "' is an expert, not a base model");
        if (base->architecture != rec.architecture)
            throw Error(ErrorKind::format, folder.string() + " is a " + rec.architecture +
                                               " but base '" + base->name + "' is a " +
                                               base->architecture);
        const io::Checkpoint base_ck(base->path);
        const auto diffs = shape_mismatches(base_ck, ck, kMaxListedMismatches);
        if (!diffs.empty())
            throw Error(ErrorKind::format, folder.string() + " does not match base '" + base->name +
                                               "' (" + base->path + "):" + join_lines(diffs));
        rec.base_model_id = base->id;
    }

    const double hash_share = options.copy ? 0.5 : 1.0;
    rec.content_hash = content_hash(
        ck,
        [&](double f, std::string_view what) {
            if (progress) progress(f * hash_share, what);
        },
        cancel);

    fs::path stored = fs::absolute(folder).lexically_normal();
    fs::path copy_temp;  // the copy until it is moved to `stored` in the transaction
    bool copied = false;
    if (options.copy) {
        if (options.data_home.empty())
            throw Error(ErrorKind::invalid_argument, "copying a model needs the data folder");
        const fs::path dest = options.data_home / "models" / rec.name;
        copy_temp = copy_to_temporary(folder, dest, cancel);
        stored = dest;
        copied = true;
        if (progress) progress(1.0, "copied to " + dest.string());
    }
    rec.path = stored.string();

    try {
        if (cancel) cancel->throw_if_cancelled("importing " + folder.string());
        catalog.transaction([&] {
            rec.id = catalog.add_model(rec);
            if (copied) {
                place_copy(catalog, rec.id, copy_temp, stored);
                copy_temp.clear();
            }
            if (!options.domain) return;
            std::int64_t domain_id = 0;
            if (auto d = catalog.find_domain(*options.domain)) {
                domain_id = d->id;
                if (!options.examples.empty()) {
                    auto merged = d->examples;
                    for (const auto& e : options.examples)
                        if (std::find(merged.begin(), merged.end(), e) == merged.end())
                            merged.push_back(e);
                    catalog.set_domain_examples(domain_id, merged);
                }
            } else {
                domain_id = catalog.add_domain(*options.domain, options.domain_description,
                                               options.examples);
            }
            catalog.link_expert_domain(rec.id, domain_id);
        });
    } catch (...) {
        std::error_code ec;
        if (!copy_temp.empty())
            fs::remove_all(copy_temp, ec);
        else if (copied)
            fs::remove_all(stored, ec);
        throw;
    }
    spdlog::info("imported {} '{}' from {} ({} parameters, {}, hash {})", to_string(rec.role),
                 rec.name, rec.path, rec.parameter_count, rec.dtype, rec.content_hash);
    if (auto stored_rec = catalog.model(rec.id)) return *stored_rec;
    return rec;
}

std::vector<std::string> read_examples_file(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw Error(ErrorKind::io, "cannot read examples file " + file.string());
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
            line.pop_back();
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

}  // namespace meswitch
