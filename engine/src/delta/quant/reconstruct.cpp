// Δ̂ from the packed form, and the separate-computation product y += x·Δ̂ᵀ that never
// materialises Δ̂ (CPU reference for the device kernels):
//   Σ_i x_i Δ̂_i = s·(Σ_{i∉S} x_i q_i − z·Σ_{i∉S} x_i) + Σ_{i∈S} x_i v_i.
#include <string>
#include <vector>

#include "delta/quant/packing.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

namespace meswitch::delta {
namespace {

float salient_value(const CompressedLinear& c, std::size_t at) {
    return c.salient_dtype == DType::bf16 ? bf16_to_f32(c.salient_values[at])
                                          : f16_to_f32(c.salient_values[at]);
}

// Non-salient column indices in increasing order.
std::vector<std::int64_t> coded_columns(const CompressedLinear& c) {
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(c.cols - c.salient_count()));
    std::size_t s = 0;
    for (std::int64_t i = 0; i < c.cols; ++i) {
        if (s < c.salient_idx.size() && c.salient_idx[s] == i) {
            ++s;
            continue;
        }
        out.push_back(i);
    }
    return out;
}

}  // namespace

void reconstruct(const CompressedLinear& c, float* out) {
    c.validate("compressed layer");
    reconstruct_rows(c, 0, c.rows, out);
}

void reconstruct_rows(const CompressedLinear& c, std::int64_t r0, std::int64_t r1, float* out) {
    const std::vector<std::int64_t> cols = coded_columns(c);
    const std::int64_t n = static_cast<std::int64_t>(cols.size());
    const std::int64_t k = c.salient_count();
    std::vector<std::uint8_t> q(static_cast<std::size_t>(n));
    for (std::int64_t r = r0; r < r1; ++r) {
        float* row = out + (r - r0) * c.cols;
        const float s = c.scale_at(r), z = c.zero_at(r);
        unpack_codes(c.codes.data() + r * c.row_bytes, n, c.bits, q.data());
        for (std::int64_t j = 0; j < n; ++j)
            row[cols[static_cast<std::size_t>(j)]] = s * (static_cast<float>(q[j]) - z);
        for (std::int64_t j = 0; j < k; ++j)
            row[c.salient_idx[static_cast<std::size_t>(j)]] =
                salient_value(c, static_cast<std::size_t>(r * k + j));
    }
}

void add_delta_product(const CompressedLinear& c, const float* x, std::int64_t n_x, float* y) {
    c.validate("compressed layer");
    if (n_x <= 0) return;
    const std::vector<std::int64_t> cols = coded_columns(c);
    const std::int64_t n = static_cast<std::int64_t>(cols.size());
    const std::int64_t k = c.salient_count();
    // Gather each input row's coded and salient channels once.
    std::vector<float> xs(static_cast<std::size_t>(n_x * n)), xk(static_cast<std::size_t>(n_x * k));
    std::vector<float> xsum(static_cast<std::size_t>(n_x), 0.0f);
    for (std::int64_t t = 0; t < n_x; ++t) {
        const float* xt = x + t * c.cols;
        float sum = 0.0f;
        for (std::int64_t j = 0; j < n; ++j) {
            const float v = xt[cols[static_cast<std::size_t>(j)]];
            xs[static_cast<std::size_t>(t * n + j)] = v;
            sum += v;
        }
        xsum[static_cast<std::size_t>(t)] = sum;
        for (std::int64_t j = 0; j < k; ++j)
            xk[static_cast<std::size_t>(t * k + j)] =
                xt[c.salient_idx[static_cast<std::size_t>(j)]];
    }
    std::vector<std::uint8_t> q8(static_cast<std::size_t>(n));
    std::vector<float> qf(static_cast<std::size_t>(n));
    std::vector<float> sal(static_cast<std::size_t>(k));
    for (std::int64_t r = 0; r < c.rows; ++r) {
        unpack_codes(c.codes.data() + r * c.row_bytes, n, c.bits, q8.data());
        for (std::int64_t j = 0; j < n; ++j)
            qf[static_cast<std::size_t>(j)] = static_cast<float>(q8[j]);
        for (std::int64_t j = 0; j < k; ++j)
            sal[static_cast<std::size_t>(j)] =
                salient_value(c, static_cast<std::size_t>(r * k + j));
        const float s = c.scale_at(r), z = c.zero_at(r);
        for (std::int64_t t = 0; t < n_x; ++t) {
            const float* xt = xs.data() + t * n;
            float dot = 0.0f;
            for (std::int64_t j = 0; j < n; ++j) dot += xt[j] * qf[static_cast<std::size_t>(j)];
            float acc = s * (dot - z * xsum[static_cast<std::size_t>(t)]);
            const float* xkt = xk.data() + t * k;
            for (std::int64_t j = 0; j < k; ++j) acc += xkt[j] * sal[static_cast<std::size_t>(j)];
            y[t * c.rows + r] += acc;
        }
    }
}

}  // namespace meswitch::delta
