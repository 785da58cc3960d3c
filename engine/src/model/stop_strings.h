// Holds back streamed text that could be the start of a stop string, so that a stop string
// never reaches the user even partially, and cuts the text before the first one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meswitch::model {

class StopStringFilter {
public:
    explicit StopStringFilter(std::vector<std::string> stop_strings);

    // Appends decoded text; returns the part that is safe to show now. After a stop string
    // appears, stopped() is true and the returned text ends right before it.
    std::string push(std::string_view text);
    // The held-back text, at the end of generation (empty once stopped).
    std::string finish();
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stops_;
    std::string held_;
    bool stopped_ = false;
};

}  // namespace meswitch::model
