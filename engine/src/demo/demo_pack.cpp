// Locating and reading the demo expert pack (pack.json and the files it names).
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <system_error>

#include "io/strict_json.h"
#include "meswitch/demo.h"
#include "meswitch/error.h"
#include "meswitch/import.h"

namespace fs = std::filesystem;

namespace meswitch {

namespace {

constexpr const char* kManifest = "pack.json";

bool holds_pack(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / kManifest, ec);
}

fs::path executable_dir() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

std::string required_string(const nlohmann::json& object, const char* key, const fs::path& file,
                            const std::string& where) {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string() || it->get<std::string>().empty())
        throw Error(ErrorKind::format,
                    file.string() + ": " + where + " needs a non-empty string '" + key + "'");
    return it->get<std::string>();
}

// A path inside the pack: relative, without "..", naming an existing entry.
fs::path pack_path(const fs::path& dir, const std::string& rel, const fs::path& file) {
    const fs::path p(rel);
    if (p.is_absolute() || p.lexically_normal().string().starts_with(".."))
        throw Error(ErrorKind::format,
                    file.string() + ": '" + rel + "' must be a path inside the pack folder");
    const fs::path full = dir / p;
    std::error_code ec;
    if (!fs::exists(full, ec))
        throw Error(ErrorKind::not_found, file.string() + " names '" + rel + "', but " +
                                              full.string() + " does not exist");
    return full;
}

}  // namespace

std::optional<fs::path> find_demo_pack() {
    if (const char* env = std::getenv("MESWITCH_DEMO_DIR"); env && *env) {
        const fs::path dir(env);
        if (!holds_pack(dir))
            throw Error(ErrorKind::not_found,
                        "MESWITCH_DEMO_DIR is " + dir.string() + ", but it holds no " + kManifest);
        return dir;
    }
    if (const fs::path exe = executable_dir(); !exe.empty()) {
        const fs::path installed = exe / ".." / "share" / "meswitch-studio" / "demo";
        if (holds_pack(installed)) return installed.lexically_normal();
    }
#ifdef MESWITCH_DEMO_SOURCE_PACK
    if (holds_pack(MESWITCH_DEMO_SOURCE_PACK)) return fs::path(MESWITCH_DEMO_SOURCE_PACK);
#endif
    return std::nullopt;
}

DemoPack read_demo_pack(const fs::path& dir) {
    const fs::path file = dir / kManifest;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
        throw Error(ErrorKind::not_found, "cannot open the demo pack manifest " + file.string());
    // Strict: invalid JSON with line and column, a key given twice, numbers out of range.
    const nlohmann::json j = io::read_strict_json_file(file, /*max_depth=*/16, 16u << 20);
    if (!j.is_object()) throw Error(ErrorKind::format, file.string() + " must hold a JSON object");
    if (!j.contains("format") || !j["format"].is_number_integer() || j["format"].get<int>() != 1)
        throw Error(ErrorKind::unsupported,
                    file.string() + ": only demo pack format 1 is supported");

    DemoPack pack;
    pack.dir = dir;
    pack.title = required_string(j, "name", file, "the pack");
    pack.license = required_string(j, "license", file, "the pack");
    if (j.contains("compression")) {
        const auto& c = j["compression"];
        if (!c.is_object())
            throw Error(ErrorKind::format, file.string() + ": 'compression' must be an object");
        if (c.contains("bits")) {
            if (!c["bits"].is_number_integer() || c["bits"].get<int>() < 1 ||
                c["bits"].get<int>() > 4)
                throw Error(ErrorKind::format,
                            file.string() + ": compression.bits must be an integer from 1 to 4");
            pack.compression_bits = c["bits"].get<int>();
        }
        if (c.contains("salient")) {
            if (!c["salient"].is_string())
                throw Error(ErrorKind::format,
                            file.string() + ": compression.salient must be a string like \"1%\"");
            pack.compression_salient = c["salient"].get<std::string>();
        }
    }

    if (!j.contains("base") || !j["base"].is_object())
        throw Error(ErrorKind::format, file.string() + " needs a 'base' object");
    pack.base_name = required_string(j["base"], "name", file, "'base'");
    pack.base_folder = pack_path(dir, required_string(j["base"], "folder", file, "'base'"), file);

    if (!j.contains("experts") || !j["experts"].is_array() || j["experts"].empty())
        throw Error(ErrorKind::format, file.string() + " needs a non-empty 'experts' array");
    for (std::size_t i = 0; i < j["experts"].size(); ++i) {
        const auto& e = j["experts"][i];
        const std::string where = "experts[" + std::to_string(i) + "]";
        if (!e.is_object())
            throw Error(ErrorKind::format, file.string() + ": " + where + " must be an object");
        DemoExpert x;
        x.name = required_string(e, "name", file, where);
        x.folder = pack_path(dir, required_string(e, "folder", file, where), file);
        x.domain = required_string(e, "domain", file, where);
        x.description = required_string(e, "description", file, where);
        x.examples =
            read_examples_file(pack_path(dir, required_string(e, "examples", file, where), file));
        if (x.examples.empty())
            throw Error(ErrorKind::format,
                        file.string() + ": " + where + " has no example prompts");
        for (const auto& other : pack.experts)
            if (other.name == x.name || other.domain == x.domain)
                throw Error(ErrorKind::format, file.string() + ": " + where +
                                                   " repeats the name or domain of '" + other.name +
                                                   "'");
        if (x.name == pack.base_name)
            throw Error(ErrorKind::format, file.string() + ": " + where + " has the base's name");
        pack.experts.push_back(std::move(x));
    }
    return pack;
}

bool catalog_is_empty(const Catalog& catalog) {
    return catalog.list_models().empty();
}

}  // namespace meswitch
