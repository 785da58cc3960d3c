#include "reconstructed_expert.h"

#include <map>
#include <string>
#include <vector>

#include "delta/msd/msd_file.h"
#include "delta/quant/packing.h"
#include "io/safetensors.h"

namespace meswitch::test {

namespace fs = std::filesystem;

Model reconstructed_expert(const fs::path& base, const fs::path& msd_path,
                           std::optional<DType> linear_dtype) {
    const ModelConfig cfg = parse_model_config(base / "config.json");
    const io::Checkpoint ck(base);
    const delta::MsdFile msd(msd_path);
    std::map<std::string, std::vector<float>> values;
    for (const std::string& n : ck.tensor_names()) {
        const TensorView v = ck.view(n);
        std::vector<float> f(static_cast<std::size_t>(v.numel()));
        convert_to_f32(v.dtype, v.data, f.data(), f.size());
        values[n] = std::move(f);
    }
    for (const auto& l : msd.layers()) {
        const delta::CompressedLinear c = msd.load(l.prefix);
        std::vector<float> d(static_cast<std::size_t>(c.rows * c.cols));
        delta::reconstruct(c, d.data());
        auto& w = values.at(l.prefix + ".weight");
        for (std::size_t i = 0; i < d.size(); ++i) w[i] += d[i];
    }
    for (const std::string& n : msd.dense_names()) {
        const auto d = msd.load_dense(n).to_f32();
        auto& w = values.at(n);
        for (std::size_t i = 0; i < d.size(); ++i) w[i] += d[i];
    }
    std::map<std::string, HostTensor> tensors;
    for (auto& [n, v] : values) {
        const bool decoder_linear =
            n.rfind("model.layers.", 0) == 0 && (n.find("_proj.weight") != std::string::npos);
        const DType dt = decoder_linear && linear_dtype ? *linear_dtype : ck.info(n).dtype;
        tensors[n] = HostTensor::from_f32(ck.info(n).shape, v, dt);
    }
    return Model::from_tensors(cfg, std::move(tensors), ModelOptions{1});
}

}  // namespace meswitch::test
