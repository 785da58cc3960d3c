// Seeded random weights of a config's shape, for tests and synthetic benchmarks. Linear
// weights are uniform with unit-variance outputs (±sqrt(3 / in_features)), norms near 1,
// biases small, embeddings uniform in ±1.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "meswitch/model.h"

namespace meswitch::model {

std::map<std::string, HostTensor> random_weights(const ModelConfig& config, DType dtype,
                                                 std::uint64_t seed, int threads = 0);

}  // namespace meswitch::model
