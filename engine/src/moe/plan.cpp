// Choosing the shared positions: most similar first, the fewest that fit the budget.
#include <algorithm>
#include <numeric>

#include "meswitch/error.h"
#include "meswitch/moe.h"

namespace meswitch::moe {

std::int64_t ConsolidationPlan::shared_count() const {
    return std::count(shared.begin(), shared.end(), true);
}

std::uint64_t ConsolidationPlan::expert_bytes_unconsolidated() const {
    return static_cast<std::uint64_t>(positions()) * variants.size() * expert_block_bytes;
}

std::uint64_t ConsolidationPlan::expert_bytes() const {
    const auto s = static_cast<std::uint64_t>(shared_count());
    const auto own = static_cast<std::uint64_t>(positions()) - s;
    return (s + own * variants.size()) * expert_block_bytes;
}

ConsolidationPlan plan_consolidation(const DistanceTable& d, const PlanOptions& options) {
    ConsolidationPlan p;
    p.base = d.base;
    p.variants = d.variants;
    p.variant_names = d.variant_names;
    p.metric = d.metric;
    p.shared_expert = options.shared_expert;
    p.layers = d.config.num_hidden_layers;
    p.experts = d.config.num_local_experts;
    p.expert_block_bytes = d.expert_block_bytes;
    p.non_expert_bytes = d.non_expert_bytes;
    p.budget_bytes = options.budget_bytes;
    const std::int64_t P = p.positions();
    if (static_cast<std::int64_t>(d.positions.size()) != P || d.variants.size() < 2)
        throw Error(ErrorKind::invalid_argument,
                    "distance table does not cover every (layer, expert) position");
    const auto V = static_cast<std::uint64_t>(d.variants.size());
    const std::uint64_t block = d.expert_block_bytes;

    std::int64_t share = 0;
    if (options.shared_positions) {
        share = *options.shared_positions;
        if (share < 0 || share > P)
            throw Error(ErrorKind::invalid_argument, "shared positions must be between 0 and " +
                                                         std::to_string(P) + ", not " +
                                                         std::to_string(share));
    } else if (options.budget_bytes) {
        const std::uint64_t full = static_cast<std::uint64_t>(P) * V * block;
        const std::uint64_t floor = static_cast<std::uint64_t>(P) * block;
        if (*options.budget_bytes < floor)
            throw Error(ErrorKind::invalid_argument,
                        "budget of " + std::to_string(*options.budget_bytes) +
                            " bytes is below one expert block per position (" +
                            std::to_string(floor) + " bytes for " + std::to_string(P) +
                            " positions of " + std::to_string(block) + " bytes)");
        if (*options.budget_bytes < full) {
            const std::uint64_t over = full - *options.budget_bytes;
            const std::uint64_t per_share = (V - 1) * block;
            share = static_cast<std::int64_t>((over + per_share - 1) / per_share);
        }
    }

    std::vector<std::size_t> order(static_cast<std::size_t>(P));
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return d.positions[a].mean_pairwise < d.positions[b].mean_pairwise;
    });
    p.shared.assign(static_cast<std::size_t>(P), false);
    for (std::int64_t i = 0; i < share; ++i) p.shared[order[static_cast<std::size_t>(i)]] = true;
    for (const PositionDistances& pos : d.positions) {
        p.distance.push_back(pos.mean_pairwise);
        p.base_distance.push_back(pos.mean_to_base);
    }
    return p;
}

}  // namespace meswitch::moe
