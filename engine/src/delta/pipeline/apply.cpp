// Using base + compressed delta: merged into working copies, or computed separately.
#include "delta/pipeline/apply.h"

#include <charconv>
#include <vector>

#include "delta/msd/msd_file.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"

namespace meswitch {

namespace delta {

std::optional<LinearRef> parse_linear_prefix(std::string_view prefix) {
    constexpr std::string_view head = "model.layers.";
    if (prefix.substr(0, head.size()) != head) return std::nullopt;
    prefix.remove_prefix(head.size());
    const auto dot = prefix.find('.');
    if (dot == std::string_view::npos || dot == 0) return std::nullopt;
    std::int64_t layer = 0;
    const auto [ptr, ec] = std::from_chars(prefix.data(), prefix.data() + dot, layer);
    if (ec != std::errc() || ptr != prefix.data() + dot || layer < 0) return std::nullopt;
    const std::string_view rest = prefix.substr(dot + 1);
    static const std::pair<std::string_view, LinearKind> kinds[] = {
        {"self_attn.q_proj", LinearKind::q_proj}, {"self_attn.k_proj", LinearKind::k_proj},
        {"self_attn.v_proj", LinearKind::v_proj}, {"self_attn.o_proj", LinearKind::o_proj},
        {"mlp.gate_proj", LinearKind::gate_proj}, {"mlp.up_proj", LinearKind::up_proj},
        {"mlp.down_proj", LinearKind::down_proj}};
    for (const auto& [name, kind] : kinds)
        if (rest == name) return LinearRef{layer, kind};
    return std::nullopt;
}

void CompressedDeltaProvider::set(LinearRef ref, CompressedLinear linear) {
    Layer& l = layers_[key(ref)];
    l.linear = std::move(linear);
    l.packed = cpu::prepare_delta(l.linear);
}

const CompressedDeltaProvider::Layer* CompressedDeltaProvider::find(LinearRef ref, std::int64_t in,
                                                                    std::int64_t out) const {
    const auto it = layers_.find(key(ref));
    if (it == layers_.end()) return nullptr;
    const CompressedLinear& l = it->second.linear;
    if (l.cols != in || l.rows != out)
        throw Error(ErrorKind::invalid_argument,
                    "delta for " + linear_weight_name(ref) + " is " + std::to_string(l.rows) + "×" +
                        std::to_string(l.cols) + " but the layer is " + std::to_string(out) + "×" +
                        std::to_string(in));
    return &it->second;
}

void CompressedDeltaProvider::add_delta(LinearRef ref, const float* x, std::int64_t rows,
                                        std::int64_t in, float* y, std::int64_t out) {
    const Layer* l = find(ref, in, out);
    if (!l) return;
    cpu::prepare_product(l->packed, x, rows, y).add_rows(0, out);  // one thread
}

DeltaProvider::RowAdder CompressedDeltaProvider::row_adder(LinearRef ref, const float* x,
                                                           std::int64_t rows, std::int64_t in,
                                                           float* y, std::int64_t out) {
    const Layer* l = find(ref, in, out);
    if (!l) return {};
    const cpu::DeltaProduct product = cpu::prepare_product(l->packed, x, rows, y);
    return [product](std::int64_t r0, std::int64_t r1) { product.add_rows(r0, r1); };
}

}  // namespace delta

namespace {

std::vector<float> widen(const TensorView& v) {
    std::vector<float> out(static_cast<std::size_t>(v.numel()));
    convert_to_f32(v.dtype, v.data, out.data(), out.size());
    return out;
}

}  // namespace

struct AppliedDelta::Impl {
    Model& model;
    DeltaMode mode;
    std::string expert_hash;
    std::vector<std::string> replaced;
    delta::CompressedDeltaProvider provider;
    bool provider_set = false;

    Impl(Model& m, DeltaMode md) : model(m), mode(md) {}

    void undo() noexcept {
        if (provider_set) model.set_delta_provider(nullptr);
        provider_set = false;
        for (const std::string& name : replaced) {
            try {
                model.restore_weight(name);
            } catch (...) {  // a name we replaced always exists; nothing sensible to do
            }
        }
        replaced.clear();
    }

    // W ← W + Δ̂ in the weight's own dtype.
    void merge(const std::string& name, const std::vector<std::int64_t>& delta_shape,
               const std::vector<float>& delta_values, const std::string& source) {
        const TensorView w = model.weight(name);
        if (w.numel() != static_cast<std::int64_t>(delta_values.size()))
            throw Error(ErrorKind::invalid_argument,
                        source + ": delta for '" + name + "' has shape " +
                            TensorView{DType::f32, delta_shape, nullptr, 0}.shape_string() +
                            " but the model's tensor is " + w.shape_string());
        std::vector<float> values = widen(w);
        for (std::size_t i = 0; i < values.size(); ++i) values[i] += delta_values[i];
        model.replace_weight(name, HostTensor::from_f32(w.shape, values, w.dtype));
        replaced.push_back(name);
    }
};

AppliedDelta::AppliedDelta(Model& model, const std::filesystem::path& msd_file,
                           std::string_view base_hash, DeltaMode mode)
    : impl_(std::make_unique<Impl>(model, mode)) {
    const delta::MsdFile msd(msd_file);
    const delta::MsdHeader& h = msd.header();
    if (base_hash.empty() || h.base_hash != base_hash)
        throw Error(ErrorKind::invalid_argument,
                    msd_file.string() + " is a delta against base " +
                        (h.base_name.empty() ? std::string() : "'" + h.base_name + "' ") +
                        "with content hash " + h.base_hash +
                        ", but the loaded base model's hash is " +
                        (base_hash.empty() ? std::string("unknown") : std::string(base_hash)) +
                        "; apply it to the base it was made from");
    impl_->expert_hash = h.expert_hash;
    const std::string source = msd_file.string();
    const std::vector<std::string> names = model.weight_names();
    auto has_weight = [&](const std::string& n) {
        for (const auto& x : names)
            if (x == n) return true;
        return false;
    };
    try {
        for (const auto& info : msd.layers()) {
            const std::string name = info.prefix + ".weight";
            if (!has_weight(name))
                throw Error(ErrorKind::invalid_argument, source + ": the delta names '" + name +
                                                             "', which the model does not have");
            delta::CompressedLinear lin = msd.load(info.prefix);
            const TensorView w = model.weight(name);
            if (w.shape.size() != 2 || w.shape[0] != lin.rows || w.shape[1] != lin.cols)
                throw Error(ErrorKind::invalid_argument,
                            source + ": delta for '" + name + "' is " + std::to_string(lin.rows) +
                                "×" + std::to_string(lin.cols) + " but the model's tensor is " +
                                w.shape_string());
            const auto ref = delta::parse_linear_prefix(info.prefix);
            if (mode == DeltaMode::separate && ref) {
                impl_->provider.set(*ref, std::move(lin));
                continue;
            }
            std::vector<float> d(static_cast<std::size_t>(lin.rows * lin.cols));
            delta::reconstruct(lin, d.data());
            impl_->merge(name, {lin.rows, lin.cols}, d, source);
        }
        for (const std::string& name : msd.dense_names()) {
            if (!has_weight(name))
                throw Error(ErrorKind::invalid_argument, source + ": the delta names '" + name +
                                                             "', which the model does not have");
            const delta::DenseDelta d = msd.load_dense(name);
            impl_->merge(name, d.shape, d.to_f32(), source);
        }
        if (!impl_->provider.empty()) {
            model.set_delta_provider(&impl_->provider);
            impl_->provider_set = true;
        }
    } catch (...) {
        impl_->undo();
        throw;
    }
}

AppliedDelta::~AppliedDelta() {
    if (impl_) impl_->undo();
}

DeltaMode AppliedDelta::mode() const {
    return impl_->mode;
}

std::string AppliedDelta::expert_hash() const {
    return impl_->expert_hash;
}

}  // namespace meswitch
