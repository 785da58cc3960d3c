// Fuzz target: a whole .msd delta artifact (a safetensors file with ME-Switch metadata) opened
// by delta::MsdFile; every compressed layer is loaded, re-validated and expanded (Δ̂ and the
// packed product x · Δ̂ᵀ), every dense delta loaded and widened. MsdFile promises a validated
// CompressedLinear to every consumer, so a loaded layer that fails validate() is a finding.
#include <cstdint>
#include <vector>

#include "delta/msd/msd_file.h"
#include "delta/quant/quantize.h"
#include "fuzz_support.h"
#include "meswitch/error.h"

using namespace meswitch;

namespace {

// Δ̂ and x·Δ̂ᵀ cost rows × cols floats; inputs are a few KB, so real layers stay far below.
constexpr std::int64_t max_expanded = 1 << 22;

void check_layer(const delta::MsdFile& msd, const delta::MsdFile::LayerInfo& info) {
    FUZZ_CHECK(msd.find_layer(info.prefix) == &info);
    const delta::CompressedLinear c = msd.load(info.prefix);
    FUZZ_CHECK(c.rows == info.rows && c.cols == info.cols);
    FUZZ_CHECK(c.method == info.method && c.bits == info.bits);
    FUZZ_CHECK(c.salient_count() == info.salient_count);
    FUZZ_CHECK(c.storage_bytes() == info.storage_bytes);
    try {
        c.validate("fuzz: loaded layer");
    } catch (const Error& e) {
        std::fprintf(stderr, "loaded layer does not validate: %s\n", e.what());
        FUZZ_CHECK(!"MsdFile::load returned a CompressedLinear that fails validate()");
    }
    for (std::int64_t r = 0; r < c.rows && r < 64; ++r) {
        (void)c.scale_at(r);
        (void)c.zero_at(r);
    }
    (void)c.bits_per_param();
    if (c.rows > max_expanded / c.cols) return;
    std::vector<float> out(std::size_t(c.rows * c.cols));
    delta::reconstruct(c, out.data());
    std::vector<float> x(std::size_t(c.cols), 1.0f), y(std::size_t(c.rows), 0.0f);
    delta::add_delta_product(c, x.data(), 1, y.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto file = fuzz::scratch() / "expert.msd";
    fuzz::write_file(file, data, size);
    try {
        const delta::MsdFile msd(file);
        const delta::MsdHeader& h = msd.header();
        FUZZ_CHECK(h.bits >= 1 && h.bits <= 4);
        fuzz::consume(h.base_hash);
        fuzz::consume(h.expert_hash);
        for (const auto& name : h.omitted) fuzz::consume(name);
        for (const auto& info : msd.layers()) check_layer(msd, info);
        for (const auto& name : msd.dense_names()) {
            const delta::DenseDelta d = msd.load_dense(name);
            FUZZ_CHECK(d.name == name);
            std::int64_t numel = 1;
            for (auto dim : d.shape) numel *= dim;
            FUZZ_CHECK(d.to_f32().size() == std::size_t(numel));
        }
    } catch (const Error&) {
        // Refusing a malformed artifact with a message is the expected outcome.
    }
    return 0;
}
