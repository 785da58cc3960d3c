// Row decoding of compressed and dense deltas.
//
// A compressed row decodes its codes densely (SIMD for 1, 2 and 4 bits: one vector takes
// 32 bits of codes, broadcasts them to every lane and shifts each lane's code down), then
// places the runs of coded columns between the sorted salient columns with memcpy and
// writes the salient values. Every value is scale · (float(q) − zero), the same two IEEE
// operations as delta::reconstruct, so the bits are the same.
#include "serve/delta_rows.h"

#include <cstring>
#include <memory>

#include "delta/quant/packing.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "serve/delta_rows.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::serve::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[j] = scale · (q_j − zero) for the first `count` codes of a packed row.
template <int Bits>
void decode_codes(const std::uint8_t* packed, std::size_t count, float scale, float zero,
                  float* out) {
    // One vector per 32 bits of codes (fewer lanes where the target has fewer).
    const hn::CappedTag<float, 32 / Bits> df;
    const hn::RebindToSigned<decltype(df)> di;
    const hn::RebindToUnsigned<decltype(df)> du;
    const std::size_t n = hn::Lanes(df);
    const std::size_t bytes = n * Bits / 8;
    // A vector must take whole bytes (not so for 1 bit on 128-bit vectors).
    const std::size_t vector_count = n * Bits % 8 == 0 ? count : 0;
    const auto shifts = hn::Mul(hn::Iota(du, 0), hn::Set(du, static_cast<std::uint32_t>(Bits)));
    const auto mask = hn::Set(du, (1u << Bits) - 1u);
    const auto vs = hn::Set(df, scale), vz = hn::Set(df, zero);
    std::size_t j = 0;
    for (; j + n <= vector_count; j += n, packed += bytes) {
        std::uint32_t word = 0;
        std::memcpy(&word, packed, bytes);
        const auto q = hn::BitCast(di, hn::And(hn::Set(du, word) >> shifts, mask));
        hn::StoreU(hn::Mul(vs, hn::Sub(hn::ConvertTo(df, q), vz)), df, out + j);
    }
    for (std::size_t bit = 0; j < count; ++j, bit += Bits) {
        const unsigned q = (packed[bit >> 3] >> (bit & 7)) & ((1u << Bits) - 1u);
        out[j] = scale * (static_cast<float>(q) - zero);
    }
}

void DecodeCodes(const std::uint8_t* packed, std::size_t count, int bits, float scale, float zero,
                 float* out) {
    switch (bits) {
        case 1:
            return decode_codes<1>(packed, count, scale, zero, out);
        case 2:
            return decode_codes<2>(packed, count, scale, zero, out);
        case 4:
            return decode_codes<4>(packed, count, scale, zero, out);
        default: {
            thread_local std::vector<std::uint8_t> q;
            q.resize(count);
            delta::unpack_codes(packed, static_cast<std::int64_t>(count), bits, q.data());
            for (std::size_t k = 0; k < count; ++k)
                out[k] = scale * (static_cast<float>(q[k]) - zero);
        }
    }
}

}  // namespace meswitch::serve::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

namespace meswitch::serve {

HWY_EXPORT(DecodeCodes);

void decode_coded_row(const std::uint8_t* packed, std::int64_t count, int bits, float scale,
                      float zero, float* out) {
    HWY_DYNAMIC_DISPATCH(DecodeCodes)
    (packed, static_cast<std::size_t>(count), bits, scale, zero, out);
}

namespace {

// A run of coded columns: out[col, col + len) = dense[at, at + len).
struct Run {
    std::int64_t col = 0, at = 0, len = 0;
};

}  // namespace

DeltaRowFn compressed_rows(const delta::CompressedLinear& c) {
    auto runs = std::make_shared<std::vector<Run>>();
    std::int64_t col = 0, at = 0;
    for (std::int64_t s : c.salient_idx) {
        if (s > col) runs->push_back({col, at, s - col});
        at += s - col;
        col = s + 1;
    }
    if (col < c.cols) runs->push_back({col, at, c.cols - col});
    const std::int64_t coded = c.cols - c.salient_count();
    return [&c, runs, coded](std::int64_t r, float* out) {
        const std::uint8_t* packed = c.codes.data() + r * c.row_bytes;
        const float scale = c.scale_at(r), zero = c.zero_at(r);
        if (c.salient_idx.empty()) {
            decode_coded_row(packed, coded, c.bits, scale, zero, out);
            return;
        }
        thread_local std::vector<float> dense;
        dense.resize(static_cast<std::size_t>(coded));
        decode_coded_row(packed, coded, c.bits, scale, zero, dense.data());
        for (const Run& run : *runs)
            std::memcpy(out + run.col, dense.data() + run.at,
                        static_cast<std::size_t>(run.len) * sizeof(float));
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
