// Checkpoint: a model's weights as one safetensors file or shards listed by an index.

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "io/safetensors.h"
#include "io/strict_json.h"
#include "meswitch/error.h"

namespace fs = std::filesystem;

namespace meswitch::io {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* single_file_name = "model.safetensors";
constexpr const char* index_file_name = "model.safetensors.index.json";
constexpr std::uintmax_t max_index_bytes = 64ull << 20;

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

// Names of weight files that are Python pickles (torch.save): loading them runs code.
bool is_pickled_weights_name(const std::string& name) {
    if (name.rfind("pytorch_model", 0) == 0 &&
        (ends_with(name, ".bin") || ends_with(name, ".bin.index.json")))
        return true;
    return ends_with(name, ".pt") || ends_with(name, ".pth") || ends_with(name, ".ckpt");
}

[[noreturn]] void refuse_pickled(const std::string& where, const std::string& found) {
    throw Error(ErrorKind::unsupported,
                where + ": only pickled PyTorch weights (" + found +
                    ") found; pickled checkpoints can run arbitrary code when loaded, so "
                    "ME-Switch Studio only reads safetensors. Convert them first, e.g. with the "
                    "`transformers` library: model.save_pretrained(out_dir, "
                    "safe_serialization=True)");
}

std::string read_small_file(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) throw Error(ErrorKind::io, file.string() + ": cannot read: " + ec.message());
    if (size > max_index_bytes)
        throw Error(ErrorKind::format, file.string() + ": " + std::to_string(size) +
                                           " bytes is too large for a shard index");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, file.string() + ": cannot open for reading");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw Error(ErrorKind::io, file.string() + ": read failed");
    return text.str();
}

// A shard named by an index must be a plain file name inside the model folder.
bool is_plain_file_name(const std::string& name) {
    if (name.empty() || name == "." || name == "..") return false;
    for (unsigned char c : name)
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7F) return false;
    return true;
}

// Shards follow "<stem>-00002-of-00005.safetensors". When the index names such a shard and
// a sibling of the same series exists in the folder without one tensor listed in weight_map,
// the index is incomplete or from another download: refuse rather than load a model whose
// tensors in that shard are silently missing or stale.
void refuse_unlisted_siblings(const std::string& label, const fs::path& folder,
                              const std::vector<std::string>& shard_names) {
    constexpr std::string_view suffix = ".safetensors";
    for (const auto& name : shard_names) {
        if (!ends_with(name, suffix)) continue;
        const std::string base = name.substr(0, name.size() - suffix.size());
        const auto of = base.rfind("-of-");
        const auto dash =
            of == std::string::npos || of == 0 ? std::string::npos : base.rfind('-', of - 1);
        if (dash == std::string::npos) continue;
        const std::string number = base.substr(dash + 1, of - dash - 1);
        const std::string total = base.substr(of + 4);
        auto digits = [](const std::string& t) {
            return !t.empty() && t.size() <= 6 &&
                   std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
        };
        if (!digits(number) || !digits(total)) continue;
        const int count = std::stoi(total);
        for (int i = 1; i <= count; ++i) {
            std::string n = std::to_string(i);
            if (n.size() < number.size()) n.insert(0, number.size() - n.size(), '0');
            const std::string sibling =
                base.substr(0, dash + 1) + n + "-of-" + total + ".safetensors";
            if (std::binary_search(shard_names.begin(), shard_names.end(), sibling)) continue;
            std::error_code ec;
            if (fs::exists(folder / sibling, ec))
                throw Error(ErrorKind::format,
                            label + ": weight_map lists no tensor of shard '" + sibling +
                                "', which is in " + folder.string() +
                                " (the index is incomplete or belongs to another download)");
        }
        return;  // one series per checkpoint
    }
}

}  // namespace

struct Checkpoint::Impl {
    std::vector<fs::path> files;
    std::vector<SafetensorsFile> shards;
    struct Location {
        std::size_t shard;
        const TensorInfo* info;
    };
    std::map<std::string, Location, std::less<>> tensors;

    void add_single(const fs::path& file);
    void add_indexed(const fs::path& index_file);
    void open_folder(const fs::path& folder);
    const Location& locate(std::string_view name) const;
};

void Checkpoint::Impl::add_single(const fs::path& file) {
    shards.emplace_back(file);
    files.push_back(file);
    for (const auto& t : shards.back().tensors()) tensors.emplace(t.name, Location{0, &t});
}

void Checkpoint::Impl::add_indexed(const fs::path& index_file) {
    const std::string label = index_file.string();
    const fs::path folder = index_file.parent_path();
    StrictJsonOptions options;
    options.label = label;
    options.what = "shard index";
    options.max_depth = 8;
    options.duplicate_message = [&label](const std::string& key, int depth) {
        if (depth == 2) return label + ": tensor '" + key + "' is listed twice in weight_map";
        return label + ": the key '" + key + "' appears twice";
    };
    const json index = parse_strict_json(read_small_file(index_file), options);
    auto fail = [&label](const std::string& problem) -> void {
        throw Error(ErrorKind::format, label + ": " + problem);
    };
    if (!index.is_object())
        fail(std::string("is JSON ") + index.type_name() + ", expected an object");
    const auto map_it = index.find("weight_map");
    if (map_it == index.end()) fail("has no weight_map");
    if (!map_it->is_object()) fail("weight_map is not an object");
    if (map_it->empty()) fail("weight_map lists no tensors");

    // Validate every shard name before touching the file system.
    std::vector<std::string> shard_names;
    for (const auto& [tensor, shard] : map_it->items()) {
        if (!shard.is_string())
            fail("weight_map entry of tensor '" + tensor + "' is not a file name");
        const auto& name = shard.get_ref<const std::string&>();
        if (!is_plain_file_name(name))
            fail("weight_map puts tensor '" + tensor + "' in '" + name +
                 "', which is not a plain file name inside the model folder");
        shard_names.push_back(name);
    }
    std::sort(shard_names.begin(), shard_names.end());
    shard_names.erase(std::unique(shard_names.begin(), shard_names.end()), shard_names.end());

    std::map<std::string, std::size_t> shard_index;
    for (const auto& name : shard_names) {
        const fs::path file = folder / name;
        std::error_code ec;
        if (!fs::exists(file, ec))
            throw Error(ErrorKind::not_found, label + ": shard '" + name + "' is missing from " +
                                                  folder.string() +
                                                  " (the download may be incomplete)");
        shard_index.emplace(name, shards.size());
        shards.emplace_back(file);
        files.push_back(file);
    }

    for (const auto& [tensor, shard] : map_it->items()) {
        const auto& name = shard.get_ref<const std::string&>();
        const std::size_t s = shard_index.at(name);
        const TensorInfo* info = shards[s].find(tensor);
        if (!info) {
            std::string actual;
            for (std::size_t o = 0; o < shards.size() && actual.empty(); ++o)
                if (shards[o].find(tensor)) actual = shard_names[o];
            fail("weight_map puts tensor '" + tensor + "' in shard '" + name +
                 "', but that shard has no such tensor" +
                 (actual.empty() ? std::string(" (no shard of the index holds it)")
                                 : " (it is in shard '" + actual + "')"));
        }
        tensors.emplace(tensor, Location{s, info});
    }
    for (std::size_t s = 0; s < shards.size(); ++s) {
        for (const auto& t : shards[s].tensors()) {
            const auto it = tensors.find(t.name);
            if (it == tensors.end())
                fail("shard '" + shard_names[s] + "' holds tensor '" + t.name +
                     "', which weight_map does not list");
            if (it->second.shard != s)
                fail("tensor '" + t.name + "' is in both shard '" + shard_names[s] + "' and '" +
                     shard_names[it->second.shard] + "'");
        }
    }
    refuse_unlisted_siblings(label, folder, shard_names);
}

void Checkpoint::Impl::open_folder(const fs::path& folder) {
    std::error_code ec;
    if (fs::exists(folder / index_file_name, ec)) return add_indexed(folder / index_file_name);
    if (fs::exists(folder / single_file_name, ec)) return add_single(folder / single_file_name);

    std::vector<std::string> pickled, other_safetensors;
    fs::directory_iterator it(folder, ec);
    if (ec) throw Error(ErrorKind::io, folder.string() + ": cannot list folder: " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const std::string name = it->path().filename().string();
        if (is_pickled_weights_name(name)) pickled.push_back(name);
        if (ends_with(name, ".safetensors")) other_safetensors.push_back(name);
    }
    std::sort(pickled.begin(), pickled.end());
    std::sort(other_safetensors.begin(), other_safetensors.end());
    if (!other_safetensors.empty()) {
        std::string names;
        for (std::size_t i = 0; i < other_safetensors.size() && i < 3; ++i)
            names += (i ? ", " : "") + other_safetensors[i];
        if (other_safetensors.size() > 3) names += ", ...";
        throw Error(ErrorKind::not_found, folder.string() + ": no " + single_file_name + " or " +
                                              index_file_name + " (found " + names +
                                              "; pass the .safetensors file itself to use it)");
    }
    if (!pickled.empty()) {
        // Prefer the conventional name in the message when it is there.
        const auto conventional = std::find(pickled.begin(), pickled.end(), "pytorch_model.bin");
        refuse_pickled(folder.string(), conventional != pickled.end() ? *conventional : pickled[0]);
    }
    throw Error(ErrorKind::not_found, folder.string() + ": no model weights found (expected " +
                                          single_file_name + " or " + index_file_name + ")");
}

const Checkpoint::Impl::Location& Checkpoint::Impl::locate(std::string_view name) const {
    const auto it = tensors.find(name);
    if (it == tensors.end()) {
        const std::string where =
            files.size() == 1 ? files[0].string() : files[0].parent_path().string();
        throw Error(ErrorKind::not_found, where + ": no tensor named '" + std::string(name) + "'");
    }
    return it->second;
}

Checkpoint::Checkpoint(const fs::path& folder_or_file) : impl_(std::make_unique<Impl>()) {
    std::error_code ec;
    const auto status = fs::status(folder_or_file, ec);
    if (!fs::exists(status))
        throw Error(ErrorKind::not_found, folder_or_file.string() + ": no such file or folder");
    const std::string name = folder_or_file.filename().string();
    if (fs::is_directory(status))
        impl_->open_folder(folder_or_file);
    else if (ends_with(name, ".safetensors.index.json"))
        impl_->add_indexed(folder_or_file);
    else if (ends_with(name, ".safetensors"))
        impl_->add_single(folder_or_file);
    else if (is_pickled_weights_name(name))
        refuse_pickled(folder_or_file.string(), name);
    else
        throw Error(ErrorKind::unsupported,
                    folder_or_file.string() +
                        ": not a safetensors file (expected a model folder, a .safetensors file or "
                        "a model.safetensors.index.json)");
}

Checkpoint::~Checkpoint() = default;
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;

const std::vector<fs::path>& Checkpoint::files() const {
    return impl_->files;
}
const std::vector<SafetensorsFile>& Checkpoint::shards() const {
    return impl_->shards;
}

std::vector<std::string> Checkpoint::tensor_names() const {
    std::vector<std::string> names;
    names.reserve(impl_->tensors.size());
    for (const auto& [name, loc] : impl_->tensors) names.push_back(name);  // map: sorted
    return names;
}

bool Checkpoint::contains(std::string_view name) const {
    return impl_->tensors.find(name) != impl_->tensors.end();
}

const TensorInfo& Checkpoint::info(std::string_view name) const {
    return *impl_->locate(name).info;
}

TensorView Checkpoint::view(std::string_view name) const {
    const auto& loc = impl_->locate(name);
    return impl_->shards[loc.shard].view(*loc.info);
}

const SafetensorsFile& Checkpoint::file_of(std::string_view name) const {
    return impl_->shards[impl_->locate(name).shard];
}

std::uint64_t Checkpoint::total_data_bytes() const {
    std::uint64_t total = 0;
    for (const auto& t : impl_->tensors) total += t.second.info->end - t.second.info->begin;
    return total;
}

}  // namespace meswitch::io
