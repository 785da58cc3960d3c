// Reading and validating .msd delta artifacts (format in msd_file.h).
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "delta/msd/msd_file.h"
#include "delta/quant/packing.h"
#include "io/safetensors.h"
#include "io/strict_json.h"
#include "meswitch/error.h"

namespace meswitch::delta {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

template <typename T>
T read_at(const TensorView& v, std::size_t i) {
    T out;
    std::memcpy(&out, v.data + i * sizeof(T), sizeof(T));
    return out;
}

constexpr const char* layer_parts[] = {".shape", ".qformat",     ".codes",  ".scales",
                                       ".zeros", ".salient_idx", ".salient"};

}  // namespace

struct MsdFile::Impl {
    io::SafetensorsFile file;
    MsdHeader header;
    std::vector<LayerInfo> layers;
    std::vector<std::string> dense;

    explicit Impl(const std::filesystem::path& p) : file(p) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorKind::format, file.path().string() + ": " + what);
    }

    const std::string& meta(const char* key) const {
        auto it = file.metadata().find(key);
        if (it == file.metadata().end()) fail(std::string("metadata key '") + key + "' is missing");
        return it->second;
    }

    static bool parse_int(const std::string& s, std::int64_t& out) {
        if (s.empty() || s.size() > 18) return false;
        std::size_t i = s[0] == '-' ? 1 : 0;
        if (i == s.size()) return false;
        std::int64_t v = 0;
        for (; i < s.size(); ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            v = v * 10 + (s[i] - '0');
        }
        out = s[0] == '-' ? -v : v;
        return true;
    }

    void read_header() {
        auto it = file.metadata().find("format");
        if (it == file.metadata().end() || it->second != msd_format)
            fail("not a ME-Switch delta artifact (metadata 'format' is not \"meswitch-delta\")");
        std::int64_t v = 0;
        if (!parse_int(meta("format_version"), v))
            fail("format_version '" + meta("format_version") + "' is not a number");
        if (v != msd_format_version)
            throw Error(ErrorKind::unsupported, file.path().string() + ": .msd format_version " +
                                                    std::to_string(v) +
                                                    " is not supported (this version reads 1)");
        auto m = parse_method(meta("method"));
        if (!m) fail("unknown method '" + meta("method") + "'");
        header.method = *m;
        if (!parse_int(meta("bits"), v) || v < 1 || v > 4)
            fail("metadata bits '" + meta("bits") + "' not in 1..4");
        header.bits = static_cast<int>(v);
        try {
            header.salient = SalientSpec::parse(meta("salient"));
        } catch (const Error&) {
            fail("metadata salient '" + meta("salient") + "' is not a count or percentage");
        }
        if (!parse_int(meta("salient_count"), v) || v < 0)
            fail("metadata salient_count is not a count");
        header.salient_count = v;
        header.base_hash = meta("base_hash");
        header.expert_hash = meta("expert_hash");
        header.base_name = meta("base_name");
        header.expert_name = meta("expert_name");
        io::StrictJsonOptions omitted_options;
        omitted_options.label = file.path().string();
        omitted_options.what = "metadata 'omitted'";
        omitted_options.max_depth = 2;
        const auto j = io::parse_strict_json<nlohmann::json>(meta("omitted"), omitted_options);
        if (!j.is_array()) fail("metadata 'omitted' is not a JSON array");
        for (const auto& e : j) {
            if (!e.is_string()) fail("metadata 'omitted' holds a non-string");
            header.omitted.push_back(e.get<std::string>());
        }
        static const std::set<std::string> reserved = {
            "format",    "format_version", "method",    "bits",        "salient", "salient_count",
            "base_hash", "expert_hash",    "base_name", "expert_name", "omitted"};
        for (const auto& [key, value] : file.metadata())
            if (!reserved.count(key)) header.extra.emplace(key, value);
    }

    const io::TensorInfo& part(const std::string& prefix, const char* suffix, DType dtype,
                               const std::vector<std::int64_t>& shape) const {
        const std::string name = prefix + suffix;
        const io::TensorInfo* t = file.find(name);
        if (!t) fail("tensor '" + name + "' is missing");
        if (t->dtype != dtype)
            fail("tensor '" + name + "' has dtype " + dtype_name(t->dtype) + ", expected " +
                 dtype_name(dtype));
        if (t->shape != shape)
            fail("tensor '" + name + "' has the wrong shape " + file.view(*t).shape_string());
        return *t;
    }

    LayerInfo check_layer(const std::string& p) const {
        const TensorView shape = file.view(part(p, ".shape", DType::i64, {2}));
        const TensorView fmt = file.view(part(p, ".qformat", DType::i32, {3}));
        LayerInfo info;
        info.prefix = p;
        info.rows = read_at<std::int64_t>(shape, 0);
        info.cols = read_at<std::int64_t>(shape, 1);
        if (info.rows <= 0 || info.cols <= 0 || info.rows > (1ll << 31) || info.cols > (1ll << 31))
            fail("tensor '" + p + ".shape' holds a bad shape");
        const std::int32_t method = read_at<std::int32_t>(fmt, 0),
                           bits = read_at<std::int32_t>(fmt, 1), zf = read_at<std::int32_t>(fmt, 2);
        if (method < 0 || method > 2)
            fail("tensor '" + p + ".qformat': unknown method " + std::to_string(method));
        if (bits < 1 || bits > 4)
            fail("tensor '" + p + ".qformat': bits " + std::to_string(bits) + " not in 1..4");
        if (zf < 0 || zf > 2)
            fail("tensor '" + p + ".qformat': unknown zero format " + std::to_string(zf));
        info.method = static_cast<Method>(method);
        info.bits = bits;
        std::int64_t k = 0;
        const io::TensorInfo* idx = file.find(p + ".salient_idx");
        if (idx) {
            if (idx->dtype != DType::i32 || idx->shape.size() != 1)
                fail("tensor '" + p + ".salient_idx' must be I32 [k]");
            k = idx->shape[0];
            if (k > info.cols)
                fail("tensor '" + p + ".salient_idx' has more entries than the layer has columns");
            const TensorView v = file.view(*idx);
            for (std::int64_t j = 0; j < k; ++j) {
                const std::int32_t c = read_at<std::int32_t>(v, static_cast<std::size_t>(j));
                if (c < 0 || c >= info.cols)
                    fail("tensor '" + p + ".salient_idx': index " + std::to_string(c) +
                         " out of range [0, " + std::to_string(info.cols) + ")");
                if (j > 0 && c <= read_at<std::int32_t>(v, static_cast<std::size_t>(j - 1)))
                    fail("tensor '" + p +
                         ".salient_idx': indices not sorted and unique at position " +
                         std::to_string(j));
            }
            const io::TensorInfo* sal = file.find(p + ".salient");
            if (!sal) fail("tensor '" + p + ".salient' is missing");
            if (sal->dtype != DType::f16 && sal->dtype != DType::bf16)
                fail("tensor '" + p + ".salient' must be F16 or BF16, not " +
                     dtype_name(sal->dtype));
            part(p, ".salient", sal->dtype, {info.rows, k});
        } else if (file.find(p + ".salient")) {
            fail("tensor '" + p + ".salient' has no '" + p + ".salient_idx'");
        }
        info.salient_count = k;
        const std::int64_t row_bytes = packed_bytes(info.cols - k, bits);
        const io::TensorInfo* codes = file.find(p + ".codes");
        if (!codes) fail("tensor '" + p + ".codes' is missing");
        if (codes->dtype != DType::u8 || codes->shape.size() != 2 || codes->shape[0] != info.rows ||
            codes->shape[1] != row_bytes)
            fail("tensor '" + p + ".codes' must be U8 [" + std::to_string(info.rows) + ", " +
                 std::to_string(row_bytes) + "] for " + std::to_string(info.cols - k) +
                 " codes of " + std::to_string(bits) + " bits per row");
        const io::TensorInfo* scales = file.find(p + ".scales");
        if (!scales) fail("tensor '" + p + ".scales' is missing");
        if (scales->dtype != DType::f16 || scales->shape.size() != 1 ||
            (scales->shape[0] != info.rows && scales->shape[0] != 1))
            fail("tensor '" + p + ".scales' must be F16 [rows] or [1]");
        const TensorView sv = file.view(*scales);
        for (std::int64_t i = 0; i < scales->shape[0]; ++i)
            if (!std::isfinite(f16_to_f32(read_at<std::uint16_t>(sv, static_cast<std::size_t>(i)))))
                fail("tensor '" + p + ".scales' holds a non-finite scale");
        const io::TensorInfo* zeros = file.find(p + ".zeros");
        const ZeroFormat z = static_cast<ZeroFormat>(zf);
        if (z == ZeroFormat::midpoint && zeros)
            fail("tensor '" + p + ".zeros' present for a symmetric layer");
        if (z == ZeroFormat::u8) part(p, ".zeros", DType::u8, {info.rows});
        if (z == ZeroFormat::f16) part(p, ".zeros", DType::f16, {info.rows});
        info.storage_bytes = load(p, info).storage_bytes();
        return info;
    }

    CompressedLinear load(const std::string& p, const LayerInfo& info) const {
        CompressedLinear c;
        c.rows = info.rows;
        c.cols = info.cols;
        const TensorView fmt = file.view(p + ".qformat");
        c.method = static_cast<Method>(read_at<std::int32_t>(fmt, 0));
        c.bits = read_at<std::int32_t>(fmt, 1);
        c.zero_format = static_cast<ZeroFormat>(read_at<std::int32_t>(fmt, 2));
        const TensorView codes = file.view(p + ".codes");
        c.row_bytes = codes.shape[1];
        c.codes.assign(reinterpret_cast<const std::uint8_t*>(codes.data),
                       reinterpret_cast<const std::uint8_t*>(codes.data) + codes.nbytes);
        const TensorView sc = file.view(p + ".scales");
        c.scales.resize(static_cast<std::size_t>(sc.numel()));
        std::memcpy(c.scales.data(), sc.data, sc.nbytes);
        if (c.zero_format != ZeroFormat::midpoint) {
            const TensorView zv = file.view(p + ".zeros");
            c.zeros.resize(static_cast<std::size_t>(c.rows));
            for (std::int64_t r = 0; r < c.rows; ++r)
                c.zeros[static_cast<std::size_t>(r)] =
                    c.zero_format == ZeroFormat::u8
                        ? reinterpret_cast<const std::uint8_t*>(zv.data)[r]
                        : read_at<std::uint16_t>(zv, static_cast<std::size_t>(r));
        }
        if (info.salient_count > 0) {
            const TensorView iv = file.view(p + ".salient_idx");
            c.salient_idx.resize(static_cast<std::size_t>(info.salient_count));
            std::memcpy(c.salient_idx.data(), iv.data, iv.nbytes);
            const TensorView vv = file.view(p + ".salient");
            c.salient_dtype = vv.dtype;
            c.salient_values.resize(static_cast<std::size_t>(vv.numel()));
            std::memcpy(c.salient_values.data(), vv.data, vv.nbytes);
        }
        c.validate(file.path().string() + ": layer '" + p + "'");
        return c;
    }
};

MsdFile::MsdFile(const std::filesystem::path& path) : impl_(std::make_unique<Impl>(path)) {
    Impl& m = *impl_;
    m.read_header();
    std::set<std::string> prefixes, claimed;
    for (const io::TensorInfo& t : m.file.tensors()) {
        if (ends_with(t.name, ".shape")) prefixes.insert(t.name.substr(0, t.name.size() - 6));
    }
    for (const io::TensorInfo& t : m.file.tensors()) {
        if (ends_with(t.name, ".shape")) {
            const std::string p = t.name.substr(0, t.name.size() - 6);
            m.layers.push_back(m.check_layer(p));
            for (const char* part : layer_parts) claimed.insert(p + part);
        }
    }
    std::int64_t salient_total = 0;
    for (const LayerInfo& l : m.layers) salient_total += l.salient_count;
    if (salient_total != m.header.salient_count)
        m.fail("metadata salient_count " + std::to_string(m.header.salient_count) +
               " disagrees with the layers (" + std::to_string(salient_total) + ")");
    for (const io::TensorInfo& t : m.file.tensors()) {
        if (claimed.count(t.name)) continue;
        if (ends_with(t.name, ".dense")) {
            if (t.dtype != DType::f16 && t.dtype != DType::bf16 && t.dtype != DType::f32)
                m.fail("tensor '" + t.name + "' must be F16, BF16 or F32, not " +
                       dtype_name(t.dtype));
            m.dense.push_back(t.name.substr(0, t.name.size() - 6));
            continue;
        }
        m.fail("unexpected tensor '" + t.name +
               "' (not part of a layer with a '.shape' tensor, not a '.dense' delta)");
    }
}

MsdFile::~MsdFile() = default;
MsdFile::MsdFile(MsdFile&&) noexcept = default;
MsdFile& MsdFile::operator=(MsdFile&&) noexcept = default;

const std::filesystem::path& MsdFile::path() const {
    return impl_->file.path();
}
const MsdHeader& MsdFile::header() const {
    return impl_->header;
}
const std::vector<MsdFile::LayerInfo>& MsdFile::layers() const {
    return impl_->layers;
}

const MsdFile::LayerInfo* MsdFile::find_layer(std::string_view prefix) const {
    for (const LayerInfo& l : impl_->layers)
        if (l.prefix == prefix) return &l;
    return nullptr;
}

CompressedLinear MsdFile::load(std::string_view prefix) const {
    const LayerInfo* info = find_layer(prefix);
    if (!info)
        throw Error(ErrorKind::not_found,
                    path().string() + ": no compressed layer '" + std::string(prefix) + "'");
    return impl_->load(info->prefix, *info);
}

const std::vector<std::string>& MsdFile::dense_names() const {
    return impl_->dense;
}

DenseDelta MsdFile::load_dense(std::string_view name) const {
    bool known = false;
    for (const std::string& d : impl_->dense) known = known || d == name;
    if (!known)
        throw Error(ErrorKind::not_found,
                    path().string() + ": no dense delta '" + std::string(name) + "'");
    const TensorView v = impl_->file.view(std::string(name) + ".dense");
    DenseDelta d;
    d.name = std::string(name);
    d.dtype = v.dtype;
    d.shape = v.shape;
    const std::size_t count = static_cast<std::size_t>(v.numel());
    if (v.dtype == DType::f32) {
        d.f32.resize(count);
        std::memcpy(d.f32.data(), v.data, count * 4);
    } else {
        d.bits16.resize(count);
        std::memcpy(d.bits16.data(), v.data, count * 2);
    }
    return d;
}

}  // namespace meswitch::delta
