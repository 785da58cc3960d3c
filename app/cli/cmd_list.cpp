// meswitch list: what the catalog holds.
#include <iostream>

#include "cli_context.h"

namespace meswitch::cli {

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
                out["models"].push_back(j);
            }
            for (const auto& d : domains)
                out["domains"].push_back(
                    {{"id", d.id}, {"name", d.name}, {"description", d.description},
                     {"examples", d.examples}});
            for (const auto& a : artifacts)
                out["deltas"].push_back({{"id", a.id}, {"expert_id", a.expert_id},
                                         {"path", a.path}, {"method", a.method},
                                         {"bits", a.bits}, {"salient", a.salient_count},
                                         {"bytes", a.bytes},
                                         {"bits_per_param", a.bits_per_param},
                                         {"created_at", a.created_at}});
            print_json(out);
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
