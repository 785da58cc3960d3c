// Internal helpers for using compressed deltas: mapping .msd prefixes to decoder linears and
// a DeltaProvider over CompressedLinear layers (the "separate computation" path).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "backend/cpu/delta_product.h"
#include "delta/quant/quantize.h"
#include "meswitch/model.h"

namespace meswitch::delta {

// "model.layers.3.mlp.up_proj" → {3, up_proj}; nullopt for anything else.
std::optional<LinearRef> parse_linear_prefix(std::string_view prefix);

// Adds x·Δ̂ᵀ from the packed form to the linears it holds (cpu::prepare_product: row_adder
// for the forward pass, which runs it on the model's pool; add_delta on one thread); others
// are left alone.
class CompressedDeltaProvider final : public DeltaProvider {
public:
    void set(LinearRef ref, CompressedLinear linear);
    bool empty() const { return layers_.empty(); }
    void add_delta(LinearRef ref, const float* x, std::int64_t rows, std::int64_t in, float* y,
                   std::int64_t out) override;
    RowAdder row_adder(LinearRef ref, const float* x, std::int64_t rows, std::int64_t in, float* y,
                       std::int64_t out) override;

private:
    static std::int64_t key(LinearRef ref) { return ref.layer * 16 + static_cast<int>(ref.kind); }
    struct Layer;
    // The layer's delta, checked against the layer's shape; null when it has none.
    const Layer* find(LinearRef ref, std::int64_t in, std::int64_t out) const;
    struct Layer {
        CompressedLinear linear;
        cpu::PackedDelta packed;  // points into `linear` (map nodes do not move)
    };
    std::map<std::int64_t, Layer> layers_;
};

}  // namespace meswitch::delta
