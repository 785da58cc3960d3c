#include "tokenizer/bpe_merge.h"

#include <queue>

namespace meswitch::tok {

namespace {

struct Symbol {
    std::int32_t id;
    std::int32_t prev;  // index of the previous live symbol, -1 at the start
    std::int32_t next;  // index of the next live symbol, -1 at the end
    bool alive;
};

struct Candidate {
    std::uint32_t rank;
    std::int32_t pos;  // index of the left symbol
    std::int32_t merged_id;
    // std::priority_queue is a max-heap: the "largest" is the lowest rank, then leftmost.
    bool operator<(const Candidate& o) const {
        if (rank != o.rank) return rank > o.rank;
        return pos > o.pos;
    }
};

}  // namespace

void merge_symbols(std::vector<std::int32_t>& ids, const MergeMap& merges) {
    const auto n = static_cast<std::int32_t>(ids.size());
    if (n < 2) return;
    std::vector<Symbol> symbols(ids.size());
    for (std::int32_t i = 0; i < n; ++i) symbols[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1, true};

    std::vector<Candidate> initial;
    initial.reserve(ids.size());
    for (std::int32_t i = 0; i + 1 < n; ++i) {
        const auto it = merges.find(pair_key(ids[i], ids[i + 1]));
        if (it != merges.end()) initial.push_back({it->second.rank, i, it->second.merged_id});
    }
    std::priority_queue<Candidate> queue(std::less<Candidate>{}, std::move(initial));

    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        Symbol& left = symbols[top.pos];
        if (!left.alive || left.next < 0) continue;
        const std::int32_t right_pos = left.next;
        Symbol& right = symbols[right_pos];
        // Stale entry: the pair at this position changed since it was queued.
        const auto rule = merges.find(pair_key(left.id, right.id));
        if (rule == merges.end() || rule->second.merged_id != top.merged_id) continue;

        left.id = top.merged_id;
        left.next = right.next;
        right.alive = false;
        if (right.next >= 0) symbols[right.next].prev = top.pos;

        if (left.prev >= 0) {
            const auto it = merges.find(pair_key(symbols[left.prev].id, left.id));
            if (it != merges.end()) queue.push({it->second.rank, left.prev, it->second.merged_id});
        }
        if (left.next >= 0) {
            const auto it = merges.find(pair_key(left.id, symbols[left.next].id));
            if (it != merges.end()) queue.push({it->second.rank, top.pos, it->second.merged_id});
        }
    }

    ids.clear();
    for (std::int32_t i = 0; i >= 0; i = symbols[i].next) ids.push_back(symbols[i].id);
}

}  // namespace meswitch::tok
