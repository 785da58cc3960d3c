// Looking inside one compressed layer, for the Studio's saliency view: the range of the
// expert's delta Δ = W_expert − W_base per input channel (column), the input channels the
// .msd artifact kept in 16 bits, and downsampled maps of |Δ| and of the quantization error
// |Δ − Δ̂|. Everything is computed from the two checkpoints and the artifact on demand; one
// layer's Δ̂ is the largest buffer (rows × cols floats).
//
//   auto layers = compressed_layers("deltas/math-meswitch-2bit.msd");
//   LayerInspection li = inspect_layer(base_dir, expert_dir, msd, layers[0]);
//   // li.channel_max[i], li.salient, li.error_abs.values ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/progress.h"

namespace meswitch {

// A rows × cols grid over a region of a layer; each cell holds the largest value of the block
// of the layer it covers (maximum, so that a single outlier stays visible when shrunk).
struct HeatMap {
    std::int64_t rows = 0, cols = 0;  // cells
    std::int64_t row0 = 0, row1 = 0;  // region of the layer covered: rows [row0, row1)
    std::int64_t col0 = 0, col1 = 0;  // and input channels [col0, col1)
    std::vector<float> values;        // rows × cols, row-major
    float max_value = 0;
};

struct LayerInspectOptions {
    std::int64_t max_map_rows = 256;  // the maps have at most this many cells per side
    std::int64_t max_map_cols = 256;
    // Region of the layer the maps cover; row1 / col1 = 0 means "to the end".
    std::int64_t row0 = 0, row1 = 0, col0 = 0, col1 = 0;
};

struct LayerInspection {
    std::string layer;  // Hugging Face weight name, e.g. "model.layers.0.mlp.down_proj.weight"
    std::int64_t rows = 0, cols = 0;
    std::vector<float> channel_min;     // per input channel: min over rows of Δ[:, i]
    std::vector<float> channel_max;     // per input channel: max over rows of Δ[:, i]
    std::vector<std::int64_t> salient;  // input channels the artifact keeps in 16 bits, sorted
    bool has_artifact = false;          // false: no .msd given, or it omits this layer
    std::string method;                 // the artifact's method ("meswitch", "rtn", ...)
    int bits = 0;
    double rel_weight_error = -1;  // ‖Δ − Δ̂‖_F / ‖Δ‖_F, -1 without an artifact
    HeatMap delta_abs;             // |Δ|
    HeatMap error_abs;             // |Δ − Δ̂| (empty without an artifact)
};

// HF weight names of the layers an .msd artifact stores in compressed form, in file order.
// Errors: those of reading the artifact (Error(io/format/unsupported) naming the file).
std::vector<std::string> compressed_layers(const std::filesystem::path& msd_file);

// Inspects one 2-D weight `layer`. `msd_file` may be empty (then only Δ is inspected).
// Errors: Error(not_found) when a checkpoint lacks the tensor, Error(invalid_argument) when
// it is not 2-D, the shapes differ between base and expert, or the artifact's layer has
// another shape (all naming the tensor and file); Error(cancelled) when `cancel` is set.
LayerInspection inspect_layer(const std::filesystem::path& base_folder,
                              const std::filesystem::path& expert_folder,
                              const std::filesystem::path& msd_file, std::string_view layer,
                              const LayerInspectOptions& options = {},
                              const CancelToken* cancel = nullptr);

}  // namespace meswitch
