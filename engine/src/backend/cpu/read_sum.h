// Streaming read-sum of a float buffer, used to measure memory read bandwidth.
#pragma once

#include <cstddef>

namespace meswitch::cpu {

float read_sum(const float* data, std::size_t count);

// Memory read bandwidth in GB/s: the best of four streaming read_sum passes over 1 GiB split
// across `threads` threads like the GEMV rows. The bound that bench decode compares decode
// with, and bench switch the in-place switch.
double measure_read_bandwidth(int threads);

}  // namespace meswitch::cpu
