// Several fine-tuned variants of one mixture-of-experts model (Mixtral) in one memory budget:
// similarity-based expert consolidation and partial runtime reconfiguration (arXiv 2505.06481).
//
//   DistanceTable d = expert_distances("base", {"math", "code", "qa"}, DistanceMetric::l2);
//   PlanOptions o;
//   o.budget_bytes = 40 * block_bytes;         // or o.shared_positions = 10
//   ConsolidationPlan plan = plan_consolidation(d, o);
//   ReconfigurableMoe family(plan);            // one resident model for every variant
//   family.activate(1);                        // swaps only the non-expert layers
//   generate(family.model(), tokenizer, prompt, options);
//
// A position is one (layer, expert) pair. At a shared position every variant uses one expert
// block (w1, w2, w3), stored once; elsewhere each variant keeps its own block. Switching the
// active variant rebinds per-variant expert blocks (no copy) and copies or rebinds the
// non-expert tensors (embeddings, attention, norms, router gates, head).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/model.h"
#include "meswitch/progress.h"

namespace meswitch {
class Catalog;
}

namespace meswitch::moe {

enum class DistanceMetric { l2, cosine };        // stored as 'l2' / 'cosine'
enum class SharedExpert { mean, medoid, base };  // stored as 'mean' / 'medoid' / 'base'
const char* to_string(DistanceMetric metric);
const char* to_string(SharedExpert shared);
DistanceMetric parse_metric(std::string_view text);       // Error(invalid_argument)
SharedExpert parse_shared_expert(std::string_view text);  // Error(invalid_argument)

// The HF names of one expert block: w1, w2, w3.
std::vector<std::string> expert_tensor_names(std::int64_t layer, std::int64_t expert);
// True for block_sparse_moe.experts.* tensors.
bool is_expert_tensor(std::string_view name);

struct PositionDistances {
    std::int64_t layer = 0, expert = 0;
    double base_norm = 0;          // ‖base block‖ (L2 of the concatenated w1, w2, w3)
    std::vector<double> pairwise;  // variant pairs (0,1), (0,2), …, (1,2), …
    std::vector<double> to_base;   // per variant
    double mean_pairwise = 0;
    double mean_to_base = 0;
};

struct DistanceTable {
    DistanceMetric metric = DistanceMetric::l2;
    std::filesystem::path base;
    std::vector<std::filesystem::path> variants;
    std::vector<std::string> variant_names;  // folder names
    ModelConfig config;
    std::vector<PositionDistances> positions;  // layer-major
    std::uint64_t expert_block_bytes = 0;      // one block (w1 + w2 + w3) as stored
    std::uint64_t non_expert_bytes = 0;        // one variant's other tensors
};

// Reads the base and every variant (Mixtral folders of the same shapes; Error(invalid_argument)
// naming the folder and tensor otherwise). L2: ‖a − b‖; cosine: 1 − a·b / (‖a‖‖b‖).
// Progress is reported per layer × expert position; `cancel` is polled between positions
// (Error(cancelled)).
DistanceTable expert_distances(const std::filesystem::path& base,
                               const std::vector<std::filesystem::path>& variants,
                               DistanceMetric metric = DistanceMetric::l2,
                               const ProgressFn& progress = {},
                               const CancelToken* cancel = nullptr);

struct PlanOptions {
    // Bytes the expert blocks of all variants may take; the fewest shared positions that fit.
    std::optional<std::uint64_t> budget_bytes;
    // Or an explicit number of shared positions (wins over the budget).
    std::optional<std::int64_t> shared_positions;
    SharedExpert shared_expert = SharedExpert::mean;
};

struct ConsolidationPlan {
    std::string name;
    std::filesystem::path base;
    std::vector<std::filesystem::path> variants;
    std::vector<std::string> variant_names;
    DistanceMetric metric = DistanceMetric::l2;
    SharedExpert shared_expert = SharedExpert::mean;
    std::int64_t layers = 0, experts = 0;
    std::uint64_t expert_block_bytes = 0;
    std::uint64_t non_expert_bytes = 0;  // per variant
    std::optional<std::uint64_t> budget_bytes;
    std::vector<bool> shared;           // layer * experts + expert
    std::vector<double> distance;       // mean pairwise distance per position
    std::vector<double> base_distance;  // mean distance to the base per position
    std::optional<std::int64_t> catalog_id;

    bool is_shared(std::int64_t layer, std::int64_t expert) const {
        return shared[static_cast<std::size_t>(layer * experts + expert)];
    }
    std::int64_t positions() const { return layers * experts; }
    std::int64_t shared_count() const;
    std::uint64_t expert_bytes_unconsolidated() const;  // every variant its own blocks
    std::uint64_t expert_bytes() const;                 // after consolidation
    std::uint64_t saved_bytes() const { return expert_bytes_unconsolidated() - expert_bytes(); }
};

// Shares the most similar positions first (smallest mean pairwise distance).
// Error(invalid_argument) when the budget is below one block per position, or shared_positions is
// out of range.
ConsolidationPlan plan_consolidation(const DistanceTable& distances, const PlanOptions& options);

// Catalog storage (tables moe_plans, moe_plan_variants, moe_plan_positions; schema 4).
std::int64_t save_plan(Catalog& catalog, ConsolidationPlan& plan);  // sets catalog_id
std::vector<ConsolidationPlan> list_plans(Catalog& catalog);        // newest first
std::optional<ConsolidationPlan> load_plan(Catalog& catalog, std::int64_t id);
void remove_plan(Catalog& catalog, std::int64_t id);

// ------------------------------------------------------------------ runtime reconfiguration

struct RuntimeOptions {
    // true: one device copy of the non-expert tensors, refilled from host memory on a switch;
    // false: every variant's non-expert tensors stay resident (a switch only rebinds).
    bool swap_non_expert = true;
    int threads = 0;
};

struct SwitchStats {
    std::uint64_t bytes_copied = 0;         // into resident buffers
    std::uint64_t expert_bytes_copied = 0;  // of those, expert blocks (0 by design)
    std::int64_t tensors_rebound = 0;
    double ms = 0;
};

struct ResidentMemory {
    std::uint64_t shared_expert_bytes = 0;  // one block per shared position
    std::uint64_t own_expert_bytes = 0;     // per-variant blocks of all variants
    std::uint64_t non_expert_bytes = 0;     // resident non-expert tensors
    std::uint64_t host_bytes = 0;           // host copies the swaps read from
    std::uint64_t device_total() const {
        return shared_expert_bytes + own_expert_bytes + non_expert_bytes;
    }
};

// One resident model for all variants of a plan.
class ReconfigurableMoe {
public:
    explicit ReconfigurableMoe(const ConsolidationPlan& plan, const RuntimeOptions& options = {});
    ~ReconfigurableMoe();
    ReconfigurableMoe(ReconfigurableMoe&&) noexcept;
    ReconfigurableMoe& operator=(ReconfigurableMoe&&) noexcept;

    std::size_t variant_count() const;
    std::size_t active() const;
    std::size_t variant_index(std::string_view name) const;  // Error(not_found)
    SwitchStats activate(std::size_t variant);               // no-op when already active
    Model& model();
    const ConsolidationPlan& plan() const;
    ResidentMemory memory() const;
    // Address of the block tensor (0: w1, 1: w2, 2: w3) `variant` runs at a position.
    const std::byte* expert_block(std::size_t variant, std::int64_t layer, std::int64_t expert,
                                  int which) const;
    std::uint64_t total_bytes_copied() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------- workload benchmark

// Poisson arrivals of requests for random variants (short prompts, greedy, max_new_tokens
// generated), replayed on this machine for three ways to serve the family:
//   consolidation   one ReconfigurableMoe (shared_positions shared, non-expert swap);
//   reload          one variant resident, a switch reloads the whole variant from its folder;
//   static          every variant resident in its own fixed slice of the machine (MIG-like,
//                   simulated: each slice runs at 1/V of the measured speed, own queue).
// Service times are measured (switch + prefill + decode, after a warm-up); queueing follows
// the arrivals (the replay does not sleep through idle gaps).
struct WorkloadOptions {
    int requests = 60;
    double rate_per_second = 0;  // 0: 70 % of the consolidated server's capacity
    int max_new_tokens = 25;
    std::int64_t shared_positions = -1;  // -1: half of the positions
    SharedExpert shared_expert = SharedExpert::mean;
    std::uint64_t seed = 1;
    int threads = 0;
    int repeats = 3;  // each generation is timed this many times, the fastest counts
};

struct StrategyResult {
    std::string name;
    double mean_turnaround_ms = 0, p50_turnaround_ms = 0, p95_turnaround_ms = 0;
    double mean_ttft_ms = 0, p95_ttft_ms = 0;
    double mean_service_ms = 0;
    double mean_switch_ms = 0;  // per switch
    int switches = 0;
    std::uint64_t bytes_copied = 0;
    std::uint64_t resident_bytes = 0;  // weights held in (device) memory
};

struct WorkloadResult {
    double rate_per_second = 0;
    int requests = 0;
    int max_new_tokens = 0;
    std::int64_t shared_positions = 0;
    std::vector<StrategyResult> strategies;
};

WorkloadResult bench_workload(const std::filesystem::path& base,
                              const std::vector<std::filesystem::path>& variants,
                              const WorkloadOptions& options);

// Plain parameter averaging of the variants (every tensor), the merging baseline.
Model average_variants(const std::vector<std::filesystem::path>& variants, int threads = 0);

}  // namespace meswitch::moe
