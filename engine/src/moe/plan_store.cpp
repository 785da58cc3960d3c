// Consolidation plans in the catalog (schema 4 tables moe_plans, moe_plan_variants,
// moe_plan_positions), written in one transaction.
#include "catalog/sqlite_stmt.h"
#include "meswitch/catalog.h"
#include "meswitch/error.h"
#include "meswitch/moe.h"

namespace meswitch::moe {

namespace {

constexpr const char* insert_plan_sql =
    "INSERT INTO moe_plans (name, base_path, metric, shared_expert, layers, experts, "
    "expert_block_bytes, non_expert_bytes, budget_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* insert_variant_sql =
    "INSERT INTO moe_plan_variants (plan_id, position, name, path) VALUES (?, ?, ?, ?)";
constexpr const char* insert_position_sql =
    "INSERT INTO moe_plan_positions (plan_id, layer, expert, shared, distance, base_distance) "
    "VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* select_plans_sql =
    "SELECT id, name, base_path, metric, shared_expert, layers, experts, expert_block_bytes, "
    "non_expert_bytes, budget_bytes FROM moe_plans ORDER BY id DESC";
constexpr const char* select_plan_sql =
    "SELECT id, name, base_path, metric, shared_expert, layers, experts, expert_block_bytes, "
    "non_expert_bytes, budget_bytes FROM moe_plans WHERE id = ?";
constexpr const char* select_variants_sql =
    "SELECT name, path FROM moe_plan_variants WHERE plan_id = ? ORDER BY position";
constexpr const char* select_positions_sql =
    "SELECT layer, expert, shared, distance, base_distance FROM moe_plan_positions "
    "WHERE plan_id = ? ORDER BY layer, expert";
constexpr const char* delete_plan_sql = "DELETE FROM moe_plans WHERE id = ?";

void require_schema(const Catalog& catalog) {
    if (catalog.schema_version() < 4)
        throw Error(ErrorKind::catalog, "catalog " + catalog.path().string() + ": schema version " +
                                            std::to_string(catalog.schema_version()) +
                                            " has no MoE plan tables (needs 4)");
}

ConsolidationPlan read_header(catalog::Statement& s) {
    ConsolidationPlan p;
    p.catalog_id = s.int64(0);
    p.name = s.text(1);
    p.base = s.text(2);
    p.metric = parse_metric(s.text(3));
    p.shared_expert = parse_shared_expert(s.text(4));
    p.layers = s.int64(5);
    p.experts = s.int64(6);
    p.expert_block_bytes = static_cast<std::uint64_t>(s.int64(7));
    p.non_expert_bytes = static_cast<std::uint64_t>(s.int64(8));
    if (auto b = s.optional_int64(9)) p.budget_bytes = static_cast<std::uint64_t>(*b);
    return p;
}

void read_details(Catalog& catalog, ConsolidationPlan& p) {
    catalog::Statement v(catalog.path(), catalog.handle(), select_variants_sql,
                         "reading MoE plan variants");
    v.bind(1, *p.catalog_id);
    while (v.step()) {
        p.variant_names.push_back(v.text(0));
        p.variants.emplace_back(v.text(1));
    }
    const auto P = static_cast<std::size_t>(p.layers * p.experts);
    p.shared.assign(P, false);
    p.distance.assign(P, 0.0);
    p.base_distance.assign(P, 0.0);
    catalog::Statement s(catalog.path(), catalog.handle(), select_positions_sql,
                         "reading MoE plan positions");
    s.bind(1, *p.catalog_id);
    while (s.step()) {
        const std::int64_t l = s.int64(0), e = s.int64(1);
        if (l < 0 || l >= p.layers || e < 0 || e >= p.experts)
            throw Error(ErrorKind::catalog, "catalog " + catalog.path().string() + ": MoE plan " +
                                                std::to_string(*p.catalog_id) +
                                                " has a position outside its layers/experts");
        const auto i = static_cast<std::size_t>(l * p.experts + e);
        p.shared[i] = s.int64(2) != 0;
        p.distance[i] = s.real(3);
        p.base_distance[i] = s.real(4);
    }
}

}  // namespace

std::int64_t save_plan(Catalog& catalog, ConsolidationPlan& plan) {
    require_schema(catalog);
    if (static_cast<std::int64_t>(plan.shared.size()) != plan.positions() ||
        plan.distance.size() != plan.shared.size() ||
        plan.base_distance.size() != plan.shared.size())
        throw Error(ErrorKind::invalid_argument,
                    "MoE plan '" + plan.name + "' does not list every position");
    std::int64_t id = 0;
    catalog.transaction([&] {
        catalog::Statement s(catalog.path(), catalog.handle(), insert_plan_sql, "saving MoE plan");
        std::optional<std::int64_t> budget;
        if (plan.budget_bytes) budget = static_cast<std::int64_t>(*plan.budget_bytes);
        s.bind(1, plan.name)
            .bind(2, plan.base.string())
            .bind(3, to_string(plan.metric))
            .bind(4, to_string(plan.shared_expert))
            .bind(5, plan.layers)
            .bind(6, plan.experts)
            .bind(7, static_cast<std::int64_t>(plan.expert_block_bytes))
            .bind(8, static_cast<std::int64_t>(plan.non_expert_bytes))
            .bind(9, budget);
        s.run();
        id = s.last_insert_id();
        catalog::Statement v(catalog.path(), catalog.handle(), insert_variant_sql,
                             "saving MoE plan variants");
        for (std::size_t i = 0; i < plan.variants.size(); ++i) {
            v.reset();
            v.bind(1, id)
                .bind(2, static_cast<std::int64_t>(i))
                .bind(3, i < plan.variant_names.size() ? plan.variant_names[i] : std::string())
                .bind(4, plan.variants[i].string());
            v.run();
        }
        catalog::Statement p(catalog.path(), catalog.handle(), insert_position_sql,
                             "saving MoE plan positions");
        for (std::int64_t l = 0; l < plan.layers; ++l)
            for (std::int64_t e = 0; e < plan.experts; ++e) {
                const auto i = static_cast<std::size_t>(l * plan.experts + e);
                p.reset();
                p.bind(1, id)
                    .bind(2, l)
                    .bind(3, e)
                    .bind(4, plan.shared[i] ? 1 : 0)
                    .bind(5, plan.distance[i])
                    .bind(6, plan.base_distance[i]);
                p.run();
            }
    });
    plan.catalog_id = id;
    return id;
}

std::vector<ConsolidationPlan> list_plans(Catalog& catalog) {
    require_schema(catalog);
    std::vector<ConsolidationPlan> out;
    {
        catalog::Statement s(catalog.path(), catalog.handle(), select_plans_sql,
                             "listing MoE plans");
        while (s.step()) out.push_back(read_header(s));
    }
    for (ConsolidationPlan& p : out) read_details(catalog, p);
    return out;
}

std::optional<ConsolidationPlan> load_plan(Catalog& catalog, std::int64_t id) {
    require_schema(catalog);
    std::optional<ConsolidationPlan> p;
    {
        catalog::Statement s(catalog.path(), catalog.handle(), select_plan_sql, "reading MoE plan");
        s.bind(1, id);
        if (s.step()) p = read_header(s);
    }
    if (p) read_details(catalog, *p);
    return p;
}

void remove_plan(Catalog& catalog, std::int64_t id) {
    require_schema(catalog);
    catalog::Statement s(catalog.path(), catalog.handle(), delete_plan_sql, "removing MoE plan");
    s.bind(1, id);
    s.run();
}

}  // namespace meswitch::moe
