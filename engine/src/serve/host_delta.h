// One expert's compressed delta held in host memory, ready to upload to a device: every
// compressed linear (packed codes, step sizes, salient columns, exactly as in the .msd
// file) and every dense delta (embeddings, norms). The ExpertPool keeps one per loaded
// expert; evicting an expert from the device drops only its device copy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "delta/msd/msd_file.h"

namespace meswitch::serve {

struct HostDelta {
    std::string name;              // the expert's name in the pool (e.g. its catalog name)
    std::string base_hash;         // content hash of the base it was made from
    std::string expert_hash;       // as recorded in the artifact
    std::filesystem::path source;  // the .msd file ("" when built in memory)
    std::vector<delta::NamedLinear> linears;  // HF prefix ("model.layers.0.mlp.up_proj") + data
    std::vector<delta::DenseDelta> dense;     // full HF names

    // Bytes of every stored tensor (what a device copy costs, before allocator rounding).
    std::uint64_t bytes() const;

    // Reads and validates an .msd file. Refuses (Error(invalid_argument), naming both hashes)
    // an artifact made for another base when `base_hash` is not empty.
    static HostDelta load(const std::filesystem::path& msd_file, std::string_view name,
                          std::string_view base_hash);
};

}  // namespace meswitch::serve
