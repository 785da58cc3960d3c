// Row gather and weighted row scatter-add (the CPU references of kernels/gather_rows.cu and
// kernels/scatter_add.cu): batching the tokens routed to one MoE expert and adding its
// outputs back.
#pragma once

#include <cstdint>

namespace meswitch::cpu {

// gather_rows.cpp: out[i, :] = src[rows[i], :] for i < n; src and out have `cols` columns.
void gather_rows(const float* src, std::int64_t cols, const std::int32_t* rows, std::int64_t n,
                 float* out);

// scatter_add.cpp: y[rows[i], :] += weights[i] · src[i, :] for i < n (product rounded to
// float, then added); src and y have `cols` columns.
void scatter_add_weighted(float* y, std::int64_t cols, const std::int32_t* rows,
                          const float* weights, const float* src, std::int64_t n);

}  // namespace meswitch::cpu
