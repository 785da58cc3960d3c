// Catalog: models (bases and experts), domains with their example prompts, and the links
// between experts and domains.
#include "catalog/catalog_impl.h"

namespace meswitch {
namespace {

using catalog::Context;
using catalog::in_quotes;

#define MODEL_COLUMNS                                                             \
    "m.id, m.name, m.path, m.architecture, m.dtype, m.parameter_count, m.bytes, " \
    "m.content_hash, m.role, m.base_model_id, m.created_at, m.generation_config"

constexpr const char* sql_insert_model =
    "INSERT INTO models (name, path, architecture, dtype, parameter_count, bytes, "
    "content_hash, role, base_model_id, generation_config) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* sql_list_models =
    "SELECT " MODEL_COLUMNS " FROM models m ORDER BY m.role = 'expert', m.name, m.id";
constexpr const char* sql_model_by_name =
    "SELECT " MODEL_COLUMNS " FROM models m WHERE m.name = ?1";
constexpr const char* sql_model_by_id = "SELECT " MODEL_COLUMNS " FROM models m WHERE m.id = ?1";
constexpr const char* sql_experts_of =
    "SELECT " MODEL_COLUMNS " FROM models m WHERE m.base_model_id = ?1 ORDER BY m.name, m.id";
constexpr const char* sql_delete_model = "DELETE FROM models WHERE id = ?1";

constexpr const char* sql_insert_domain = "INSERT INTO domains (name, description) VALUES (?1, ?2)";
constexpr const char* sql_domain_id_by_name = "SELECT id FROM domains WHERE name = ?1";
constexpr const char* sql_domain_exists = "SELECT name FROM domains WHERE id = ?1";
constexpr const char* sql_delete_examples = "DELETE FROM domain_examples WHERE domain_id = ?1";
constexpr const char* sql_insert_example =
    "INSERT INTO domain_examples (domain_id, position, text) VALUES (?1, ?2, ?3)";
constexpr const char* sql_examples_of =
    "SELECT text FROM domain_examples WHERE domain_id = ?1 ORDER BY position";
constexpr const char* sql_list_domains =
    "SELECT id, name, description FROM domains ORDER BY name, id";
constexpr const char* sql_domain_by_name =
    "SELECT id, name, description FROM domains WHERE name = ?1";
constexpr const char* sql_delete_domain = "DELETE FROM domains WHERE id = ?1";
constexpr const char* sql_link =
    "INSERT OR IGNORE INTO expert_domains (expert_id, domain_id) VALUES (?1, ?2)";
constexpr const char* sql_unlink =
    "DELETE FROM expert_domains WHERE expert_id = ?1 AND domain_id = ?2";
constexpr const char* sql_domains_of =
    "SELECT d.id, d.name, d.description FROM domains d "
    "JOIN expert_domains l ON l.domain_id = d.id WHERE l.expert_id = ?1 ORDER BY d.name, d.id";
constexpr const char* sql_experts_for_domain =
    "SELECT " MODEL_COLUMNS
    " FROM models m JOIN expert_domains l ON l.expert_id = m.id "
    "WHERE l.domain_id = ?1 ORDER BY m.name, m.id";

#undef MODEL_COLUMNS

ModelRecord read_model(const catalog::Statement& st) {
    ModelRecord m;
    m.id = st.int64(0);
    m.name = st.text(1);
    m.path = st.text(2);
    m.architecture = st.text(3);
    m.dtype = st.text(4);
    m.parameter_count = st.int64(5);
    m.bytes = st.int64(6);
    m.content_hash = st.text(7);
    m.role = st.text(8) == "expert" ? ModelRole::expert : ModelRole::base;
    m.base_model_id = st.optional_int64(9);
    m.created_at = st.text(10);
    m.generation_config = st.text(11);
    return m;
}

std::vector<ModelRecord> read_models(catalog::Statement& st) {
    std::vector<ModelRecord> out;
    while (st.step()) out.push_back(read_model(st));
    return out;
}

std::vector<std::string> examples_of(const Context& d, std::int64_t domain_id) {
    auto st = d.prepare(sql_examples_of, "reading domain examples");
    st.bind(1, domain_id);
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::vector<DomainRecord> read_domains(const Context& d, catalog::Statement& st) {
    std::vector<DomainRecord> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), {}});
    for (auto& domain : out) domain.examples = examples_of(d, domain.id);
    return out;
}

std::string domain_name(const Context& d, std::int64_t domain_id) {
    auto st = d.prepare(sql_domain_exists, "looking up a domain");
    st.bind(1, domain_id);
    if (!st.step()) d.fail("no domain with id " + std::to_string(domain_id));
    return st.text(0);
}

void write_examples(const Context& d, std::int64_t domain_id,
                    const std::vector<std::string>& examples) {
    auto st = d.prepare(sql_insert_example, "saving domain examples");
    for (std::size_t i = 0; i < examples.size(); ++i) {
        st.bind(1, domain_id).bind(2, static_cast<std::int64_t>(i)).bind(3, examples[i]);
        st.run();
        st.reset();
    }
}

}  // namespace

std::int64_t Catalog::add_model(const ModelRecord& model) {
    const Impl& d = *impl_;
    std::int64_t id = 0;
    transaction([&] {
        if (model.name.empty()) d.fail("a model needs a name");
        if (find_model(model.name))
            d.fail("a model named " + in_quotes(model.name) + " already exists");
        if (model.role == ModelRole::expert) {
            if (!model.base_model_id)
                d.fail("expert " + in_quotes(model.name) + " names no base model");
            const auto base = this->model(*model.base_model_id);
            if (!base)
                d.fail("expert " + in_quotes(model.name) + " names base id " +
                       std::to_string(*model.base_model_id) + " which does not exist");
            if (base->role != ModelRole::base)
                d.fail("expert " + in_quotes(model.name) + " names " + in_quotes(base->name) +
                       " as its base, but that is an expert, not a base model");
        } else if (model.base_model_id) {
            d.fail("base model " + in_quotes(model.name) + " cannot itself name a base (id " +
                   std::to_string(*model.base_model_id) + ")");
        }
        auto st = d.prepare(sql_insert_model, "adding model " + in_quotes(model.name));
        st.bind(1, model.name).bind(2, model.path).bind(3, model.architecture);
        st.bind(4, model.dtype).bind(5, model.parameter_count).bind(6, model.bytes);
        st.bind(7, model.content_hash).bind(8, to_string(model.role)).bind(9, model.base_model_id);
        st.bind(10, model.generation_config);
        st.run();
        id = st.last_insert_id();
    });
    return id;
}

std::vector<ModelRecord> Catalog::list_models() const {
    auto st = impl_->prepare(sql_list_models, "listing models");
    return read_models(st);
}

std::optional<ModelRecord> Catalog::find_model(std::string_view name) const {
    auto st = impl_->prepare(sql_model_by_name, "looking up a model");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    return read_model(st);
}

std::optional<ModelRecord> Catalog::model(std::int64_t id) const {
    auto st = impl_->prepare(sql_model_by_id, "looking up a model");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_model(st);
}

std::vector<ModelRecord> Catalog::experts_of(std::int64_t base_id) const {
    auto st = impl_->prepare(sql_experts_of, "listing experts");
    st.bind(1, base_id);
    return read_models(st);
}

void Catalog::remove_model(std::int64_t id) {
    const Impl& d = *impl_;
    transaction([&] {
        const auto m = model(id);
        if (!m) d.fail("cannot remove model id " + std::to_string(id) + ": no such model");
        if (m->role == ModelRole::base) {
            const auto experts = experts_of(id);
            if (!experts.empty()) {
                std::string names;
                for (const auto& e : experts)
                    names += (names.empty() ? "" : ", ") + in_quotes(e.name);
                d.fail("cannot remove base " + in_quotes(m->name) + ": expert" +
                       (experts.size() > 1 ? "s " : " ") + names +
                       (experts.size() > 1 ? " still use it" : " still uses it"));
            }
        }
        auto st = d.prepare(sql_delete_model, "removing model " + in_quotes(m->name));
        st.bind(1, id).run();
    });
}

std::int64_t Catalog::add_domain(std::string_view name, std::string_view description,
                                 const std::vector<std::string>& examples) {
    const Impl& d = *impl_;
    std::int64_t id = 0;
    transaction([&] {
        if (name.empty()) d.fail("a domain needs a name");
        {
            auto st = d.prepare(sql_domain_id_by_name, "looking up a domain");
            st.bind(1, name);
            if (st.step()) d.fail("a domain named " + in_quotes(name) + " already exists");
        }
        auto st = d.prepare(sql_insert_domain, "adding domain " + in_quotes(name));
        st.bind(1, name).bind(2, description).run();
        id = st.last_insert_id();
        write_examples(d, id, examples);
    });
    return id;
}

void Catalog::set_domain_examples(std::int64_t domain_id,
                                  const std::vector<std::string>& examples) {
    const Impl& d = *impl_;
    transaction([&] {
        domain_name(d, domain_id);
        auto st = d.prepare(sql_delete_examples, "replacing domain examples");
        st.bind(1, domain_id).run();
        write_examples(d, domain_id, examples);
    });
}

std::vector<DomainRecord> Catalog::list_domains() const {
    auto st = impl_->prepare(sql_list_domains, "listing domains");
    return read_domains(*impl_, st);
}

std::optional<DomainRecord> Catalog::find_domain(std::string_view name) const {
    auto st = impl_->prepare(sql_domain_by_name, "looking up a domain");
    st.bind(1, name);
    auto found = read_domains(*impl_, st);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

void Catalog::remove_domain(std::int64_t domain_id) {
    const Impl& d = *impl_;
    transaction([&] {
        const std::string name = domain_name(d, domain_id);
        auto st = d.prepare(sql_delete_domain, "removing domain " + in_quotes(name));
        st.bind(1, domain_id).run();
    });
}

void Catalog::link_expert_domain(std::int64_t expert_id, std::int64_t domain_id) {
    const Impl& d = *impl_;
    transaction([&] {
        const auto m = model(expert_id);
        if (!m) d.fail("cannot link model id " + std::to_string(expert_id) + ": no such model");
        if (m->role != ModelRole::expert)
            d.fail("cannot link " + in_quotes(m->name) +
                   " to a domain: it is a base model; only experts serve domains");
        const std::string domain = domain_name(d, domain_id);
        auto st = d.prepare(sql_link, "linking " + in_quotes(m->name) + " to " + in_quotes(domain));
        st.bind(1, expert_id).bind(2, domain_id).run();
    });
}

void Catalog::unlink_expert_domain(std::int64_t expert_id, std::int64_t domain_id) {
    auto st = impl_->prepare(sql_unlink, "unlinking an expert from a domain");
    st.bind(1, expert_id).bind(2, domain_id).run();
}

std::vector<DomainRecord> Catalog::domains_of(std::int64_t expert_id) const {
    auto st = impl_->prepare(sql_domains_of, "listing an expert's domains");
    st.bind(1, expert_id);
    return read_domains(*impl_, st);
}

std::vector<ModelRecord> Catalog::experts_for_domain(std::int64_t domain_id) const {
    auto st = impl_->prepare(sql_experts_for_domain, "listing a domain's experts");
    st.bind(1, domain_id);
    return read_models(st);
}

}  // namespace meswitch
