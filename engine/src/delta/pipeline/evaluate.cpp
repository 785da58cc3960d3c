// Mean next-token NLL, perplexity and KL(reference ‖ model) over lines of text.
#include "meswitch/evaluate.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <span>

#include "meswitch/error.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"

namespace meswitch {
namespace {

// log-softmax of one row of logits, in double.
void log_softmax(const float* logits, std::int64_t n, std::vector<double>& out) {
    out.resize(static_cast<std::size_t>(n));
    double mx = logits[0];
    for (std::int64_t i = 1; i < n; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
    const double log_z = mx + std::log(sum);
    for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = logits[i] - log_z;
}

std::int32_t bos_of(const Model& model, const Tokenizer& tokenizer) {
    if (model.config().bos_token_id) return *model.config().bos_token_id;
    if (auto id = tokenizer.bos_id()) return *id;
    throw Error(ErrorKind::invalid_argument,
                "evaluate: the model has no BOS token id (neither config.json bos_token_id nor "
                "the tokenizer's BOS), so lines cannot be scored as [BOS] + text");
}

}  // namespace

EvalResult evaluate(Model& model, const Tokenizer& tokenizer, const std::vector<std::string>& lines,
                    Model* reference, const ProgressFn& progress, const CancelToken* cancel) {
    const ModelConfig& cfg = model.config();
    const std::int64_t vocab = cfg.vocab_size;
    if (reference && reference->config().vocab_size != vocab)
        throw Error(ErrorKind::invalid_argument,
                    "evaluate: the reference model's vocabulary (" +
                        std::to_string(reference->config().vocab_size) +
                        " tokens) differs from the model's (" + std::to_string(vocab) + ")");
    const std::int32_t bos = bos_of(model, tokenizer);
    const std::int64_t max_len = cfg.max_position_embeddings;

    EvalResult r;
    double nll_sum = 0, kl_sum = 0;
    std::vector<double> lp, lp_ref;
    std::vector<std::int32_t> ids;
    for (std::size_t li = 0; li < lines.size(); ++li) {
        if (cancel) cancel->throw_if_cancelled("evaluation");
        if (progress)
            progress(static_cast<double>(li) / static_cast<double>(lines.size()), "scoring");
        if (lines[li].empty()) continue;
        ids.clear();
        ids.push_back(bos);
        const auto text_ids = tokenizer.encode(lines[li], false);
        ids.insert(ids.end(), text_ids.begin(), text_ids.end());
        if (static_cast<std::int64_t>(ids.size()) > max_len) {
            ids.resize(static_cast<std::size_t>(max_len));
            ++r.truncated_lines;
        }
        const auto n = static_cast<std::int64_t>(ids.size());
        if (n < 2) continue;
        for (std::int32_t id : ids)
            if (id < 0 || id >= vocab)
                throw Error(ErrorKind::invalid_argument,
                            "evaluate: line " + std::to_string(li + 1) + " encodes to token id " +
                                std::to_string(id) + ", outside the model's vocabulary of " +
                                std::to_string(vocab));
        const std::span<const std::int32_t> input(ids.data(), static_cast<std::size_t>(n - 1));
        ForwardOptions fo;
        fo.all_positions = true;
        KvCache cache = model.make_cache(n);
        const std::vector<float> logits = model.forward(input, cache, fo);
        std::vector<float> ref_logits;
        if (reference) {
            KvCache rc = reference->make_cache(n);
            ref_logits = reference->forward(input, rc, fo);
        }
        for (std::int64_t t = 0; t + 1 < n; ++t) {
            log_softmax(logits.data() + t * vocab, vocab, lp);
            nll_sum -= lp[static_cast<std::size_t>(ids[static_cast<std::size_t>(t + 1)])];
            if (reference) {
                log_softmax(ref_logits.data() + t * vocab, vocab, lp_ref);
                double kl = 0;
                for (std::int64_t v = 0; v < vocab; ++v) {
                    const double a = lp_ref[static_cast<std::size_t>(v)];
                    kl += std::exp(a) * (a - lp[static_cast<std::size_t>(v)]);
                }
                kl_sum += kl;
            }
        }
        r.tokens += n - 1;
        ++r.lines;
    }
    if (r.tokens == 0)
        throw Error(ErrorKind::invalid_argument, "evaluate: no line has a token to score (" +
                                                     std::to_string(lines.size()) +
                                                     " lines, all empty)");
    r.mean_nll = nll_sum / static_cast<double>(r.tokens);
    r.perplexity = std::exp(r.mean_nll);
    if (reference) r.kl = kl_sum / static_cast<double>(r.tokens);
    if (progress) progress(1.0, "scoring");
    return r;
}

std::vector<std::string> read_text_lines(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, "cannot open text file '" + file.string() + "'");
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(line);
    }
    if (in.bad()) throw Error(ErrorKind::io, "error reading text file '" + file.string() + "'");
    return out;
}

}  // namespace meswitch
