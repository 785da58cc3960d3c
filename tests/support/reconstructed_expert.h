// The expert an .msd artifact describes, built outside the pipeline and the pool as a
// reference: base + reconstructed Δ̂ for every stored tensor, computed in f32.
#pragma once

#include <filesystem>
#include <optional>

#include "meswitch/model.h"
#include "meswitch/tensor.h"

namespace meswitch::test {

// Decoder linears (model.layers.*_proj.weight) are stored in `linear_dtype` (nullopt: the
// base's dtype), every other tensor in the base's dtype.
Model reconstructed_expert(const std::filesystem::path& base, const std::filesystem::path& msd,
                           std::optional<DType> linear_dtype = std::nullopt);

}  // namespace meswitch::test
