// Row decoding of compressed and dense deltas.
#include "serve/delta_rows.h"

#include <memory>

#include "delta/quant/packing.h"

namespace meswitch::serve {

DeltaRowFn compressed_rows(const delta::CompressedLinear& c) {
    // Non-salient columns in increasing order (the codes' order).
    auto coded = std::make_shared<std::vector<std::int64_t>>();
    coded->reserve(static_cast<std::size_t>(c.cols - c.salient_count()));
    std::size_t s = 0;
    for (std::int64_t i = 0; i < c.cols; ++i) {
        if (s < c.salient_idx.size() && c.salient_idx[s] == i) {
            ++s;
            continue;
        }
        coded->push_back(i);
    }
    return [&c, coded](std::int64_t r, float* out) {
        thread_local std::vector<std::uint8_t> q;
        const auto n = static_cast<std::int64_t>(coded->size());
        q.resize(static_cast<std::size_t>(n));
        delta::unpack_codes(c.codes.data() + r * c.row_bytes, n, c.bits, q.data());
        const float scale = c.scale_at(r), zero = c.zero_at(r);
        for (std::int64_t j = 0; j < n; ++j)
            out[(*coded)[static_cast<std::size_t>(j)]] =
                scale * (static_cast<float>(q[static_cast<std::size_t>(j)]) - zero);
        const std::int64_t k = c.salient_count();
        for (std::int64_t j = 0; j < k; ++j) {
            const std::uint16_t v = c.salient_values[static_cast<std::size_t>(r * k + j)];
            out[c.salient_idx[static_cast<std::size_t>(j)]] =
                c.salient_dtype == DType::bf16 ? bf16_to_f32(v) : f16_to_f32(v);
        }
    };
}

DeltaRowFn dense_rows(const delta::DenseDelta& d, std::int64_t cols) {
    return [&d, cols](std::int64_t r, float* out) {
        const auto at = static_cast<std::size_t>(r * cols);
        if (d.dtype == DType::f32)
            for (std::int64_t j = 0; j < cols; ++j)
                out[j] = d.f32[at + static_cast<std::size_t>(j)];
        else
            convert_to_f32(d.dtype, d.bits16.data() + at, out, static_cast<std::size_t>(cols));
    };
}

}  // namespace meswitch::serve
