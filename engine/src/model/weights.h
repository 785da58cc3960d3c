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
    static WeightStore open(const ModelConfig& config, const std::filesystem::path& folder);
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

private:
    void add_slots(const ModelConfig& config,
                   const std::function<TensorView(const std::string&)>& view_of,
                   const std::string& source);

    std::unique_ptr<io::Checkpoint> checkpoint_;
    std::map<std::string, HostTensor> owned_;  // in-memory tensors and aligned copies
    std::map<std::string, WeightSlot, std::less<>> slots_;
};

}  // namespace meswitch::model
