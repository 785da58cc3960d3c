// Compressing an expert's delta against its base (ME-Switch and two baselines), and using
// base + compressed delta for inference.
//
//   CompressOptions o;                     // ME-Switch, 2 bits, default salient channels
//   CompressResult r = compress_expert("models/base", "models/math", o, progress, &cancel);
//   Model m = Model::load("models/base");
//   AppliedDelta d(m, r.artifact, checkpoint_hash("models/base"), DeltaMode::separate);
//
// Compression streams the model one linear layer at a time: both tensors are read from the
// memory-mapped checkpoints, Δ = expert − base is widened to f32 for that layer only,
// compressed and dropped, so memory stays a small multiple of the largest layer (plus the
// calibration statistics of the layers in flight, bounded by gram_budget_bytes).
// The artifact is written under a temporary name and renamed at the end: a failed or
// cancelled run leaves no file behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/catalog.h"
#include "meswitch/progress.h"

namespace meswitch {

class Model;

// Whose activations calibrate the quantizer. The expert's are the default: on the
// stories260K experts (2 bits, 64 calibration lines, 236 held-out lines) they give a mean
// held-out output error of 0.126/0.142/0.183 (math/code/qa) against 0.194/0.202/0.222 with
// the base's, and a lower held-out NLL (0.5629 vs 0.5822 on math).
enum class CalibrationModel { base, expert };
// How the token embeddings (and an untied head) store their delta. Quantized is the
// default, at embedding_bits = min(4, bits + 2): a tied embedding is every token's input and
// the head at once, so its error weighs most. On the stories260K experts (2 bits, 0.5 %
// salient, held-out NLL vs the uncompressed expert, math/code/qa): embeddings at 2 bits
// +1.52/+0.10/+0.90 % at 2.38 bits/param; at 3 bits +1.14/+0.18/+0.96 % (2.51); at 4 bits
// +0.87/+0.18/+0.81 % (2.63); dense f16 +0.86/+0.11/+0.84 % (4.10). On a 7B model the
// embeddings are ~2 % of the parameters, so 4 bits there add ~0.04 bits/param.
// The choice is recorded in the artifact's metadata (embedding_storage, embedding_bits).
enum class EmbeddingStorage {
    quantized,  // like a linear (head input statistics when tied or for lm_head)
    dense16,    // dense f16 delta
};

struct CompressLayerReport;

struct CompressOptions {
    std::string method = "meswitch";  // "meswitch", "rtn", "bitdelta"
    int bits = 2;                     // 1..4 (bitdelta: 1)
    std::string salient;              // "16", "2%"; empty: the method's default
    // Calibration text, one sample per line. Empty: the built-in mixed set plus
    // `extra_calibration_lines` (e.g. the expert's domain examples).
    std::filesystem::path calibration_file;
    std::vector<std::string> extra_calibration_lines;
    CalibrationModel calibration_model = CalibrationModel::expert;
    std::int64_t max_calibration_tokens = 16384;
    // Held-out text: when set, every layer's output error is also measured on these
    // activations (the expert's), for figures that do not flatter the calibration set.
    std::filesystem::path heldout_file;
    bool baseline = false;  // also measure RTN at the same bits per layer
    EmbeddingStorage embeddings = EmbeddingStorage::quantized;
    int embedding_bits = 0;     // 0: min(4, bits + 2)
    std::filesystem::path out;  // required by compress_expert; default in the catalog variant
    int threads = 0;            // <= 0: all cores
    std::uint64_t gram_budget_bytes = 2ull << 30;  // calibration statistics in flight
    // Called on the compressing thread after each layer (decoder linears, then embeddings and
    // head) with its statistics, e.g. to draw charts while the run goes on.
    std::function<void(const CompressLayerReport&)> on_layer;
};

struct CompressLayerReport {
    std::string name;  // HF tensor name
    std::int64_t rows = 0, cols = 0, salient = 0;
    double bits_per_param = 0;
    double rel_output_error = 0;  // ‖X(Δ−Δ̂)ᵀ‖/‖XΔᵀ‖ on the calibration activations
    double rel_weight_error = 0;                    // ‖Δ−Δ̂‖/‖Δ‖
    double baseline_rel_output_error = -1;          // RTN, same bits (options.baseline)
    double heldout_rel_output_error = -1;           // on held-out activations (heldout_file)
    double heldout_baseline_rel_output_error = -1;  // RTN on held-out activations
    double seconds = 0;
};

// The catalog's per-layer record of a report (compression_runs' layer statistics).
LayerStat to_layer_stat(const CompressLayerReport& report);

struct CompressResult {
    std::filesystem::path artifact;
    std::string method;
    int bits = 0;
    std::string salient;  // the spec used, e.g. "1%"
    std::int64_t salient_count = 0;
    std::int64_t parameters = 0;    // of the expert (a tied head counted once)
    std::int64_t delta_bytes = 0;   // every stored tensor byte: codes, scales, zeros, salient
                                    // values and indices, dense deltas
    double bits_per_param = 0;      // delta_bytes · 8 / parameters
    std::int64_t file_bytes = 0;    // the .msd on disk (adds the safetensors header)
    std::string embedding_storage;  // "quantized" or "dense16"
    std::string calibration_model;  // "base" or "expert"
    std::int64_t calibration_tokens = 0;
    std::int64_t heldout_tokens = 0;
    std::vector<CompressLayerReport> layers;  // every compressed linear (+ embeddings)
    double mean_rel_output_error = 0;         // mean over the decoder linears
    double mean_heldout_rel_output_error = -1;
    double mean_heldout_baseline_rel_output_error = -1;
    double mean_baseline_rel_output_error = -1;
    double seconds = 0;
    // Where the seconds went: loading the models and the calibration text, the calibration
    // forward passes (one per window of layers whose statistics fit the memory budget), the
    // statistics accumulated inside them, the decoder linears (quantization and error
    // measurement), embeddings and head, writing the artifact.
    struct Stages {
        double load = 0, calibration_forward = 0, statistics = 0, linears = 0, embeddings_head = 0,
               writing = 0;
        std::int64_t windows = 0;
    } stages;
    std::string base_hash, expert_hash;
    std::optional<std::int64_t> artifact_id, run_id;  // set when recorded in the catalog
};

// Compresses expert − base (Hugging Face folders of the same architecture and shapes) into
// options.out. Errors: Error(invalid_argument) for bad options or mismatched models (naming
// the tensor), Error(cancelled) when `cancel` is set (no file is left).
CompressResult compress_expert(const std::filesystem::path& base_folder,
                               const std::filesystem::path& expert_folder,
                               const CompressOptions& options, const ProgressFn& progress = {},
                               const CancelToken* cancel = nullptr);

// The same for a catalog expert: its base comes from the catalog, calibration adds its
// domains' example prompts, the artifact defaults to
// <data_home>/deltas/<expert>-<method>-<bits>bit.msd, and the delta_artifacts row and the
// compression_runs row with per-layer statistics are recorded in one transaction.
// A failed run is recorded with status failed and its message (no artifact row); a
// cancelled run records nothing.
CompressResult compress_catalog_expert(Catalog& catalog, std::string_view expert_name,
                                       const std::filesystem::path& data_home,
                                       const CompressOptions& options,
                                       const ProgressFn& progress = {},
                                       const CancelToken* cancel = nullptr);

// The content hash of a model folder's weights (as the catalog and .msd files record it).
std::string checkpoint_hash(const std::filesystem::path& folder);

// ------------------------------------------------------------------------ using an artifact

enum class DeltaMode {
    merged,    // W_base + Δ̂ written into working copies of the weights (model's dtype)
    separate,  // y = x·W_baseᵀ + x·Δ̂ᵀ, Δ̂ used from its packed form on every forward
};

// Applies an .msd artifact to a model loaded from its base; restores the base on
// destruction. Refuses (Error(invalid_argument), naming both hashes) an artifact made for
// another base, and an artifact whose shapes do not fit the model. Tensors that are not
// decoder linears (embeddings, norms) are always merged. The model must not already carry
// another delta. Not copyable or movable: the model keeps a pointer to it in separate mode.
class AppliedDelta {
public:
    AppliedDelta(Model& model, const std::filesystem::path& msd_file, std::string_view base_hash,
                 DeltaMode mode);
    ~AppliedDelta();
    AppliedDelta(const AppliedDelta&) = delete;
    AppliedDelta& operator=(const AppliedDelta&) = delete;

    DeltaMode mode() const;
    std::string expert_hash() const;  // as recorded in the artifact

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace meswitch
