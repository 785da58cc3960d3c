// Scoring a model on text: mean next-token negative log-likelihood, perplexity, and the KL
// divergence from a reference model — the figures every compression change comes with.
//
//   EvalResult r = evaluate(model, tokenizer, read_text_lines("eval/math.txt"), &reference);
//
// Each line is scored as [BOS] + encode(line) (the tokenizer's own special tokens are not
// added a second time, no EOS); every token after BOS is predicted from the tokens before it.
// The mean is over all scored tokens of all lines (not a mean of per-line means).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "meswitch/progress.h"

namespace meswitch {

class Model;
class Tokenizer;

struct EvalResult {
    double mean_nll = 0;               // nats per token
    double perplexity = 0;             // exp(mean_nll)
    std::int64_t tokens = 0;           // scored tokens (every token after BOS)
    std::int64_t lines = 0;            // lines scored (empty lines are skipped)
    std::int64_t truncated_lines = 0;  // lines cut to the model's context length
    // Mean KL(reference ‖ model) in nats over the same positions, when a reference is given.
    std::optional<double> kl;
};

// Throws Error(invalid_argument) when the model has no BOS id (config or tokenizer), when
// the tokenizer and model vocabularies disagree with a reference model's, or when no line
// has a token to score. Polls `cancel` between lines (Error(cancelled)).
EvalResult evaluate(Model& model, const Tokenizer& tokenizer, const std::vector<std::string>& lines,
                    Model* reference = nullptr, const ProgressFn& progress = {},
                    const CancelToken* cancel = nullptr);

// The lines of a UTF-8 text file (a trailing '\r' is dropped; empty lines are kept so that
// line numbers stay meaningful; evaluate() skips them). Errors name the file.
std::vector<std::string> read_text_lines(const std::filesystem::path& file);

}  // namespace meswitch
