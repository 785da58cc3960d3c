// Calibration activations: run text through a model and accumulate, for every distinct
// linear-layer input, the statistics (diag and Gram of XᵀX) the quantizer chooses salient
// channels and step sizes with. q/k/v share one input (the attention norm's output) and
// gate/up share one (the MLP norm's output), so a decoder layer has four inputs; the head
// sees the final norm's output.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "delta/quant/calibration.h"
#include "meswitch/model.h"
#include "meswitch/progress.h"

namespace meswitch {
class Tokenizer;
}

namespace meswitch {
class ThreadPool;
}

namespace meswitch::delta {

// Which of a decoder layer's four distinct linear inputs a linear reads.
enum class InputGroup : std::uint8_t { attn_in = 0, attn_out = 1, mlp_in = 2, mlp_hidden = 3 };
InputGroup input_group(LinearKind kind);

// The built-in mixed calibration text (stories, arithmetic Q/A, one-line Python, Q&A).
const std::vector<std::string>& builtin_calibration_lines();

// Token sequences to run: each non-empty line as [BOS] + encode(line), cut to `max_len`
// tokens; stops adding lines once `max_tokens` (> 0) tokens are collected.
std::vector<std::vector<std::int32_t>> calibration_sequences(const Tokenizer& tokenizer,
                                                             std::int32_t bos,
                                                             const std::vector<std::string>& lines,
                                                             std::int64_t max_len,
                                                             std::int64_t max_tokens);

// What the consumers of calibration statistics read of each Gram matrix G = XᵀX.
enum class GramUse {
    diagonal,      // diag(XᵀX) only
    full,          // all of G, summed as the activations arrive
    salient_rows,  // all of G for inputs up to exact_metric_max_cols wide; wider inputs are
                   // read only through the salient channels' rows and the output error, so
                   // where the tokens are fewer than half the inputs G is deferred to the
                   // kept activations (a 7B down_proj: no 14336² ssyrk, no 1.6 GB matrix)
};

// The statistics of the inputs of decoder layers [first_layer, last_layer) and, optionally,
// of the head input.
class CalibrationSet {
public:
    CalibrationSet() = default;
    CalibrationSet(const ModelConfig& config, std::int64_t first_layer, std::int64_t last_layer,
                   bool head, bool full_gram);

    bool covers(std::int64_t layer) const { return layer >= first_ && layer < last_; }
    const CalibrationStats& of(LinearRef ref) const;  // Error(not_found) outside the range
    CalibrationStats& of(std::int64_t layer, InputGroup group);
    bool has_head() const { return head_.has_value(); }
    const CalibrationStats& head() const;
    CalibrationStats& head_mut();
    std::int64_t tokens() const { return tokens_; }
    void add_tokens(std::int64_t n) { tokens_ += n; }
    // Seconds spent accumulating statistics (inside the forward passes that feed them).
    double statistics_seconds() const { return statistics_seconds_; }
    void add_statistics_seconds(double s) { statistics_seconds_ += s; }
    // Mirrors every statistic's Gram matrix (CalibrationStats::finish) once all are added.
    void finish(ThreadPool* pool);
    // Before any sample: keeps the activations of every statistic with more than twice
    // `tokens` columns (and a Gram matrix), see CalibrationStats::keep_samples. With `defer`,
    // a statistic wider than the exact metric's limit (exact_metric_max_cols) whose layers'
    // errors cost less to measure from X than G costs to sum and measure with defers G to the
    // activations (CalibrationStats::defer_gram_to_samples): its consumers read only the
    // salient channels' rows of G.
    void keep_samples_below(const ModelConfig& config, std::int64_t tokens, bool defer = false);

    // Bytes the statistics of these layers would take (Gram matrices dominate).
    static std::uint64_t bytes_for(const ModelConfig& config, std::int64_t first_layer,
                                   std::int64_t last_layer, bool head, bool full_gram);

private:
    std::size_t index(std::int64_t layer, InputGroup group) const;

    std::int64_t first_ = 0, last_ = 0;
    std::vector<CalibrationStats> stats_;  // (layer - first) * 4 + group
    std::optional<CalibrationStats> head_;
    std::int64_t tokens_ = 0;
    double statistics_seconds_ = 0;
};

// Runs `sequences` through `model` (one forward per sequence, all positions) and
// accumulates the inputs of layers [first_layer, last_layer) (+ the head input when
// `head`). The collector is installed as the model's delta provider for the run; it
// forwards every call to `inner` (may be null), which is the provider left installed
// afterwards. Polls `cancel` between sequences.
//
// `states` lets consecutive windows run each layer once: when given, (*states)[i] is the
// residual stream of sequence i entering first_layer (empty at first_layer 0: from the
// embeddings), and on return it is the stream leaving last_layer - 1, which the next window
// starts from; only layers [first_layer, last_layer) run (the final norm too when `head`).
// Without it every sequence runs through the whole model.
//
// Activations are gathered per statistic and added in blocks of up to kStatisticsBlock rows,
// so the Gram matrices' rank-k updates run with k in the hundreds rather than one sequence's
// length (each update reads and writes the whole matrix).
CalibrationSet collect_calibration(Model& model,
                                   const std::vector<std::vector<std::int32_t>>& sequences,
                                   std::int64_t first_layer, std::int64_t last_layer, bool head,
                                   GramUse gram, const ProgressFn& progress = {},
                                   const CancelToken* cancel = nullptr,
                                   DeltaProvider* inner = nullptr,
                                   std::vector<std::vector<float>>* states = nullptr);
inline constexpr std::int64_t kStatisticsBlock = 1024;

}  // namespace meswitch::delta
