#include "api/model_list.h"

#include "meswitch/router.h"

namespace meswitch::api {

ModelList base_only() {
    ModelList list;
    list.base_id = "base";
    list.entries.push_back({"base", "base", "", ""});
    return list;
}

ModelList list_models(const Catalog& catalog, const std::string& base_name) {
    std::optional<ModelRecord> base =
        base_name.empty() ? default_base(catalog) : catalog.find_model(base_name);
    if (!base || base->role != ModelRole::base) return base_only();
    ModelList list;
    list.base_id = base->name;
    std::vector<ModelEntry> experts;
    for (const ModelRecord& e : catalog.experts_of(base->id)) {
        std::string domains;
        for (const DomainRecord& d : catalog.domains_of(e.id))
            domains += (domains.empty() ? "" : ",") + d.name;
        experts.push_back({e.name, "expert", domains, e.name});
    }
    // "auto" also without domains: the engine then answers with the base, saying why.
    list.entries.push_back({"auto", "router", "", "auto"});
    list.entries.push_back({base->name, "base", "", ""});
    for (auto& e : experts) list.entries.push_back(std::move(e));
    return list;
}

}  // namespace meswitch::api
