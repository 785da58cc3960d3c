// CompressedLinear accessors, storage accounting and validation.
#include <cmath>
#include <string>

#include "delta/quant/packing.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

namespace meswitch::delta {

float CompressedLinear::scale_at(std::int64_t row) const {
    return f16_to_f32(scales.size() == 1 ? scales[0] : scales[static_cast<std::size_t>(row)]);
}

float CompressedLinear::zero_at(std::int64_t row) const {
    const float levels = static_cast<float>((1 << bits) - 1);
    switch (zero_format) {
        case ZeroFormat::midpoint:
            return levels * 0.5f;
        case ZeroFormat::u8:
            return static_cast<float>(zeros[static_cast<std::size_t>(row)]) * levels / 255.0f;
        case ZeroFormat::f16:
            return f16_to_f32(zeros[static_cast<std::size_t>(row)]);
    }
    return 0.0f;
}

std::size_t CompressedLinear::storage_bytes() const {
    std::size_t zero_bytes = zero_format == ZeroFormat::u8    ? 1
                             : zero_format == ZeroFormat::f16 ? 2
                                                              : 0;
    return codes.size() + scales.size() * 2 + zeros.size() * zero_bytes +
           salient_values.size() * 2 + salient_idx.size() * 4;
}

double CompressedLinear::bits_per_param() const {
    const double params = static_cast<double>(rows) * static_cast<double>(cols);
    return params > 0 ? static_cast<double>(storage_bytes()) * 8.0 / params : 0.0;
}

void CompressedLinear::validate(std::string_view what) const {
    auto fail = [&](const std::string& problem) {
        throw Error(ErrorKind::format, std::string(what) + ": " + problem);
    };
    if (rows <= 0 || cols <= 0 || rows > (1ll << 31) || cols > (1ll << 31))
        fail("bad shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
    if (rows * cols > (1ll << 40)) fail("shape too large");
    if (method != Method::meswitch && method != Method::rtn && method != Method::bitdelta)
        fail("unknown method " + std::to_string(static_cast<int>(method)));
    if (bits < 1 || bits > 4) fail("bits " + std::to_string(bits) + " not in 1..4");
    if (zero_format != ZeroFormat::midpoint && zero_format != ZeroFormat::u8 &&
        zero_format != ZeroFormat::f16)
        fail("unknown zero format " + std::to_string(static_cast<int>(zero_format)));
    if (salient_dtype != DType::f16 && salient_dtype != DType::bf16)
        fail(std::string("salient values must be F16 or BF16, not ") + dtype_name(salient_dtype));
    const std::int64_t k = salient_count();
    if (k > cols) fail("more salient channels (" + std::to_string(k) + ") than columns");
    for (std::int64_t j = 0; j < k; ++j) {
        const std::int32_t idx = salient_idx[static_cast<std::size_t>(j)];
        if (idx < 0 || idx >= cols)
            fail("salient index " + std::to_string(idx) + " out of range [0, " +
                 std::to_string(cols) + ")");
        if (j > 0 && idx <= salient_idx[static_cast<std::size_t>(j - 1)])
            fail("salient indices not sorted and unique at position " + std::to_string(j));
    }
    if (static_cast<std::int64_t>(salient_values.size()) != rows * k)
        fail("salient values hold " + std::to_string(salient_values.size()) +
             " values, expected rows × k = " + std::to_string(rows * k));
    if (row_bytes != packed_bytes(cols - k, bits))
        fail("row_bytes " + std::to_string(row_bytes) + " does not match " +
             std::to_string(cols - k) + " codes of " + std::to_string(bits) + " bits");
    if (static_cast<std::int64_t>(codes.size()) != rows * row_bytes)
        fail("code buffer holds " + std::to_string(codes.size()) + " bytes, expected " +
             std::to_string(rows * row_bytes));
    if (scales.size() != 1 && static_cast<std::int64_t>(scales.size()) != rows)
        fail("expected 1 or " + std::to_string(rows) + " scales, found " +
             std::to_string(scales.size()));
    for (std::uint16_t s : scales)
        if (!std::isfinite(f16_to_f32(s))) fail("non-finite scale");
    if (zero_format == ZeroFormat::midpoint) {
        if (!zeros.empty()) fail("zero points stored for a symmetric (midpoint) layer");
    } else {
        if (static_cast<std::int64_t>(zeros.size()) != rows)
            fail("expected " + std::to_string(rows) + " zero points, found " +
                 std::to_string(zeros.size()));
        for (std::uint16_t z : zeros) {
            if (zero_format == ZeroFormat::u8 && z > 255) fail("u8 zero point above 255");
            if (zero_format == ZeroFormat::f16 && !std::isfinite(f16_to_f32(z)))
                fail("non-finite zero point");
        }
    }
    for (std::uint16_t v : salient_values) {
        const float f = salient_dtype == DType::f16 ? f16_to_f32(v) : bf16_to_f32(v);
        if (!std::isfinite(f)) fail("non-finite salient value");
    }
}

}  // namespace meswitch::delta
