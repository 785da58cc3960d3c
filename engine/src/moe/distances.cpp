// Per-position distances between the variants' expert blocks and against the base.
#include <algorithm>
#include <cmath>

#include "meswitch/error.h"
#include "meswitch/moe.h"
#include "moe/moe_internal.h"

namespace meswitch::moe {

namespace detail {

std::vector<float> block_f32(const Model& m, std::int64_t layer, std::int64_t expert) {
    std::vector<float> out;
    for (const std::string& name : expert_tensor_names(layer, expert)) {
        const TensorView v = m.weight(name);
        const std::size_t n = static_cast<std::size_t>(v.numel());
        const std::size_t at = out.size();
        out.resize(at + n);
        convert_to_f32(v.dtype, v.data, out.data() + at, n);
    }
    return out;
}

Model load_mixtral(const std::filesystem::path& folder, int threads) {
    Model m = Model::load(folder, ModelOptions{threads});
    if (m.config().arch != ModelArch::mixtral)
        throw Error(ErrorKind::invalid_argument,
                    folder.string() + ": not a Mixtral (mixture-of-experts) model but " +
                        arch_name(m.config().arch));
    return m;
}

void check_same_shapes(const Model& a, const std::filesystem::path& a_path, const Model& b,
                       const std::filesystem::path& b_path) {
    const auto names = a.weight_names();
    if (names != b.weight_names())
        throw Error(ErrorKind::invalid_argument, b_path.string() +
                                                     ": its tensors differ from those of " +
                                                     a_path.string() + " (not a variant of it)");
    for (const std::string& n : names)
        if (a.weight(n).shape != b.weight(n).shape || a.weight(n).dtype != b.weight(n).dtype)
            throw Error(ErrorKind::invalid_argument,
                        b_path.string() + ": tensor '" + n + "' has shape " +
                            b.weight(n).shape_string() + " but " + a_path.string() + " has " +
                            a.weight(n).shape_string() + " (or another dtype)");
}

double distance(const std::vector<float>& a, const std::vector<float>& b, DistanceMetric metric) {
    double d2 = 0, ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double x = a[i], y = b[i];
        d2 += (x - y) * (x - y);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if (metric == DistanceMetric::l2) return std::sqrt(d2);
    if (aa == 0 || bb == 0) return aa == bb ? 0.0 : 1.0;
    return 1.0 - ab / std::sqrt(aa * bb);
}

}  // namespace detail

DistanceTable expert_distances(const std::filesystem::path& base,
                               const std::vector<std::filesystem::path>& variants,
                               DistanceMetric metric, const ProgressFn& progress,
                               const CancelToken* cancel) {
    if (variants.size() < 2)
        throw Error(ErrorKind::invalid_argument,
                    "expert consolidation needs at least two variants, got " +
                        std::to_string(variants.size()));
    DistanceTable t;
    t.metric = metric;
    t.base = base;
    t.variants = variants;
    if (progress) progress(0.0, "opening " + base.string());
    const Model b = detail::load_mixtral(base, 1);
    std::vector<Model> vs;
    for (const auto& v : variants) {
        if (cancel) cancel->throw_if_cancelled("expert distances");
        if (progress) progress(0.0, "opening " + v.string());
        vs.push_back(detail::load_mixtral(v, 1));
        detail::check_same_shapes(b, base, vs.back(), v);
        t.variant_names.push_back(v.filename().empty() ? v.parent_path().filename().string()
                                                       : v.filename().string());
    }
    t.config = b.config();
    for (const std::string& n : b.weight_names()) {
        if (is_expert_tensor(n)) continue;
        t.non_expert_bytes += b.weight(n).nbytes;
    }
    for (const std::string& n : expert_tensor_names(0, 0))
        t.expert_block_bytes += b.weight(n).nbytes;

    const std::size_t V = vs.size();
    const std::int64_t total = t.config.num_hidden_layers * t.config.num_local_experts;
    for (std::int64_t l = 0; l < t.config.num_hidden_layers; ++l)
        for (std::int64_t e = 0; e < t.config.num_local_experts; ++e) {
            if (cancel) cancel->throw_if_cancelled("expert distances");
            if (progress)
                progress(static_cast<double>(l * t.config.num_local_experts + e) /
                             static_cast<double>(std::max<std::int64_t>(total, 1)),
                         "layer " + std::to_string(l) + ", expert " + std::to_string(e));
            PositionDistances p;
            p.layer = l;
            p.expert = e;
            const auto bb = detail::block_f32(b, l, e);
            std::vector<std::vector<float>> blocks;
            for (const Model& m : vs) blocks.push_back(detail::block_f32(m, l, e));
            double norm = 0;
            for (float x : bb) norm += double(x) * x;
            p.base_norm = std::sqrt(norm);
            for (std::size_t i = 0; i < V; ++i)
                for (std::size_t j = i + 1; j < V; ++j)
                    p.pairwise.push_back(detail::distance(blocks[i], blocks[j], metric));
            for (std::size_t i = 0; i < V; ++i)
                p.to_base.push_back(detail::distance(blocks[i], bb, metric));
            for (double d : p.pairwise)
                p.mean_pairwise += d / static_cast<double>(p.pairwise.size());
            for (double d : p.to_base) p.mean_to_base += d / static_cast<double>(V);
            t.positions.push_back(std::move(p));
        }
    if (progress) progress(1.0, "distances done");
    return t;
}

}  // namespace meswitch::moe
