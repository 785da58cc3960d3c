// Internal helpers for using compressed deltas: mapping .msd prefixes to decoder linears and
// a DeltaProvider over CompressedLinear layers (the "separate computation" path).
#pragma once

#include <map>
#include <optional>
#include <string_view>

#include "delta/quant/quantize.h"
#include "meswitch/model.h"

namespace meswitch::delta {

// "model.layers.3.mlp.up_proj" → {3, up_proj}; nullopt for anything else.
std::optional<LinearRef> parse_linear_prefix(std::string_view prefix);

// Adds x·Δ̂ᵀ from the packed form to the linears it holds; others are left alone.
class CompressedDeltaProvider final : public DeltaProvider {
public:
    void set(LinearRef ref, CompressedLinear linear);
    bool empty() const { return layers_.empty(); }
    void add_delta(LinearRef ref, const float* x, std::int64_t rows, std::int64_t in, float* y,
                   std::int64_t out) override;

private:
    static std::int64_t key(LinearRef ref) { return ref.layer * 16 + static_cast<int>(ref.kind); }
    std::map<std::int64_t, CompressedLinear> layers_;
};

}  // namespace meswitch::delta
