// One resident Mixtral for every variant of a consolidation plan. Shared expert blocks are
// built once and bound by all variants; per-variant blocks stay resident and are rebound on
// a switch; non-expert tensors are copied from host memory into one resident set (swap) or
// kept resident per variant (rebind only).
#include <chrono>
#include <cstring>

#include "meswitch/error.h"
#include "meswitch/moe.h"
#include "moe/moe_internal.h"

namespace meswitch::moe {

namespace {

HostTensor copy_of(const TensorView& v) {
    HostTensor t;
    t.dtype = v.dtype;
    t.shape = v.shape;
    t.data.assign(v.data, v.data + v.nbytes);
    return t;
}

}  // namespace

struct ReconfigurableMoe::Impl {
    ConsolidationPlan plan;
    RuntimeOptions options;
    Model model;
    std::size_t active = 0;
    std::uint64_t copied = 0;
    std::vector<std::string> non_expert;  // names
    // [variant][non_expert index]: host copies (swap) or resident copies (no swap)
    std::vector<std::vector<HostTensor>> per_variant_non_expert;
    std::vector<HostTensor> device_non_expert;  // swap mode: the one resident set
    // [position][which]: shared blocks; [variant][position][which]: own blocks
    std::vector<std::vector<HostTensor>> shared_blocks;
    std::vector<std::vector<std::vector<HostTensor>>> own_blocks;

    Impl(const ConsolidationPlan& p, const RuntimeOptions& o, Model m)
        : plan(p), options(o), model(std::move(m)) {}

    std::size_t pos(std::int64_t l, std::int64_t e) const {
        return static_cast<std::size_t>(l * plan.experts + e);
    }
    void bind(std::size_t v, bool first);
};

void ReconfigurableMoe::Impl::bind(std::size_t v, bool first) {
    for (std::int64_t l = 0; l < plan.layers; ++l)
        for (std::int64_t e = 0; e < plan.experts; ++e) {
            const auto names = expert_tensor_names(l, e);
            const bool shared = plan.is_shared(l, e);
            if (shared && !first) continue;  // never touched after the first bind
            for (int w = 0; w < 3; ++w) {
                const HostTensor& t = shared
                                          ? shared_blocks[pos(l, e)][static_cast<std::size_t>(w)]
                                          : own_blocks[v][pos(l, e)][static_cast<std::size_t>(w)];
                model.bind_weight(names[static_cast<std::size_t>(w)], t.view());
            }
        }
}

ReconfigurableMoe::ReconfigurableMoe(const ConsolidationPlan& plan, const RuntimeOptions& options) {
    if (plan.variants.size() < 1 ||
        static_cast<std::int64_t>(plan.shared.size()) != plan.positions())
        throw Error(ErrorKind::invalid_argument,
                    "consolidation plan '" + plan.name + "' has no variants or no position list");
    Model base = detail::load_mixtral(plan.base, options.threads);
    if (base.config().num_hidden_layers != plan.layers ||
        base.config().num_local_experts != plan.experts)
        throw Error(ErrorKind::invalid_argument,
                    plan.base.string() + ": its layers/experts do not match the plan's");
    impl_ = std::make_unique<Impl>(plan, options, std::move(base));
    Impl& m = *impl_;
    for (const std::string& n : m.model.weight_names())
        if (!is_expert_tensor(n)) m.non_expert.push_back(n);

    const std::size_t V = plan.variants.size();
    const auto P = static_cast<std::size_t>(plan.positions());
    m.shared_blocks.resize(P);
    m.own_blocks.assign(V, std::vector<std::vector<HostTensor>>(P));
    m.per_variant_non_expert.resize(V);
    std::vector<Model> variants;
    for (std::size_t v = 0; v < V; ++v) {
        variants.push_back(detail::load_mixtral(plan.variants[v], 1));
        detail::check_same_shapes(m.model, plan.base, variants.back(), plan.variants[v]);
        for (const std::string& n : m.non_expert)
            m.per_variant_non_expert[v].push_back(copy_of(variants[v].weight(n)));
    }
    for (std::int64_t l = 0; l < plan.layers; ++l)
        for (std::int64_t e = 0; e < plan.experts; ++e) {
            const auto names = expert_tensor_names(l, e);
            const std::size_t p = m.pos(l, e);
            if (!plan.is_shared(l, e)) {
                for (std::size_t v = 0; v < V; ++v)
                    for (const std::string& n : names)
                        m.own_blocks[v][p].push_back(copy_of(variants[v].weight(n)));
                continue;
            }
            if (plan.shared_expert == SharedExpert::base) {
                for (const std::string& n : names)
                    m.shared_blocks[p].push_back(copy_of(m.model.weight(n)));
            } else if (plan.shared_expert == SharedExpert::medoid) {
                std::vector<std::vector<float>> blocks;
                for (const Model& vm : variants) blocks.push_back(detail::block_f32(vm, l, e));
                std::size_t best = 0;
                double best_sum = -1;
                for (std::size_t i = 0; i < V; ++i) {
                    double sum = 0;
                    for (std::size_t j = 0; j < V; ++j)
                        if (i != j) sum += detail::distance(blocks[i], blocks[j], plan.metric);
                    if (best_sum < 0 || sum < best_sum) best_sum = sum, best = i;
                }
                for (const std::string& n : names)
                    m.shared_blocks[p].push_back(copy_of(variants[best].weight(n)));
            } else {
                for (const std::string& n : names) {
                    const TensorView ref = m.model.weight(n);
                    const auto count = static_cast<std::size_t>(ref.numel());
                    std::vector<double> sum(count, 0.0);
                    std::vector<float> tmp(count);
                    for (const Model& vm : variants) {
                        const TensorView t = vm.weight(n);
                        convert_to_f32(t.dtype, t.data, tmp.data(), count);
                        for (std::size_t i = 0; i < count; ++i) sum[i] += tmp[i];
                    }
                    for (std::size_t i = 0; i < count; ++i)
                        tmp[i] = static_cast<float>(sum[i] / static_cast<double>(V));
                    m.shared_blocks[p].push_back(HostTensor::from_f32(ref.shape, tmp, ref.dtype));
                }
            }
        }
    if (options.swap_non_expert)
        for (const HostTensor& t : m.per_variant_non_expert[0]) m.device_non_expert.push_back(t);
    // Variant 0 active: bind everything once.
    m.bind(0, true);
    for (std::size_t i = 0; i < m.non_expert.size(); ++i)
        m.model.bind_weight(m.non_expert[i], options.swap_non_expert
                                                 ? m.device_non_expert[i].view()
                                                 : m.per_variant_non_expert[0][i].view());
}

ReconfigurableMoe::~ReconfigurableMoe() = default;
ReconfigurableMoe::ReconfigurableMoe(ReconfigurableMoe&&) noexcept = default;
ReconfigurableMoe& ReconfigurableMoe::operator=(ReconfigurableMoe&&) noexcept = default;

std::size_t ReconfigurableMoe::variant_count() const {
    return impl_->plan.variants.size();
}
std::size_t ReconfigurableMoe::active() const {
    return impl_->active;
}
Model& ReconfigurableMoe::model() {
    return impl_->model;
}
const ConsolidationPlan& ReconfigurableMoe::plan() const {
    return impl_->plan;
}
std::uint64_t ReconfigurableMoe::total_bytes_copied() const {
    return impl_->copied;
}

std::size_t ReconfigurableMoe::variant_index(std::string_view name) const {
    const auto& names = impl_->plan.variant_names;
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return i;
    throw Error(ErrorKind::not_found, "the MoE family has no variant '" + std::string(name) + "'");
}

SwitchStats ReconfigurableMoe::activate(std::size_t v) {
    Impl& m = *impl_;
    if (v >= m.plan.variants.size())
        throw Error(ErrorKind::invalid_argument,
                    "variant " + std::to_string(v) + " out of range (" +
                        std::to_string(m.plan.variants.size()) + " variants)");
    SwitchStats s;
    if (v == m.active) return s;
    const auto t0 = std::chrono::steady_clock::now();
    m.bind(v, false);
    for (std::int64_t l = 0; l < m.plan.layers; ++l)
        for (std::int64_t e = 0; e < m.plan.experts; ++e)
            s.tensors_rebound += m.plan.is_shared(l, e) ? 0 : 3;
    for (std::size_t i = 0; i < m.non_expert.size(); ++i) {
        const HostTensor& src = m.per_variant_non_expert[v][i];
        if (m.options.swap_non_expert) {
            HostTensor& dst = m.device_non_expert[i];
            std::memcpy(dst.data.data(), src.data.data(), src.data.size());
            s.bytes_copied += src.data.size();
            m.model.bind_weight(m.non_expert[i], dst.view());  // re-reads norms
        } else {
            m.model.bind_weight(m.non_expert[i], src.view());
        }
        ++s.tensors_rebound;
    }
    m.active = v;
    m.copied += s.bytes_copied;
    s.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

ResidentMemory ReconfigurableMoe::memory() const {
    const Impl& m = *impl_;
    ResidentMemory r;
    for (const auto& b : m.shared_blocks)
        for (const HostTensor& t : b) r.shared_expert_bytes += t.data.size();
    for (const auto& v : m.own_blocks)
        for (const auto& b : v)
            for (const HostTensor& t : b) r.own_expert_bytes += t.data.size();
    std::uint64_t per_variant = 0;
    for (const HostTensor& t : m.per_variant_non_expert[0]) per_variant += t.data.size();
    if (m.options.swap_non_expert) {
        r.non_expert_bytes = per_variant;
        r.host_bytes = per_variant * m.plan.variants.size();
    } else {
        r.non_expert_bytes = per_variant * m.plan.variants.size();
    }
    return r;
}

const std::byte* ReconfigurableMoe::expert_block(std::size_t v, std::int64_t layer,
                                                 std::int64_t expert, int which) const {
    const Impl& m = *impl_;
    if (v >= m.plan.variants.size() || layer < 0 || layer >= m.plan.layers || expert < 0 ||
        expert >= m.plan.experts || which < 0 || which > 2)
        throw Error(ErrorKind::invalid_argument, "expert_block: position out of range");
    const std::size_t p = m.pos(layer, expert);
    const auto w = static_cast<std::size_t>(which);
    return m.plan.is_shared(layer, expert) ? m.shared_blocks[p][w].data.data()
                                           : m.own_blocks[v][p][w].data.data();
}

Model average_variants(const std::vector<std::filesystem::path>& variants, int threads) {
    if (variants.empty())
        throw Error(ErrorKind::invalid_argument, "parameter averaging needs at least one variant");
    std::vector<Model> ms;
    for (const auto& v : variants) {
        ms.push_back(detail::load_mixtral(v, 1));
        detail::check_same_shapes(ms.front(), variants.front(), ms.back(), v);
    }
    std::map<std::string, HostTensor> avg;
    for (const std::string& n : ms.front().weight_names()) {
        const TensorView ref = ms.front().weight(n);
        const auto count = static_cast<std::size_t>(ref.numel());
        std::vector<double> sum(count, 0.0);
        std::vector<float> tmp(count);
        for (const Model& m : ms) {
            const TensorView t = m.weight(n);
            convert_to_f32(t.dtype, t.data, tmp.data(), count);
            for (std::size_t i = 0; i < count; ++i) sum[i] += tmp[i];
        }
        for (std::size_t i = 0; i < count; ++i)
            tmp[i] = static_cast<float>(sum[i] / static_cast<double>(ms.size()));
        avg.emplace(n, HostTensor::from_f32(ref.shape, tmp, ref.dtype));
    }
    return Model::from_tensors(ms.front().config(), std::move(avg), ModelOptions{threads});
}

}  // namespace meswitch::moe
