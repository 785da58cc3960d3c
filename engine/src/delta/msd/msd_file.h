// The .msd delta artifact: a standard safetensors file holding one expert's compressed
// delta against a base model.
//
// __metadata__ (string → string):
//   format "meswitch-delta", format_version "1", method, bits, salient (spec, e.g. "1%"),
//   salient_count (sum of k over layers), base_hash, expert_hash, base_name, expert_name
//   (may be empty), omitted (JSON array of HF tensor names whose delta is not stored: the
//   expert uses the base tensor unchanged), plus any `extra` keys (must not collide).
// Per compressed linear, prefix = HF weight name without ".weight"
// (e.g. "model.layers.0.self_attn.q_proj"):
//   <prefix>.shape       I64 [2]  rows, cols
//   <prefix>.qformat     I32 [3]  method, bits, zero_format (enum values)
//   <prefix>.codes       U8  [rows, row_bytes]
//   <prefix>.scales      F16 [rows] (or [1] for a per-matrix scale)
//   <prefix>.zeros       U8 or F16 [rows]            (absent when zero_format = midpoint)
//   <prefix>.salient_idx I32 [k]                     (absent when k = 0)
//   <prefix>.salient     F16 or BF16 [rows, k]       (absent when k = 0)
// Dense deltas (embeddings, head, norms, whatever the pipeline keeps uncompressed):
//   <hf name>.dense      F16, BF16 or F32, any shape
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "delta/quant/quantize.h"
#include "meswitch/tensor.h"

namespace meswitch::delta {

inline constexpr const char* msd_format = "meswitch-delta";
inline constexpr int msd_format_version = 1;

struct MsdHeader {
    Method method = Method::meswitch;
    int bits = 2;
    SalientSpec salient;
    std::int64_t salient_count = 0;  // filled by write_msd (sum over layers); read back as stored
    std::string base_hash;
    std::string expert_hash;
    std::string base_name;
    std::string expert_name;
    std::vector<std::string> omitted;          // HF tensor names with no stored delta
    std::map<std::string, std::string> extra;  // additional metadata keys
};

struct NamedLinear {
    std::string prefix;  // HF weight name without ".weight"
    CompressedLinear linear;
};

// A plain dense delta tensor (f16/bf16 raw bits in `bits16`, or f32 in `f32`).
struct DenseDelta {
    std::string name;  // full HF tensor name, e.g. "model.embed_tokens.weight"
    DType dtype = DType::f16;
    std::vector<std::int64_t> shape;
    std::vector<std::uint16_t> bits16;  // dtype f16/bf16
    std::vector<float> f32;             // dtype f32

    // Widened values (numel floats).
    std::vector<float> to_f32() const;
};

// Writes the artifact atomically (temporary file + rename). Every linear is validated
// first; duplicate names or metadata collisions throw Error(invalid_argument); I/O
// failures throw Error(io) naming the file.
void write_msd(const std::filesystem::path& path, const MsdHeader& header,
               const std::vector<NamedLinear>& layers, const std::vector<DenseDelta>& dense = {});

// Opens and fully validates an .msd file (memory-mapped). A hostile or truncated file gives
// Error(format) naming the file and the tensor/key; an unknown format_version gives
// Error(unsupported).
class MsdFile {
public:
    struct LayerInfo {
        std::string prefix;
        std::int64_t rows = 0;
        std::int64_t cols = 0;
        Method method = Method::meswitch;
        int bits = 2;
        std::int64_t salient_count = 0;
        std::size_t storage_bytes = 0;
    };

    explicit MsdFile(const std::filesystem::path& path);
    ~MsdFile();
    MsdFile(MsdFile&&) noexcept;
    MsdFile& operator=(MsdFile&&) noexcept;

    const std::filesystem::path& path() const;
    const MsdHeader& header() const;
    const std::vector<LayerInfo>& layers() const;  // in file order
    const LayerInfo* find_layer(std::string_view prefix) const;
    CompressedLinear load(std::string_view prefix) const;  // Error(not_found) if absent
    const std::vector<std::string>& dense_names() const;   // full HF names, file order
    DenseDelta load_dense(std::string_view name) const;    // Error(not_found) if absent

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace meswitch::delta
