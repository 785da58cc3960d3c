// generation_config.json: a model's sampling defaults (see meswitch/generation_defaults.h).
#include "meswitch/generation_defaults.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "io/strict_json.h"
#include "meswitch/catalog.h"
#include "meswitch/error.h"

namespace meswitch {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& label, const std::string& key, const std::string& why) {
    throw Error(ErrorKind::format, label + ": '" + key + "' " + why);
}

std::optional<double> number(const json& root, const std::string& label, const char* key, double lo,
                             double hi, bool lo_open) {
    const auto it = root.find(key);
    if (it == root.end() || it->is_null()) return std::nullopt;
    if (!it->is_number())
        bad(label, key, "must be a number (it is " + io::json_excerpt(it->dump()) + ")");
    const double v = it->get<double>();
    if (!std::isfinite(v) || v > hi || (lo_open ? v <= lo : v < lo)) {
        std::ostringstream range;
        range << (lo_open ? "(" : "[") << lo << ", " << hi << "]";
        bad(label, key, "is " + io::json_excerpt(it->dump()) + ", outside " + range.str());
    }
    return v;
}

std::optional<int> integer(const json& root, const std::string& label, const char* key,
                           std::int64_t lo, std::int64_t hi) {
    const auto it = root.find(key);
    if (it == root.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer())
        bad(label, key, "must be a whole number (it is " + io::json_excerpt(it->dump()) + ")");
    const bool beyond = it->is_number_unsigned() && it->get<std::uint64_t>() > std::uint64_t(hi);
    if (beyond || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi)
        bad(label, key,
            "is " + io::json_excerpt(it->dump()) + ", outside [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
    return static_cast<int>(it->get<std::int64_t>());
}

std::string trimmed(double v) {
    std::ostringstream os;
    os << static_cast<float>(v);
    return os.str();
}

}  // namespace

bool GenerationDefaults::empty() const {
    return !temperature && !top_p && !top_k && !repetition_penalty && !max_new_tokens &&
           eos_token_ids.empty();
}

std::string GenerationDefaults::to_json() const {
    if (empty()) return "";
    json j = json::object();
    if (temperature) {
        j["temperature"] = *temperature;
        if (*temperature == 0) j["do_sample"] = false;
    }
    if (top_p) j["top_p"] = *top_p;
    if (top_k) j["top_k"] = *top_k;
    if (repetition_penalty) j["repetition_penalty"] = *repetition_penalty;
    if (max_new_tokens) j["max_new_tokens"] = *max_new_tokens;
    if (!eos_token_ids.empty()) j["eos_token_id"] = eos_token_ids;
    return j.dump();
}

std::string GenerationDefaults::describe() const {
    if (empty()) return "none";
    std::string out;
    auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
    if (temperature)
        add("temperature " + trimmed(*temperature) + (*temperature == 0 ? " (greedy)" : ""));
    if (top_p) add("top_p " + trimmed(*top_p));
    if (top_k) add("top_k " + std::to_string(*top_k));
    if (repetition_penalty) add("repetition penalty " + trimmed(*repetition_penalty));
    if (max_new_tokens) add("at most " + std::to_string(*max_new_tokens) + " new tokens");
    if (!eos_token_ids.empty()) {
        std::string ids;
        for (std::int32_t id : eos_token_ids) ids += (ids.empty() ? "" : " ") + std::to_string(id);
        add("stops at " + ids);
    }
    return out;
}

GenerationDefaults GenerationDefaults::parse(std::string_view text, const std::string& label) {
    io::StrictJsonOptions so;
    so.label = label;
    so.max_depth = 8;
    const json root = io::parse_strict_json<json>(text, so);
    if (!root.is_object()) throw Error(ErrorKind::format, label + ": not a JSON object");
    GenerationDefaults d;
    if (auto v = number(root, label, "temperature", 0, 100, false)) d.temperature = float(*v);
    if (auto it = root.find("do_sample"); it != root.end() && !it->is_null()) {
        if (!it->is_boolean())
            bad(label, "do_sample",
                "must be true or false (it is " + io::json_excerpt(it->dump()) + ")");
        if (!it->get<bool>()) d.temperature = 0.0f;  // HF: greedy unless sampling is asked for
    }
    if (auto v = number(root, label, "top_p", 0, 1, true)) d.top_p = float(*v);
    if (auto v = integer(root, label, "top_k", 0, 1 << 30)) d.top_k = *v;
    if (auto v = number(root, label, "repetition_penalty", 0, 100, true))
        d.repetition_penalty = float(*v);
    if (auto v = integer(root, label, "max_new_tokens", 1, 1 << 24)) d.max_new_tokens = *v;
    if (auto it = root.find("eos_token_id"); it != root.end() && !it->is_null()) {
        auto one = [&](const json& e) {
            if (!e.is_number_integer() ||
                (e.is_number_unsigned()
                     ? e.get<std::uint64_t>() > 0x7fffffffu
                     : (e.get<std::int64_t>() < 0 || e.get<std::int64_t>() > 0x7fffffff)))
                bad(label, "eos_token_id",
                    "must be a token id or a list of ids (it holds " + io::json_excerpt(e.dump()) +
                        ")");
            d.eos_token_ids.push_back(static_cast<std::int32_t>(e.get<std::int64_t>()));
        };
        if (it->is_array()) {
            if (it->size() > 1024) bad(label, "eos_token_id", "lists more than 1024 ids");
            for (const json& e : *it) one(e);
        } else {
            one(*it);
        }
    }
    return d;
}

GenerationDefaults GenerationDefaults::read_folder(const std::filesystem::path& folder) {
    const std::filesystem::path file = folder / "generation_config.json";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return {};
    if (!std::filesystem::is_regular_file(file, ec))
        throw Error(ErrorKind::io, file.string() + ": not a file");
    if (std::filesystem::file_size(file, ec) > (std::uintmax_t(1) << 20))
        throw Error(ErrorKind::format, file.string() + ": larger than 1 MiB");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, file.string() + ": cannot be read");
    std::ostringstream buf;
    buf << in.rdbuf();
    return parse(buf.str(), file.string());
}

GenerationDefaults generation_defaults_of(const ModelRecord& m) {
    try {
        if (!m.generation_config.empty())
            return GenerationDefaults::parse(m.generation_config,
                                             "the catalog's sampling defaults of '" + m.name + "'");
        std::error_code ec;
        if (!m.path.empty() && std::filesystem::is_directory(m.path, ec))
            return GenerationDefaults::read_folder(m.path);
    } catch (const Error& e) {
        spdlog::warn("sampling defaults of '{}' not used: {}", m.name, e.what());
    }
    return {};
}

std::string describe_sampling(const GenerateOptions& o) {
    const SamplingOptions& s = o.sampling;
    std::string out = "temperature " + trimmed(s.temperature);
    if (s.temperature == 0) out += " (greedy)";
    if (s.top_p < 1) out += ", top_p " + trimmed(s.top_p);
    if (s.top_k > 0) out += ", top_k " + std::to_string(s.top_k);
    if (s.min_p > 0) out += ", min_p " + trimmed(s.min_p);
    if (s.repetition_penalty != 1) out += ", repetition penalty " + trimmed(s.repetition_penalty);
    out += ", at most " + std::to_string(o.max_tokens) + " tokens";
    return out;
}

GenerateOptions resolve_sampling(GenerateOptions o, const GenerationDefaults& d,
                                 const SamplingChoice& c) {
    if (d.temperature) o.sampling.temperature = *d.temperature;
    if (d.top_p) o.sampling.top_p = *d.top_p;
    if (d.top_k) o.sampling.top_k = *d.top_k;
    if (d.repetition_penalty) o.sampling.repetition_penalty = *d.repetition_penalty;
    if (d.max_new_tokens) o.max_tokens = *d.max_new_tokens;
    for (std::int32_t id : d.eos_token_ids)  // idempotent: a request may be resolved twice
        if (std::find(o.stop_ids.begin(), o.stop_ids.end(), id) == o.stop_ids.end())
            o.stop_ids.push_back(id);
    if (c.temperature) o.sampling.temperature = *c.temperature;
    if (c.top_p) o.sampling.top_p = *c.top_p;
    if (c.min_p) o.sampling.min_p = *c.min_p;
    if (c.top_k) o.sampling.top_k = *c.top_k;
    if (c.repetition_penalty) o.sampling.repetition_penalty = *c.repetition_penalty;
    if (c.max_tokens) o.max_tokens = *c.max_tokens;
    return o;
}

}  // namespace meswitch
