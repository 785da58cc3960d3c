// CPU operators of the forward pass, one per .cpp file. They are the engine's CPU backend
// and the references that CUDA kernels are tested against. Activations are float32,
// row-major; weights stay in their stored dtype (f32, f16 or bf16) and are widened on the fly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "meswitch/model.h"
#include "meswitch/tensor.h"

namespace meswitch {
class ThreadPool;
}
namespace meswitch::delta {
struct CompressedLinear;
}

namespace meswitch::cpu {

// A weight matrix [rows = out_features, cols = in_features], row-major, f32/f16/bf16, with
// data aligned to its element size.
struct Matrix {
    DType dtype = DType::f32;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    const std::byte* data = nullptr;

    std::size_t row_bytes() const { return static_cast<std::size_t>(cols) * dtype_size(dtype); }
    const std::byte* row(std::int64_t r) const {
        return data + static_cast<std::size_t>(r) * row_bytes();
    }
};

// widen.cpp: dst[i] = float(src[i]) for f32/f16/bf16 (SIMD). Throws Error(unsupported).
void widen_to_f32(DType dtype, const void* src, float* dst, std::size_t count);

// gemv.cpp: y[r] = W[r, :] · x for r in [r0, r1), one thread. x has W.cols floats.
void gemv_rows(const Matrix& w, const float* x, float* y, std::int64_t r0, std::int64_t r1);
// gemv.cpp: all rows, split across the pool (rows in blocks of 4). With `after_rows`, each
// thread calls it for every run of rows it has just computed (runs of up to 64 rows, disjoint,
// from several threads at once): the separate-computation delta is added there while the
// weights stream, in the same parallel region.
using RowsHook = std::function<void(std::int64_t r0, std::int64_t r1)>;
void gemv(const Matrix& w, const float* x, float* y, ThreadPool& pool,
          const RowsHook* after_rows = nullptr);

// gemv.cpp: y_b = W · x_b for several vectors at once (a decode batch): every weight row is
// read from memory once for all of them (blocks of rows stay in cache while each vector
// passes), and each y_b equals gemv(W, x_b) bit for bit (the same kernel per row). With
// `after_rows`, each hook is called for every run of output rows just computed for all
// vectors (disjoint runs, from several threads at once), as in gemv.
void gemv_batch(const Matrix& w, std::span<const float* const> xs, std::span<float* const> ys,
                ThreadPool& pool, std::span<const RowsHook* const> after_rows = {});

// gemm.cpp: y[t, o] = Σ_i x[t, i] · W[o, i] for f32/f16/bf16 weights: activations packed
// k-major in chunks of up to 64 rows, weights widened per small tile, a broadcast FMA
// micro-kernel; split across the pool by output features. Throws Error(unsupported).
void gemm(const float* x, std::int64_t rows, const Matrix& w, float* y, ThreadPool& pool);

// matmul.cpp: y[t, o] = Σ_i x[t, i] · W[o, i] for t < rows (x: rows × in, y: rows × out).
// Fewer than 4 rows: GEMV per row; more: gemm.
void matmul(const float* x, std::int64_t rows, const Matrix& w, float* y, ThreadPool& pool);

// add.cpp: y[i] += x[i]; add_bias: y[t, j] += bias[j].
void add(float* y, const float* x, std::size_t n);
void add_bias(float* y, const float* bias, std::int64_t rows, std::int64_t n);

// rmsnorm.cpp: y = x / sqrt(mean(x²) + eps) · weight, per row of n (float accumulation).
void rmsnorm(const float* x, const float* weight, float* y, std::int64_t rows, std::int64_t n,
             float eps);

// rope.cpp: inverse frequencies theta^(-2i/d) for i < d/2, with HF's linear / llama3 scaling.
std::vector<float> rope_inv_freq(std::int64_t head_dim, double theta, const RopeScaling& scaling);
// Rotates `rows` rows of `heads` × head_dim in place (HF rotate_half: pairs (i, i + d/2)); row t
// is at position pos0 + t.
void rope(float* x, std::int64_t rows, std::int64_t heads, std::int64_t head_dim, std::int64_t pos0,
          const std::vector<float>& inv_freq);

// softmax.cpp: in place over n values, max-subtracted.
void softmax(float* x, std::int64_t n);

// attention.cpp: causal grouped-query attention over a cache.
struct AttentionShape {
    std::int64_t heads = 0;
    std::int64_t kv_heads = 0;
    std::int64_t head_dim = 0;
    std::optional<std::int64_t> window;  // query at i sees keys j with i - j < window
};
// q: rows × heads·head_dim, query t at position pos0 + t. keys/values: positions
// 0 … pos0 + rows - 1, one row of kv_heads·head_dim floats every kv_stride floats.
// out: rows × heads·head_dim.
void attention(const float* q, std::int64_t rows, std::int64_t pos0, const float* keys,
               const float* values, std::int64_t kv_stride, const AttentionShape& shape, float* out,
               ThreadPool& pool);

// swiglu.cpp: out[i] = silu(gate[i]) · up[i].
void swiglu(const float* gate, const float* up, float* out, std::size_t n);

// embedding.cpp: out[t, :] = table[ids[t], :] widened; ids must be in range (checked).
void embedding(const Matrix& table, std::span<const std::int32_t> ids, float* out);

// delta_apply.cpp: in-place expert merge, the reference of kernels/delta_apply.cu:
// out = round(base + Δ̂) in `dtype` (f32/f16/bf16; float32 sum, round to nearest even).
// base and out are rows × cols of `dtype` and may alias. Throws Error(unsupported) for other
// dtypes, Error(format) for an invalid `linear`.
void apply_delta(const delta::CompressedLinear& linear, DType dtype, const void* base, void* out);
// Same for a dense delta of `count` values of `delta_dtype`.
void apply_dense_delta(DType dtype, const void* base, void* out, DType delta_dtype,
                       const void* delta, std::size_t count);

}  // namespace meswitch::cpu
