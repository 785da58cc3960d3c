// Collecting calibration statistics through the model's delta-provider hook.
#include "delta/pipeline/calibration.h"

#include <chrono>

#include <algorithm>

#include "core/thread_pool.h"
#include "delta/quant/meswitch_quant.h"
#include "meswitch/error.h"
#include "meswitch/tokenizer.h"

namespace meswitch::delta {
namespace {

constexpr std::int64_t groups_per_layer = 4;

std::int64_t group_cols(const ModelConfig& c, InputGroup g) {
    switch (g) {
        case InputGroup::attn_in:
            return c.hidden_size;
        case InputGroup::attn_out:
            return c.q_dim();
        case InputGroup::mlp_in:
            return c.hidden_size;
        case InputGroup::mlp_hidden:
            return c.intermediate_size;
    }
    return 0;
}

// Output rows of the linears reading one input group, summed (what measuring their errors
// multiplies with the group's statistics).
std::int64_t group_rows(const ModelConfig& c, InputGroup g) {
    switch (g) {
        case InputGroup::attn_in:
            return c.q_dim() + 2 * c.kv_dim();
        case InputGroup::attn_out:
            return c.hidden_size;
        case InputGroup::mlp_in:
            return 2 * c.intermediate_size;
        case InputGroup::mlp_hidden:
            return c.hidden_size;
    }
    return 0;
}

// Whether G = XᵀX of `tokens` samples of `n` inputs costs more to sum and to measure M rows of
// output error with (ssyrk T·n²/2, then ‖e‖²_G and ‖d‖²_G by ssyrk, M·n² in all) than the
// error measured straight from X (two sgemms, 2·M·n·T): the statistics' consumers above the
// exact metric's limit read G only through the error and the salient rows, so then it is
// deferred (a 1.1B or 7B down_proj; not q/k/v/o or gate/up at a few thousand tokens).
bool defer_cheaper(std::int64_t tokens, std::int64_t n, std::int64_t m) {
    const double t = double(tokens), nn = double(n), mm = double(m);
    return n > detail::exact_metric_max_cols && 2.0 * mm * nn * t < t * nn * nn / 2 + mm * nn * nn;
}

bool keeps_gram(std::int64_t cols, bool full_gram) {
    return full_gram && cols <= CalibrationStats::max_gram_cols;
}

// Rows of activations waiting to be added to one statistic in a block.
class PendingRows {
public:
    // scratch: the block's XᵀX, shared by every statistic of one collection (one thread);
    // pool: the threads of the element-wise passes.
    void add(CalibrationSet& set, CalibrationStats& stats, const float* x, std::int64_t rows,
             std::vector<float>& scratch, ThreadPool& pool) {
        stats_ = &stats;
        rows_.insert(rows_.end(), x, x + rows * stats.cols);
        if (static_cast<std::int64_t>(rows_.size()) >= kStatisticsBlock * stats.cols)
            flush(set, scratch, pool);
    }
    void flush(CalibrationSet& set, std::vector<float>& scratch, ThreadPool& pool) {
        if (!stats_ || rows_.empty()) return;
        const auto t0 = std::chrono::steady_clock::now();
        stats_->add_upper(rows_.data(), static_cast<std::int64_t>(rows_.size()) / stats_->cols,
                          scratch, &pool);
        rows_.clear();
        set.add_statistics_seconds(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }

private:
    CalibrationStats* stats_ = nullptr;
    std::vector<float> rows_;
};

// Sees every linear's input; records one of each shared input (q for q/k/v, gate for
// gate/up), then forwards to the provider that was there before.
class Collector final : public DeltaProvider {
public:
    Collector(CalibrationSet& set, DeltaProvider* inner, std::int64_t first_layer,
              std::int64_t last_layer, ThreadPool& pool)
        : set_(set),
          inner_(inner),
          first_(first_layer),
          pending_(static_cast<std::size_t>((last_layer - first_layer) * groups_per_layer)),
          pool_(pool) {}

    void flush() {
        for (PendingRows& p : pending_) p.flush(set_, scratch_, pool_);
    }

    void add_delta(LinearRef ref, const float* x, std::int64_t rows, std::int64_t in, float* y,
                   std::int64_t out) override {
        const bool first_of_group =
            ref.kind == LinearKind::q_proj || ref.kind == LinearKind::o_proj ||
            ref.kind == LinearKind::gate_proj || ref.kind == LinearKind::down_proj;
        if (first_of_group && set_.covers(ref.layer)) {
            CalibrationStats& s = set_.of(ref.layer, input_group(ref.kind));
            if (s.cols != in)
                throw Error(ErrorKind::invalid_argument,
                            "calibration: " + linear_weight_name(ref) + " has " +
                                std::to_string(in) + " inputs, expected " + std::to_string(s.cols));
            pending_[static_cast<std::size_t>((ref.layer - first_) * groups_per_layer +
                                              static_cast<std::int64_t>(input_group(ref.kind)))]
                .add(set_, s, x, rows, scratch_, pool_);
        }
        if (inner_) inner_->add_delta(ref, x, rows, in, y, out);
    }

private:
    CalibrationSet& set_;
    DeltaProvider* inner_;
    std::int64_t first_;
    std::vector<PendingRows> pending_;
    std::vector<float> scratch_;  // one block's XᵀX (PendingRows::add)
    ThreadPool& pool_;
};

}  // namespace

InputGroup input_group(LinearKind kind) {
    switch (kind) {
        case LinearKind::q_proj:
        case LinearKind::k_proj:
        case LinearKind::v_proj:
            return InputGroup::attn_in;
        case LinearKind::o_proj:
            return InputGroup::attn_out;
        case LinearKind::gate_proj:
        case LinearKind::up_proj:
            return InputGroup::mlp_in;
        case LinearKind::down_proj:
            return InputGroup::mlp_hidden;
    }
    return InputGroup::attn_in;
}

std::vector<std::vector<std::int32_t>> calibration_sequences(const Tokenizer& tokenizer,
                                                             std::int32_t bos,
                                                             const std::vector<std::string>& lines,
                                                             std::int64_t max_len,
                                                             std::int64_t max_tokens) {
    std::vector<std::vector<std::int32_t>> out;
    std::int64_t total = 0;
    for (const std::string& line : lines) {
        if (line.empty()) continue;
        if (max_tokens > 0 && total >= max_tokens) break;
        std::vector<std::int32_t> ids{bos};
        const auto text = tokenizer.encode(line, false);
        ids.insert(ids.end(), text.begin(), text.end());
        if (max_len > 0 && static_cast<std::int64_t>(ids.size()) > max_len)
            ids.resize(static_cast<std::size_t>(max_len));
        total += static_cast<std::int64_t>(ids.size());
        out.push_back(std::move(ids));
    }
    return out;
}

CalibrationSet::CalibrationSet(const ModelConfig& config, std::int64_t first_layer,
                               std::int64_t last_layer, bool head, bool full_gram)
    : first_(first_layer), last_(last_layer) {
    if (first_layer < 0 || last_layer < first_layer || last_layer > config.num_hidden_layers)
        throw Error(ErrorKind::invalid_argument,
                    "calibration: layer range [" + std::to_string(first_layer) + ", " +
                        std::to_string(last_layer) + ") is outside the model's " +
                        std::to_string(config.num_hidden_layers) + " layers");
    for (std::int64_t l = first_layer; l < last_layer; ++l)
        for (std::int64_t g = 0; g < groups_per_layer; ++g) {
            const std::int64_t cols = group_cols(config, static_cast<InputGroup>(g));
            stats_.emplace_back(cols, keeps_gram(cols, full_gram));
        }
    if (head) head_.emplace(config.hidden_size, keeps_gram(config.hidden_size, full_gram));
}

void CalibrationSet::keep_samples_below(const ModelConfig& config, std::int64_t tokens,
                                        bool defer) {
    auto keep = [&](CalibrationStats& s, std::int64_t rows) {
        if (!s.has_gram()) return;
        if (defer && defer_cheaper(tokens, s.cols, rows))
            s.defer_gram_to_samples();
        else
            s.keep_samples = 2 * tokens < s.cols;
    };
    for (std::size_t i = 0; i < stats_.size(); ++i)
        keep(stats_[i], group_rows(config, static_cast<InputGroup>(i % groups_per_layer)));
    if (head_) keep(*head_, config.vocab_size);
}

void CalibrationSet::finish(ThreadPool* pool) {
    for (CalibrationStats& s : stats_) s.finish(pool);
    if (head_) head_->finish(pool);
}

std::size_t CalibrationSet::index(std::int64_t layer, InputGroup group) const {
    if (!covers(layer))
        throw Error(ErrorKind::not_found, "calibration: no statistics for layer " +
                                              std::to_string(layer) + " (layers [" +
                                              std::to_string(first_) + ", " +
                                              std::to_string(last_) + ") were collected)");
    return static_cast<std::size_t>((layer - first_) * groups_per_layer +
                                    static_cast<std::int64_t>(group));
}

const CalibrationStats& CalibrationSet::of(LinearRef ref) const {
    return stats_[index(ref.layer, input_group(ref.kind))];
}

CalibrationStats& CalibrationSet::of(std::int64_t layer, InputGroup group) {
    return stats_[index(layer, group)];
}

const CalibrationStats& CalibrationSet::head() const {
    if (!head_) throw Error(ErrorKind::not_found, "calibration: no statistics for the head input");
    return *head_;
}

CalibrationStats& CalibrationSet::head_mut() {
    if (!head_) throw Error(ErrorKind::not_found, "calibration: no statistics for the head input");
    return *head_;
}

std::uint64_t CalibrationSet::bytes_for(const ModelConfig& config, std::int64_t first_layer,
                                        std::int64_t last_layer, bool head, bool full_gram) {
    auto bytes = [&](std::int64_t cols) {
        const auto c = static_cast<std::uint64_t>(cols);
        return c * sizeof(double) * (keeps_gram(cols, full_gram) ? c + 1 : 1);
    };
    std::uint64_t total = 0;
    for (std::int64_t l = first_layer; l < last_layer; ++l)
        for (std::int64_t g = 0; g < groups_per_layer; ++g)
            total += bytes(group_cols(config, static_cast<InputGroup>(g)));
    if (head) total += bytes(config.hidden_size);
    return total;
}

CalibrationSet collect_calibration(Model& model,
                                   const std::vector<std::vector<std::int32_t>>& sequences,
                                   std::int64_t first_layer, std::int64_t last_layer, bool head,
                                   GramUse gram, const ProgressFn& progress,
                                   const CancelToken* cancel, DeltaProvider* inner,
                                   std::vector<std::vector<float>>* states) {
    const ModelConfig& cfg = model.config();
    CalibrationSet set(cfg, first_layer, last_layer, head, gram != GramUse::diagonal);
    ThreadPool pool(model.threads());  // the statistics' element-wise passes
    {
        std::int64_t tokens = 0;
        for (const auto& ids : sequences) tokens += static_cast<std::int64_t>(ids.size());
        set.keep_samples_below(cfg, tokens, gram == GramUse::salient_rows);
    }
    Collector collector(set, inner, first_layer, last_layer, pool);
    struct Restore {
        Model& m;
        DeltaProvider* p;
        ~Restore() { m.set_delta_provider(p); }
    } restore{model, inner};
    model.set_delta_provider(&collector);
    if (states) {
        if (states->empty()) states->resize(sequences.size());
        if (states->size() != sequences.size())
            throw Error(ErrorKind::invalid_argument,
                        "calibration: " + std::to_string(states->size()) + " carried states for " +
                            std::to_string(sequences.size()) + " sequences");
    }

    PendingRows head_rows;
    std::vector<float> head_scratch;
    std::vector<float>* carry_out = nullptr;  // where this sequence's leaving stream goes
    const std::int64_t end_layer = head ? cfg.num_hidden_layers : last_layer;
    ForwardOptions fo;
    fo.compute_logits = false;
    if (states) fo.last_layer = end_layer;
    if (states || head)
        fo.on_hidden = [&](std::int64_t layer, const float* x, std::int64_t rows, std::int64_t h) {
            if (carry_out && layer == last_layer - 1) carry_out->assign(x, x + rows * h);
            if (head && layer == cfg.num_hidden_layers)
                head_rows.add(set, set.head_mut(), x, rows, head_scratch, pool);
        };
    for (std::size_t i = 0; i < sequences.size(); ++i) {
        if (cancel) cancel->throw_if_cancelled("calibration");
        const auto& ids = sequences[i];
        if (ids.empty()) continue;
        KvCache cache = model.make_cache(static_cast<std::int64_t>(ids.size()));
        std::vector<float> entering;
        if (states) {
            entering = std::move((*states)[i]);
            const auto want =
                static_cast<std::size_t>(ids.size()) * static_cast<std::size_t>(cfg.hidden_size);
            if (first_layer > 0 && entering.size() != want)
                throw Error(ErrorKind::invalid_argument,
                            "calibration: no residual stream carried into layer " +
                                std::to_string(first_layer) + " for sequence " + std::to_string(i));
            fo.first_layer = first_layer;
            fo.input_states = first_layer > 0 ? entering.data() : nullptr;
            carry_out = &(*states)[i];
        }
        model.forward(ids, cache, fo);
        set.add_tokens(static_cast<std::int64_t>(ids.size()));
        if (progress)
            progress(static_cast<double>(i + 1) / static_cast<double>(sequences.size()),
                     "calibration");
    }
    collector.flush();
    head_rows.flush(set, head_scratch, pool);
    const auto t_finish = std::chrono::steady_clock::now();
    set.finish(&pool);
    set.add_statistics_seconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_finish).count());
    return set;
}

}  // namespace meswitch::delta
