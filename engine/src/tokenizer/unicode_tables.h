// Unicode data for canonical normalization (NFC/NFD), generated into unicode_tables.cpp by
// make_unicode_tables.py. Hangul syllables are handled algorithmically and are not listed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace meswitch::tok::unicode {

struct CombiningRange {
    char32_t first;
    char32_t last;
    std::uint8_t ccc;  // canonical combining class, non-zero
};

struct Decomposition {
    char32_t code_point;
    char32_t first;
    char32_t second;  // 0 for singleton decompositions
};

extern const char* const version;
extern const CombiningRange combining_ranges[];  // sorted, disjoint
extern const std::size_t combining_range_count;
extern const Decomposition decompositions[];  // sorted by code_point, one level deep
extern const std::size_t decomposition_count;
extern const char32_t composition_exclusions[];  // sorted (CompositionExclusions.txt)
extern const std::size_t composition_exclusion_count;

}  // namespace meswitch::tok::unicode
