// The zero-shot router: a multiple-choice prompt to the base model. The domains are listed
// with their descriptions under option labels ("A", "B", … or "1", "2", … beyond 26), the
// prompt follows, and the label tokens' log-probabilities after "Answer:" are normalised over
// the options. The result is divided by the same distribution for a content-free text
// ("N/A"), which removes the model's preference for a label independent of the prompt
// (contextual calibration, Zhao et al. 2021), and renormalised.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "meswitch/model.h"
#include "meswitch/tokenizer.h"

namespace meswitch::router {

struct ZeroShotDomain {
    std::string name;
    std::string description;
};

class ZeroShot {
public:
    // Throws Error(invalid_argument) when there are no domains.
    ZeroShot(Model& model, const Tokenizer& tokenizer, std::vector<ZeroShotDomain> domains,
             bool contextual_calibration = true);

    struct Result {
        std::vector<double> probabilities;  // per domain, sums to 1
        int tokens = 0;                     // tokens of the longest option prompt
        bool truncated = false;
        double prefill_ms = 0;  // tokenize + prefill of the shared option prompt
        double scoring_ms = 0;  // the option labels' tokens and the normalisation
    };
    Result classify(std::string_view prompt);

    std::string option_prompt(std::string_view text) const;  // without the label
    const std::vector<std::string>& labels() const { return labels_; }

private:
    Result raw(std::string_view prompt);

    Model* model_;
    const Tokenizer* tokenizer_;
    std::vector<ZeroShotDomain> domains_;
    std::vector<std::string> labels_;
    std::vector<double> prior_;  // content-free distribution (empty: no calibration)
};

}  // namespace meswitch::router
