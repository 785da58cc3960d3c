// Writing .msd delta artifacts (format in msd_file.h).
#include <nlohmann/json.hpp>

#include <array>
#include <cstring>
#include <set>
#include <string>

#include "delta/msd/msd_file.h"
#include "io/safetensors.h"
#include "meswitch/error.h"

namespace meswitch::delta {

std::vector<float> DenseDelta::to_f32() const {
    if (dtype == DType::f32) return f32;
    std::vector<float> out(bits16.size());
    for (std::size_t i = 0; i < bits16.size(); ++i)
        out[i] = dtype == DType::bf16 ? bf16_to_f32(bits16[i]) : f16_to_f32(bits16[i]);
    return out;
}

void write_msd(const std::filesystem::path& path, const MsdHeader& header,
               const std::vector<NamedLinear>& layers, const std::vector<DenseDelta>& dense) {
    const std::string where = path.string();
    auto bad = [&](const std::string& what) {
        throw Error(ErrorKind::invalid_argument, where + ": " + what);
    };
    if (header.bits < 1 || header.bits > 4)
        bad("header bits " + std::to_string(header.bits) + " not in 1..4");
    std::set<std::string> names;
    std::vector<io::TensorToWrite> out;
    // Small per-layer descriptors must outlive write_safetensors.
    std::vector<std::array<std::int64_t, 2>> shapes(layers.size());
    std::vector<std::array<std::int32_t, 3>> formats(layers.size());
    std::vector<std::vector<std::uint8_t>> zeros8(layers.size());
    std::int64_t salient_total = 0;
    auto add = [&](io::TensorToWrite t) {
        if (!names.insert(t.name).second) bad("duplicate tensor name '" + t.name + "'");
        out.push_back(std::move(t));
    };
    for (std::size_t li = 0; li < layers.size(); ++li) {
        const NamedLinear& nl = layers[li];
        const CompressedLinear& c = nl.linear;
        if (nl.prefix.empty()) bad("a layer has an empty name");
        c.validate(where + ": layer '" + nl.prefix + "'");
        const std::string& p = nl.prefix;
        shapes[li] = {c.rows, c.cols};
        formats[li] = {static_cast<std::int32_t>(c.method), c.bits,
                       static_cast<std::int32_t>(c.zero_format)};
        salient_total += c.salient_count();
        add({p + ".shape", DType::i64, {2}, shapes[li].data(), {}});
        add({p + ".qformat", DType::i32, {3}, formats[li].data(), {}});
        add({p + ".codes", DType::u8, {c.rows, c.row_bytes}, c.codes.data(), {}});
        add({p + ".scales",
             DType::f16,
             {static_cast<std::int64_t>(c.scales.size())},
             c.scales.data(),
             {}});
        if (c.zero_format == ZeroFormat::u8) {
            zeros8[li].assign(c.zeros.begin(), c.zeros.end());
            add({p + ".zeros", DType::u8, {c.rows}, zeros8[li].data(), {}});
        } else if (c.zero_format == ZeroFormat::f16) {
            add({p + ".zeros", DType::f16, {c.rows}, c.zeros.data(), {}});
        }
        if (c.salient_count() > 0) {
            add({p + ".salient_idx", DType::i32, {c.salient_count()}, c.salient_idx.data(), {}});
            add({p + ".salient",
                 c.salient_dtype,
                 {c.rows, c.salient_count()},
                 c.salient_values.data(),
                 {}});
        }
    }
    for (const DenseDelta& d : dense) {
        if (d.name.empty()) bad("a dense delta has an empty name");
        std::int64_t numel = 1;
        for (std::int64_t s : d.shape) {
            if (s < 0) bad("dense delta '" + d.name + "' has a negative dimension");
            numel *= s;
        }
        if (d.dtype == DType::f32) {
            if (static_cast<std::int64_t>(d.f32.size()) != numel)
                bad("dense delta '" + d.name + "': size does not match its shape");
            add({d.name + ".dense", DType::f32, d.shape, d.f32.data(), {}});
        } else if (d.dtype == DType::f16 || d.dtype == DType::bf16) {
            if (static_cast<std::int64_t>(d.bits16.size()) != numel)
                bad("dense delta '" + d.name + "': size does not match its shape");
            add({d.name + ".dense", d.dtype, d.shape, d.bits16.data(), {}});
        } else {
            bad("dense delta '" + d.name + "': dtype must be F16, BF16 or F32");
        }
    }
    std::map<std::string, std::string> meta = {
        {"format", msd_format},
        {"format_version", std::to_string(msd_format_version)},
        {"method", method_name(header.method)},
        {"bits", std::to_string(header.bits)},
        {"salient", header.salient.to_string()},
        {"salient_count", std::to_string(salient_total)},
        {"base_hash", header.base_hash},
        {"expert_hash", header.expert_hash},
        {"base_name", header.base_name},
        {"expert_name", header.expert_name},
        {"omitted", nlohmann::json(header.omitted).dump()},
    };
    for (const auto& [key, value] : header.extra)
        if (!meta.emplace(key, value).second)
            bad("extra metadata key '" + key + "' collides with a reserved key");
    io::write_safetensors(path, out, meta);
}

}  // namespace meswitch::delta
