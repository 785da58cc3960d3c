// Helpers shared by the moe/*.cpp files.
#pragma once

#include <filesystem>
#include <vector>

#include "meswitch/model.h"
#include "meswitch/moe.h"

namespace meswitch::moe::detail {

// w1, w2, w3 of one position widened to float32 and concatenated.
std::vector<float> block_f32(const Model& m, std::int64_t layer, std::int64_t expert);
// Model::load that refuses anything but Mixtral.
Model load_mixtral(const std::filesystem::path& folder, int threads);
// Error(invalid_argument) unless b has a's tensor names, shapes and dtypes.
void check_same_shapes(const Model& a, const std::filesystem::path& a_path, const Model& b,
                       const std::filesystem::path& b_path);
double distance(const std::vector<float>& a, const std::vector<float>& b, DistanceMetric metric);

}  // namespace meswitch::moe::detail
