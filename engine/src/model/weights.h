// The weights of one model: every tensor the config expects, by Hugging Face name, viewed
// in place (memory-mapped checkpoint or owned host tensors) in its stored dtype. A slot can
// be replaced by an owned working copy and restored later; small 1-D tensors (norms,
// biases) also keep a float32 copy for the ops.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/cpu/ops.h"
#include "meswitch/model.h"

namespace meswitch::io {
class Checkpoint;
}

namespace meswitch::model {

// Tensors of a checkpoint that a model with `config` would not use, one problem per line
// (the first few, then a count). Refused: any tensor of a layer >= num_hidden_layers (the
// config and the weights disagree on the layer count), and any other name the model does
// not read (a bias the config does not enable, an expert beyond num_local_experts, another
// architecture's weights), since running without them computes something else than the
// checkpoint's authors trained. Allowed, because they carry nothing the model lacks:
// "*.rotary_emb.inv_freq" buffers (recomputed from rope_theta) and "lm_head.weight" in a
// model with tie_word_embeddings (the head is the embedding, as in transformers).
std::vector<std::string> unused_tensor_problems(const ModelConfig& config,
                                                const std::vector<std::string>& tensor_names);

struct WeightSlot {
    std::string name;
    TensorView original;
    std::optional<HostTensor> replacement;
    std::optional<TensorView> bound;  // caller-owned memory (bind); below a replacement
    TensorView current;
    std::vector<float> f32;  // 1-D tensors only: current widened

    cpu::Matrix matrix() const;  // 2-D current as a matrix
    const float* vector() const { return f32.data(); }
};

class WeightStore {
public:
    WeightStore();
    ~WeightStore();
    WeightStore(WeightStore&&) noexcept;
    WeightStore& operator=(WeightStore&&) noexcept;

    // Opens the checkpoint in `folder` and checks it against `config` (Error(format) listing
    // the first problems; Error(unsupported) for dtypes other than F32/F16/BF16).
    // in_memory: copy the weights into an anonymous arena (huge pages where the kernel gives
    // them) and close the files, when they take at most half of MemAvailable.
    static WeightStore open(const ModelConfig& config, const std::filesystem::path& folder,
                            bool in_memory = false);
    static WeightStore from_tensors(const ModelConfig& config,
                                    std::map<std::string, HostTensor> tensors);

    WeightSlot& slot(std::string_view name);  // throws Error(not_found)
    const WeightSlot& slot(std::string_view name) const;
    std::vector<std::string> names() const;
    void replace(std::string_view name, HostTensor tensor);
    void restore(std::string_view name);
    // Points the slot at caller-owned memory without copying (same shape, F32/F16/BF16,
    // aligned to the element size); rebinding the same view re-reads 1-D tensors.
    void bind(std::string_view name, const TensorView& view);
    // Weights read in place from the mapped files: drops this process's resident pages of them
    // (io::release_pages); the next read faults them back in from the page cache. Weights in
    // the arena or owned copies are untouched.
    void release_mapped_pages() const;

private:
    void add_slots(const ModelConfig& config,
                   const std::function<TensorView(const std::string&)>& view_of,
                   const std::string& source);

    struct Arena;  // anonymous memory holding the copied weights
    std::unique_ptr<Arena> arena_;
    std::unique_ptr<io::Checkpoint> checkpoint_;
    std::map<std::string, HostTensor> owned_;  // in-memory tensors and aligned copies
    std::map<std::string, WeightSlot, std::less<>> slots_;
};

}  // namespace meswitch::model
