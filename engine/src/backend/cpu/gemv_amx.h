// Matrix × vectors on Intel AMX (Sapphire Rapids and later) for bf16 weights: the tile unit
// multiplies 16 weight rows × 32 columns by up to 16 activation columns in one instruction,
// where the FMA kernels spend one multiply per weight and vector. A decode batch of 8 runs
// the base product about 3× faster than AVX-512 on 2 cores; one vector streams as fast as the
// FMA kernel (memory-bound either way).
//
// Exactness: the activations are f32, the tile unit multiplies bf16. Each activation is split
// exactly into three bf16 parts (x = hi + mid + lo, by truncation: 8 + 8 + 8 significant
// bits), the products of bf16 pairs are exact in f32, and each part accumulates in its own f32
// column; y = (hi + mid) + lo. The error is that of an f32 dot product (checked against f64 in
// test_cpu_ops). Every (row, vector) element is computed by the same instructions in the same
// order whatever the other vectors and rows of the call are, so the batch equals one vector at
// a time bit for bit — the promise of gemv_batch.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/cpu/ops.h"

namespace meswitch::cpu::amx {

// Vectors per packed group: two tiles of five vectors × three parts (15 of 16 columns each).
constexpr int kMaxVectors = 10;

// This CPU has AMX-BF16, the kernel enabled its tile state and granted it to the process
// (asked once), this build has the kernels, and neither MESWITCH_CPU_AMX=0 in the environment
// nor set_enabled(false) turned it off.
bool available();
// For tests and benchmarks: turn the AMX path off (the FMA kernels run) or back on.
void set_enabled(bool on);

// The AMX path takes this matrix: available(), bf16, a whole number of 32-column blocks.
bool usable(const Matrix& w);

// Up to kMaxVectors activation vectors in the tile layout (see gemv_amx.cpp).
struct Packed {
    std::vector<std::uint32_t> pairs;
    int count = 0;
    std::int64_t cols = 0;
};
void pack(std::span<const float* const> xs, std::int64_t cols, Packed& out);

// ys[v][r] = W[r, :] · xs[v] for r in [r0, r1) and every packed vector, on this thread.
// w must be usable(); p packed for w.cols.
void rows(const Matrix& w, const Packed& p, float* const* ys, std::int64_t r0, std::int64_t r1);

}  // namespace meswitch::cpu::amx
