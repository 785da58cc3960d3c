// meswitch list: what the catalog holds.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli_context.h"

namespace meswitch::cli {

namespace {

using json = nlohmann::json;

std::string dump_replacing(const json& value, int indent = -1) {
    return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

// A catalog row whose text is not valid UTF-8 (written by an older version or another tool)
// cannot go into JSON as it is: warn naming the row and the field, and let the listing show
// it with U+FFFD in place of the bad bytes instead of failing the whole listing.
void warn_invalid_utf8(const json& row, const std::string& what) {
    try {
        (void)row.dump();
        return;
    } catch (const json::type_error&) {
    }
    for (const auto& [key, value] : row.items()) {
        try {
            (void)value.dump();
        } catch (const json::type_error&) {
            spdlog::warn(
                "catalog {} ({}): field '{}' is not valid UTF-8; listed with U+FFFD "
                "replacement characters",
                what, dump_replacing(row.value("name", json())), key);
        }
    }
}

}  // namespace

static nlohmann::json model_json(const ModelRecord& m) {
    nlohmann::json j = {{"id", m.id},
                        {"name", m.name},
                        {"role", to_string(m.role)},
                        {"path", m.path},
                        {"architecture", m.architecture},
                        {"dtype", m.dtype},
                        {"parameters", m.parameter_count},
                        {"bytes", m.bytes},
                        {"content_hash", m.content_hash},
                        {"created_at", m.created_at}};
    j["base_model_id"] = m.base_model_id ? nlohmann::json(*m.base_model_id) : nlohmann::json();
    return j;
}

void register_list(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("list", "list models, experts, domains and compressed deltas");
    static bool json = false;
    cmd->add_flag("--json", json, "print one JSON object");
    cmd->callback([&ctx] {
        Catalog& cat = ctx.catalog();
        const auto models = cat.list_models();
        const auto domains = cat.list_domains();
        const auto artifacts = cat.delta_artifacts();
        if (json) {
            nlohmann::json out = {{"catalog_path", cat.path().string()},
                                  {"models", nlohmann::json::array()},
                                  {"domains", nlohmann::json::array()},
                                  {"deltas", nlohmann::json::array()}};
            for (const auto& m : models) {
                auto j = model_json(m);
                j["domains"] = nlohmann::json::array();
                for (const auto& d : cat.domains_of(m.id)) j["domains"].push_back(d.name);
                warn_invalid_utf8(j, "model " + std::to_string(m.id));
                out["models"].push_back(j);
            }
            for (const auto& d : domains) {
                nlohmann::json j = {{"id", d.id},
                                    {"name", d.name},
                                    {"description", d.description},
                                    {"examples", d.examples}};
                warn_invalid_utf8(j, "domain " + std::to_string(d.id));
                out["domains"].push_back(std::move(j));
            }
            for (const auto& a : artifacts) {
                nlohmann::json j = {{"id", a.id},
                                    {"expert_id", a.expert_id},
                                    {"path", a.path},
                                    {"method", a.method},
                                    {"bits", a.bits},
                                    {"salient", a.salient_count},
                                    {"bytes", a.bytes},
                                    {"bits_per_param", a.bits_per_param},
                                    {"created_at", a.created_at}};
                warn_invalid_utf8(j, "delta " + std::to_string(a.id));
                out["deltas"].push_back(std::move(j));
            }
            std::cout << dump_replacing(out, 2) << '\n';
            return;
        }
        std::cout << "Catalog: " << cat.path().string() << "\n";
        if (models.empty()) std::cout << "No models yet. Import one with: meswitch import PATH\n";
        for (const auto& m : models) {
            std::cout << (m.role == ModelRole::base ? "base   " : "expert ") << m.name << "  "
                      << m.architecture << "  " << m.dtype << "  " << m.parameter_count
                      << " params  " << m.path << "\n";
        }
        for (const auto& d : domains)
            std::cout << "domain " << d.name << " (" << d.examples.size() << " examples)\n";
        for (const auto& a : artifacts)
            std::cout << "delta  " << a.path << "  " << a.method << " " << a.bits << "-bit  "
                      << a.bytes << " bytes\n";
    });
}

}  // namespace meswitch::cli
