// Row decoding of compressed and dense deltas.
//
// A compressed row decodes each run of coded columns between the sorted salient columns
// straight into place (SIMD: one vector takes up to 32 bits of codes from an unaligned
// 64-bit word, broadcasts them to every lane and shifts each lane's code down), then
// writes the salient values. Every value is scale · (float(q) − zero), the same two IEEE
// operations as delta::reconstruct, so the bits are the same.
#include "serve/delta_rows.h"

#include <cstring>
#include <memory>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "serve/delta_rows.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::serve::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Lanes per vector for b-bit codes: the codes of one vector, plus up to 7 bits of offset
// into their first byte, must fit the 64-bit word they are read from, and the codes alone
// the 32-bit lanes.
constexpr std::size_t lanes_for(int bits) {
    return bits == 1 ? 32 : bits == 2 ? 16 : 8;
}

// out[col + j] = scale · (q − zero) for the codes at + j (j < len) of each run
// (col, at, len) of a packed row. Reads whole 64-bit words while they end at or before
// `end` (the end of the codes buffer); a run's last partial vector is a masked store.
// Where a vector holds every code value, the values come from a table of the 2^b values
// scale · (q − zero), computed with the same two operations.
template <int Bits>
void decode_runs(const std::uint8_t* packed, const std::uint8_t* end, const std::int64_t* runs,
                 std::size_t run_count, float scale, float zero, float* out) {
    const hn::CappedTag<float, lanes_for(Bits)> df;
    const hn::RebindToSigned<decltype(df)> di;
    const hn::RebindToUnsigned<decltype(df)> du;
    const std::size_t n = hn::Lanes(df);
    constexpr std::size_t levels = std::size_t{1} << Bits;
    const bool use_table = n >= levels;
    HWY_ALIGN float table[hn::MaxLanes(df)] = {};
    for (std::size_t q = 0; q < levels && q < n; ++q)
        table[q] = scale * (static_cast<float>(q) - zero);
    const auto values = hn::Load(df, table);
    const auto shifts = hn::Mul(hn::Iota(du, 0), hn::Set(du, static_cast<std::uint32_t>(Bits)));
    const auto mask = hn::Set(du, static_cast<std::uint32_t>(levels - 1));
    const auto vs = hn::Set(df, scale), vz = hn::Set(df, zero);
    const auto available = static_cast<std::size_t>(end - packed);
    auto decode = [&](std::size_t bit) {
        std::uint64_t word;
        std::memcpy(&word, packed + (bit >> 3), 8);
        const auto codes = hn::Set(du, static_cast<std::uint32_t>(word >> (bit & 7)));
        const auto q = hn::And(hn::Shr(codes, shifts), mask);
        if (use_table)
            return hn::TableLookupLanes(values, hn::IndicesFromVec(df, hn::BitCast(di, q)));
        return hn::Mul(vs, hn::Sub(hn::ConvertTo(df, hn::BitCast(di, q)), vz));
    };
    for (std::size_t r = 0; r < run_count; ++r) {
        float* o = out + runs[3 * r];
        const auto first = static_cast<std::size_t>(runs[3 * r + 1]);
        const auto count = static_cast<std::size_t>(runs[3 * r + 2]);
        std::size_t j = 0, bit = first * Bits;
        for (; j + n <= count && (bit >> 3) + 8 <= available; j += n, bit += n * Bits)
            hn::StoreU(decode(bit), df, o + j);
        if (j < count && (bit >> 3) + 8 <= available) {
            hn::BlendedStore(decode(bit), hn::FirstN(df, count - j), df, o + j);
            continue;
        }
        for (; j < count; ++j, bit += Bits) {  // the last codes of the buffer
            unsigned v = packed[bit >> 3];
            if ((bit & 7) + Bits > 8) v |= static_cast<unsigned>(packed[(bit >> 3) + 1]) << 8;
            const unsigned q = (v >> (bit & 7)) & (levels - 1);
            o[j] = scale * (static_cast<float>(q) - zero);
        }
    }
}

void DecodeRuns(const std::uint8_t* packed, const std::uint8_t* end, const std::int64_t* runs,
                std::size_t run_count, int bits, float scale, float zero, float* out) {
    switch (bits) {
        case 1:
            return decode_runs<1>(packed, end, runs, run_count, scale, zero, out);
        case 2:
            return decode_runs<2>(packed, end, runs, run_count, scale, zero, out);
        case 3:
            return decode_runs<3>(packed, end, runs, run_count, scale, zero, out);
        default:
            return decode_runs<4>(packed, end, runs, run_count, scale, zero, out);
    }
}

}  // namespace meswitch::serve::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

namespace meswitch::serve {

HWY_EXPORT(DecodeRuns);

void decode_coded_row(const std::uint8_t* packed, const std::uint8_t* end, std::int64_t first,
                      std::int64_t count, int bits, float scale, float zero, float* out) {
    const std::int64_t run[3] = {0, first, count};
    HWY_DYNAMIC_DISPATCH(DecodeRuns)(packed, end, run, 1, bits, scale, zero, out);
}

DeltaRowFn compressed_rows(const delta::CompressedLinear& c) {
    // Runs of coded columns between the salient ones: (column, first code, length).
    auto runs = std::make_shared<std::vector<std::int64_t>>();
    std::int64_t col = 0, at = 0;
    auto add = [&](std::int64_t to) {
        if (to > col) runs->insert(runs->end(), {col, at, to - col});
        at += to - col;
    };
    for (std::int64_t s : c.salient_idx) {
        add(s);
        col = s + 1;
    }
    add(c.cols);
    return [&c, runs](std::int64_t r, float* out) {
        const float scale = c.scale_at(r), zero = c.zero_at(r);
        HWY_DYNAMIC_DISPATCH(DecodeRuns)
        (c.codes.data() + r * c.row_bytes, c.codes.data() + c.codes.size(), runs->data(),
         runs->size() / 3, c.bits, scale, zero, out);
        const std::int64_t k = c.salient_count();
        const std::uint16_t* sv = c.salient_values.data() + r * k;
        for (std::int64_t j = 0; j < k; ++j)
            out[c.salient_idx[static_cast<std::size_t>(j)]] =
                c.salient_dtype == DType::bf16 ? bf16_to_f32(sv[j]) : f16_to_f32(sv[j]);
    };
}

DeltaRowFn dense_rows(const delta::DenseDelta& d, std::int64_t cols) {
    return [&d, cols](std::int64_t r, float* out) {
        const auto at = static_cast<std::size_t>(r * cols);
        if (d.dtype == DType::f32)
            std::memcpy(out, d.f32.data() + at, static_cast<std::size_t>(cols) * sizeof(float));
        else
            convert_to_f32(d.dtype, d.bits16.data() + at, out, static_cast<std::size_t>(cols));
    };
}

}  // namespace meswitch::serve

#endif  // HWY_ONCE
