// The two baselines ME-Switch is compared against, in its storage format (baselines.cpp).
#pragma once

#include <cstdint>

#include "delta/quant/quantize.h"

namespace meswitch::delta::detail {

CompressedLinear compress_rtn(const float* delta, std::int64_t rows, std::int64_t cols, int bits);
CompressedLinear compress_bitdelta(const float* delta, std::int64_t rows, std::int64_t cols);

}  // namespace meswitch::delta::detail
