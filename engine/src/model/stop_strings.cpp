#include "model/stop_strings.h"

#include <algorithm>

namespace meswitch::model {

StopStringFilter::StopStringFilter(std::vector<std::string> stop_strings) {
    for (auto& s : stop_strings)
        if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopStringFilter::push(std::string_view text) {
    if (stopped_) return {};
    held_ += text;
    std::size_t first = std::string::npos;
    for (const std::string& s : stops_) first = std::min(first, held_.find(s));
    if (first != std::string::npos) {
        std::string out = held_.substr(0, first);
        held_.clear();
        stopped_ = true;
        return out;
    }
    // Longest suffix of held_ that is a proper prefix of some stop string.
    std::size_t keep = 0;
    for (const std::string& s : stops_) {
        const std::size_t max_len = std::min(s.size() - 1, held_.size());
        for (std::size_t len = max_len; len > keep; --len) {
            if (std::string_view(held_).substr(held_.size() - len) ==
                std::string_view(s).substr(0, len)) {
                keep = len;
                break;
            }
        }
    }
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
}

std::string StopStringFilter::finish() {
    std::string out = std::move(held_);
    held_.clear();
    return out;
}

}  // namespace meswitch::model
