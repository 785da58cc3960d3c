#include "tokenizer/unicode_normalize.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace meswitch::tok {

namespace {

using namespace unicode;

constexpr char32_t s_base = 0xAC00, l_base = 0x1100, v_base = 0x1161, t_base = 0x11A7;
constexpr char32_t l_count = 19, v_count = 21, t_count = 28, n_count = v_count * t_count,
                   s_count = l_count * n_count;

std::uint8_t combining_class(char32_t cp) {
    if (cp < 0x300) return 0;
    const CombiningRange* end = combining_ranges + combining_range_count;
    const CombiningRange* it = std::upper_bound(
        combining_ranges, end, cp, [](char32_t c, const CombiningRange& r) { return c < r.first; });
    if (it == combining_ranges) return 0;
    --it;
    return cp <= it->last ? it->ccc : 0;
}

const Decomposition* find_decomposition(char32_t cp) {
    const Decomposition* end = decompositions + decomposition_count;
    const Decomposition* it =
        std::lower_bound(decompositions, end, cp,
                         [](const Decomposition& d, char32_t c) { return d.code_point < c; });
    return it != end && it->code_point == cp ? it : nullptr;
}

void decompose(char32_t cp, std::vector<char32_t>& out) {
    if (cp >= s_base && cp < s_base + s_count) {
        const char32_t s = cp - s_base;
        out.push_back(l_base + s / n_count);
        out.push_back(v_base + (s % n_count) / t_count);
        if (s % t_count != 0) out.push_back(t_base + s % t_count);
        return;
    }
    if (const Decomposition* d = cp >= 0xC0 ? find_decomposition(cp) : nullptr) {
        decompose(d->first, out);
        if (d->second) decompose(d->second, out);
        return;
    }
    out.push_back(cp);
}

// Primary composites: pair decompositions starting with a starter, minus the exclusions.
const std::unordered_map<std::uint64_t, char32_t>& compositions() {
    static const auto map = [] {
        std::unordered_map<std::uint64_t, char32_t> m;
        const char32_t* ex_end = composition_exclusions + composition_exclusion_count;
        for (std::size_t i = 0; i < decomposition_count; ++i) {
            const Decomposition& d = decompositions[i];
            if (!d.second || combining_class(d.first) != 0 || combining_class(d.code_point) != 0)
                continue;
            if (std::binary_search(composition_exclusions, ex_end, d.code_point)) continue;
            m.emplace((static_cast<std::uint64_t>(d.first) << 32) | d.second, d.code_point);
        }
        return m;
    }();
    return map;
}

char32_t compose_pair(char32_t a, char32_t b) {
    if (a >= l_base && a < l_base + l_count && b >= v_base && b < v_base + v_count)
        return s_base + ((a - l_base) * v_count + (b - v_base)) * t_count;
    if (a >= s_base && a < s_base + s_count && (a - s_base) % t_count == 0 && b > t_base &&
        b < t_base + t_count)
        return a + (b - t_base);
    const auto& m = compositions();
    const auto it = m.find((static_cast<std::uint64_t>(a) << 32) | b);
    return it == m.end() ? 0 : it->second;
}

std::vector<char32_t> decomposed(std::string_view text) {
    std::vector<char32_t> cps;
    cps.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) decompose(next_code_point(text, i), cps);
    // Canonical ordering: stable sort of each run of non-starters by combining class.
    for (std::size_t i = 0; i < cps.size();) {
        if (combining_class(cps[i]) == 0) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
        std::stable_sort(cps.begin() + static_cast<std::ptrdiff_t>(i),
                         cps.begin() + static_cast<std::ptrdiff_t>(j), [](char32_t a, char32_t b) {
                             return combining_class(a) < combining_class(b);
                         });
        i = j;
    }
    return cps;
}

std::string encode(const std::vector<char32_t>& cps) {
    std::string out;
    out.reserve(cps.size());
    for (char32_t cp : cps) append_code_point(out, cp);
    return out;
}

bool all_below(std::string_view text, unsigned char limit) {
    return std::all_of(text.begin(), text.end(),
                       [&](char c) { return static_cast<unsigned char>(c) < limit; });
}

}  // namespace

std::string to_nfd(std::string_view text) {
    if (all_below(text, 0x80)) return std::string(text);
    return encode(decomposed(text));
}

std::string to_nfc(std::string_view text) {
    // Below U+0300 (UTF-8 bytes < 0xCC) every character is already in NFC.
    if (all_below(text, 0xCC)) return std::string(text);
    std::vector<char32_t> cps = decomposed(text);
    if (cps.empty()) return {};
    std::size_t starter = 0;
    bool have_starter = combining_class(cps[0]) == 0;
    int last_class = have_starter ? 0 : 256;
    std::size_t kept = 1;
    for (std::size_t i = 1; i < cps.size(); ++i) {
        const char32_t ch = cps[i];
        const int cls = combining_class(ch);
        const char32_t composite = have_starter ? compose_pair(cps[starter], ch) : 0;
        if (composite && (last_class < cls || last_class == 0)) {
            cps[starter] = composite;
            continue;
        }
        if (cls == 0) {
            starter = kept;
            have_starter = true;
        }
        last_class = cls;
        cps[kept++] = ch;
    }
    cps.resize(kept);
    return encode(cps);
}

}  // namespace meswitch::tok
