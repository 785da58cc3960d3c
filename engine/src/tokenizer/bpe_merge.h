// The BPE merge engine: given the symbols of one word, repeatedly merge the adjacent pair with
// the lowest merge rank (ties: the leftmost) until no pair has a rule. A doubly linked list over
// the symbols and a min-heap of candidate pairs keep it O(n log n) in the word length.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace meswitch::tok {

struct MergeRule {
    std::uint32_t rank = 0;
    std::int32_t merged_id = 0;
};

inline std::uint64_t pair_key(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
}

using MergeMap = std::unordered_map<std::uint64_t, MergeRule>;

// Merges `ids` in place with the rules of `merges` (keyed by pair_key(left, right)).
void merge_symbols(std::vector<std::int32_t>& ids, const MergeMap& merges);

}  // namespace meswitch::tok
