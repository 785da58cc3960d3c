// Streaming read-sum of a float buffer, used to measure memory read bandwidth.
#pragma once

#include <cstddef>

namespace meswitch::cpu {

float read_sum(const float* data, std::size_t count);

}  // namespace meswitch::cpu
