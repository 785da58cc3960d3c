// The separate-computation product y += x·Δ̂ᵀ on the CPU, read straight from the packed
// ME-Switch delta (1–4-bit codes, per-row step and zero, salient columns kept in 16 bits),
// never expanding Δ̂. Multi-threaded over weight rows; SIMD integer dot products.
//
// Per output row r and activation row t:
//   y[t, r] += s_r · (Σ_{i∉S} x_i q_ri − z_r · Σ_{i∉S} x_i) + Σ_{j∈S} x_j v_rj
// The coded part runs on integers: each activation row's coded values are scaled by one
// step σ = max|x| / 32639 and rounded to a 16-bit integer v = 256·hi + lo (hi, lo signed
// bytes), so Σ q·x ≈ σ (256 Σ q·hi + Σ q·lo) with u8 × s8 dot-product instructions (AVX-512
// VNNI vpdpbusd; vpmaddubsw + vpmaddwd on AVX2 and AVX-512 without VNNI), summed in 32-bit
// integers over the whole row. Each activation's rounding error is at most σ / 2, i.e.
// 1.5e-5 of the row's largest coded |x| (the outlier channels are the salient ones, kept out
// of the coded part) — finer than float16 and far below the quantization error of Δ̂ itself.
// The zero-point term uses the same rounded activations, so the error is s·Σ (q − z)·ε, not
// s·Σ q·ε. Salient columns are summed in float32.
//
// Bits 1, 2 and 4 read the codes as stored (a code vector's byte lanes hold 8/bits codes
// each; the activations are permuted once per call to match). 3-bit codes straddle bytes
// and are unpacked per row first (slower, still threaded).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace meswitch {
class ThreadPool;
}
namespace meswitch::delta {
struct CompressedLinear;
}

namespace meswitch::cpu {

// What the product needs of a CompressedLinear, widened once. It points at the linear's
// code bytes: the CompressedLinear must outlive it and keep its codes where they are.
struct PackedDelta {
    std::int64_t rows = 0, cols = 0;
    int bits = 2;
    const std::uint8_t* codes = nullptr;  // rows × row_bytes
    std::int64_t row_bytes = 0;
    std::int64_t coded = 0;             // non-salient columns per row
    std::vector<float> scale, zero;     // per row
    std::vector<std::int32_t> salient;  // column indices, sorted
    std::vector<float> salient_values;  // salient.size() × rows (column-major: k-th column's rows)
    // Runs of consecutive coded columns: (first column, length), in column order.
    std::vector<std::pair<std::int64_t, std::int64_t>> runs;
};

// Validates `linear` (Error(format)) and prepares it.
PackedDelta prepare_delta(const delta::CompressedLinear& linear);

struct DeltaActs;  // the rounded, permuted activations of one product (delta_product.cpp)
class DeltaActsStore;

// One product with its activations rounded once: add_rows(r0, r1) adds rows [r0, r1) of
// x·Δ̂ᵀ to y, from any thread, for disjoint ranges at once. It borrows the delta, y and the
// preparing thread's activation buffer: valid until that thread prepares another product.
class DeltaProduct {
public:
    void add_rows(std::int64_t r0, std::int64_t r1) const;

private:
    friend DeltaProduct prepare_product(const PackedDelta&, const float*, std::int64_t, float*);
    friend DeltaProduct prepare_product(const PackedDelta&, const float*, std::int64_t, float*,
                                        DeltaActsStore&);
    DeltaProduct(const PackedDelta* d, const DeltaActs* a, float* y) : delta_(d), acts_(a), y_(y) {}
    const PackedDelta* delta_;
    const DeltaActs* acts_;  // null: nothing to add (no activation rows)
    float* y_;
};

// x is n × cols, y is n × rows.
DeltaProduct prepare_product(const PackedDelta& delta, const float* x, std::int64_t n, float* y);

// Owns the activation buffer of one product, for several products alive at once (a batch
// with one product per expert group). Reused between calls.
class DeltaActsStore {
public:
    DeltaActsStore();
    ~DeltaActsStore();
    DeltaActsStore(DeltaActsStore&&) noexcept;
    DeltaActsStore& operator=(DeltaActsStore&&) noexcept;

private:
    friend DeltaProduct prepare_product(const PackedDelta&, const float*, std::int64_t, float*,
                                        DeltaActsStore&);
    std::unique_ptr<DeltaActs> acts_;
};

// The same, its activations kept in `store` (valid until `store` prepares another product).
// Each row's result does not depend on n: row t of a product over n rows equals the product
// over that row alone, bit for bit.
DeltaProduct prepare_product(const PackedDelta& delta, const float* x, std::int64_t n, float* y,
                             DeltaActsStore& store);

// y (n × rows) += x (n × cols) · Δ̂ᵀ. `pool` splits the weight rows.
void add_delta_product(const PackedDelta& delta, const float* x, std::int64_t n, float* y,
                       ThreadPool& pool);

}  // namespace meswitch::cpu
