#include "moe/delta_variants.h"

#include "delta/quant/quantize.h"
#include "meswitch/error.h"
#include "moe/moe_internal.h"

namespace meswitch::moe {

DeltaVariant delta_variant(const std::filesystem::path& base, const std::filesystem::path& variant,
                           const DeltaVariantOptions& options) {
    Model b = detail::load_mixtral(base, options.threads);
    const Model v = detail::load_mixtral(variant, 1);
    detail::check_same_shapes(b, base, v, variant);
    delta::QuantOptions q;
    q.method = delta::Method::meswitch;
    q.bits = options.bits;
    q.salient = delta::SalientSpec::parse(options.salient);
    q.threads = options.threads;
    DeltaVariant out{std::move(b), 0, 0};
    for (const std::string& n : out.model.weight_names()) {
        const TensorView wb = out.model.weight(n), wv = v.weight(n);
        out.dense_bytes += wv.nbytes;
        const auto count = static_cast<std::size_t>(wb.numel());
        std::vector<float> fb(count), fv(count), d(count);
        convert_to_f32(wb.dtype, wb.data, fb.data(), count);
        convert_to_f32(wv.dtype, wv.data, fv.data(), count);
        for (std::size_t i = 0; i < count; ++i) d[i] = fv[i] - fb[i];
        if (wb.shape.size() == 2) {
            const std::int64_t rows = wb.shape[0], cols = wb.shape[1];
            delta::CalibrationStats identity(cols, false);
            identity.samples = 1;
            identity.diag.assign(static_cast<std::size_t>(cols), 1.0);
            const delta::CompressedLinear c =
                delta::compress_linear(d.data(), rows, cols, identity, q);
            out.delta_bytes += c.storage_bytes();
            delta::reconstruct(c, d.data());
        } else {
            out.delta_bytes += count * 2;  // norms: a dense f16 delta
            const HostTensor h = HostTensor::from_f32(wb.shape, d, DType::f16);
            convert_to_f32(DType::f16, h.data.data(), d.data(), count);
        }
        for (std::size_t i = 0; i < count; ++i) fb[i] += d[i];
        out.model.replace_weight(n, HostTensor::from_f32(wb.shape, fb, DType::f32));
    }
    return out;
}

}  // namespace meswitch::moe
