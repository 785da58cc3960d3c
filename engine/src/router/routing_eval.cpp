// Routing evaluation: a labelled TSV, accuracy, per-domain precision/recall, confusion.
#include <fstream>
#include <map>
#include <set>

#include "meswitch/error.h"
#include "meswitch/router.h"

namespace meswitch {

std::vector<LabeledPrompt> read_routing_tsv(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, "cannot read routing file " + file.string());
    std::vector<LabeledPrompt> out;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const auto tab = line.find('\t');
        if (tab == std::string::npos || tab == 0)
            throw Error(ErrorKind::format, file.string() + ":" + std::to_string(number) +
                                               ": expected 'domain<TAB>prompt'");
        out.push_back({line.substr(0, tab), line.substr(tab + 1)});
    }
    if (in.bad()) throw Error(ErrorKind::io, "error reading routing file " + file.string());
    if (out.empty()) throw Error(ErrorKind::format, file.string() + ": no labelled prompts");
    return out;
}

RoutingEvaluation evaluate_routing(Router& router, const std::vector<LabeledPrompt>& prompts) {
    RoutingEvaluation ev;
    ev.router = router.info().router;
    std::map<std::string, std::map<std::string, int>> confusion;
    std::set<std::string> names;
    double latency = 0, features = 0, classify = 0, confidence = 0;
    for (const auto& lp : prompts) {
        const RouteResult r = router.route(lp.prompt);
        const std::string pred = r.domain.empty() ? "(none)" : r.domain;
        ++confusion[lp.domain][pred];
        names.insert(lp.domain);
        names.insert(pred);
        ++ev.total;
        if (pred == lp.domain) ++ev.correct;
        if (r.reason == "below threshold") ++ev.below_threshold;
        confidence += r.confidence;
        latency += r.total_ms;
        features += r.features_ms;
        classify += r.classify_ms;
    }
    const double n = std::max(1, ev.total);
    ev.accuracy = ev.correct / n;
    ev.mean_confidence = confidence / n;
    ev.mean_latency_ms = latency / n;
    ev.mean_features_ms = features / n;
    ev.mean_classify_ms = classify / n;
    for (const auto& name : names) {
        int tp = 0, predicted = 0, support = 0;
        for (const auto& [truth, row] : confusion)
            for (const auto& [pred, count] : row) {
                if (pred == name) predicted += count;
                if (truth == name) support += count;
                if (truth == name && pred == name) tp += count;
            }
        DomainScore s;
        s.support = support;
        s.precision = predicted ? static_cast<double>(tp) / predicted : 0.0;
        s.recall = support ? static_cast<double>(tp) / support : 0.0;
        ev.per_domain.emplace_back(name, s);
    }
    for (const auto& truth : names) {
        auto it = confusion.find(truth);
        if (it == confusion.end()) continue;
        std::vector<std::pair<std::string, int>> row;
        for (const auto& pred : names)
            row.emplace_back(pred, it->second.count(pred) ? it->second.at(pred) : 0);
        ev.confusion.emplace_back(truth, std::move(row));
    }
    return ev;
}

}  // namespace meswitch
