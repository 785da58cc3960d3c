// Fuzz target: model.safetensors.index.json, the index of a sharded checkpoint, opened by
// io::Checkpoint in a folder that holds two small valid shards (made once at start-up):
//   model-00001-of-00002.safetensors  model.embed_tokens.weight F32 [4, 2], model.norm.weight F16
//   [2] model-00002-of-00002.safetensors  lm_head.weight BF16 [4, 2]
// A valid index maps each of the three tensors to its shard (seeds/checkpoint_index/). Every
// tensor of an accepted checkpoint is looked up and read.
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "io/safetensors.h"
#include "meswitch/error.h"

using namespace meswitch;

namespace {

const std::filesystem::path& model_folder() {
    static const std::filesystem::path folder = [] {
        const std::vector<float> embed = {0.5f, -1, 2, 0.25f, 3, -4, 1e-3f, 8};
        const std::vector<std::uint16_t> norm = {f32_to_f16(1.0f), f32_to_f16(0.5f)};
        std::vector<std::uint16_t> head;
        for (float v : embed) head.push_back(f32_to_bf16(v));
        io::write_safetensors(fuzz::scratch() / "model-00001-of-00002.safetensors",
                              {{"model.embed_tokens.weight", DType::f32, {4, 2}, embed.data(), {}},
                               {"model.norm.weight", DType::f16, {2}, norm.data(), {}}},
                              {{"format", "pt"}});
        io::write_safetensors(fuzz::scratch() / "model-00002-of-00002.safetensors",
                              {{"lm_head.weight", DType::bf16, {4, 2}, head.data(), {}}},
                              {{"format", "pt"}});
        return fuzz::scratch().path();
    }();
    return folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& folder = model_folder();
    static const auto index = folder / "model.safetensors.index.json";
    fuzz::write_file(index, data, size);
    try {
        const io::Checkpoint ckpt(folder);
        FUZZ_CHECK(!ckpt.files().empty() && ckpt.files().size() == ckpt.shards().size());
        std::uint64_t total = 0;
        std::vector<float> widened;
        for (const std::string& name : ckpt.tensor_names()) {
            FUZZ_CHECK(ckpt.contains(name));
            const io::TensorInfo& info = ckpt.info(name);
            FUZZ_CHECK(info.name == name);
            const io::SafetensorsFile& shard = ckpt.file_of(name);
            FUZZ_CHECK(shard.find(name) == &info);
            const TensorView v = ckpt.view(name);
            FUZZ_CHECK(v.nbytes == info.end - info.begin);
            fuzz::consume(v.data, v.nbytes);
            widened.resize(std::size_t(v.numel()));
            convert_to_f32(v.dtype, v.data, widened.data(), widened.size());
            total += v.nbytes;
        }
        FUZZ_CHECK(total == ckpt.total_data_bytes());
    } catch (const Error&) {
        // Refusing a malformed index with a message is the expected outcome.
    }
    return 0;
}
