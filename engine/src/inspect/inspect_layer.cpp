// inspect_layer: per-input-channel range of one layer's delta, the artifact's salient
// channels, and block-maximum maps of |Δ| and |Δ − Δ̂|. Δ is computed a row at a time from
// the memory-mapped checkpoints; only Δ̂ (from the artifact) is held whole.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "delta/msd/msd_file.h"
#include "delta/quant/quantize.h"
#include "io/safetensors.h"
#include "meswitch/error.h"
#include "meswitch/inspect.h"

namespace meswitch {
namespace {

bool is_float(DType t) {
    return t == DType::f32 || t == DType::f16 || t == DType::bf16;
}

std::string prefix_of(std::string_view weight_name) {
    constexpr std::string_view suffix = ".weight";
    if (weight_name.size() > suffix.size() &&
        weight_name.substr(weight_name.size() - suffix.size()) == suffix)
        return std::string(weight_name.substr(0, weight_name.size() - suffix.size()));
    return std::string(weight_name);
}

// Maps layer rows/cols of a region onto cells; cell c covers [begin(c), begin(c + 1)).
struct Axis {
    std::int64_t first = 0, count = 0, cells = 0;
    std::int64_t begin(std::int64_t c) const { return first + c * count / cells; }
    // The cell holding layer index i (first <= i < first + count).
    std::int64_t cell_of(std::int64_t i) const {
        std::int64_t c = (i - first) * cells / count;
        while (c + 1 < cells && begin(c + 1) <= i) ++c;
        while (c > 0 && begin(c) > i) --c;
        return c;
    }
};

Axis make_axis(std::int64_t lo, std::int64_t hi, std::int64_t size, std::int64_t max_cells,
               const char* what, const std::string& layer) {
    if (hi == 0) hi = size;
    if (lo < 0 || hi > size || lo >= hi)
        throw Error(ErrorKind::invalid_argument,
                    std::string("inspect: ") + what + " region [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + ") is outside layer '" + layer + "' (" + what +
                        " 0.." + std::to_string(size) + ")");
    Axis a;
    a.first = lo;
    a.count = hi - lo;
    a.cells = std::clamp<std::int64_t>(max_cells, 1, a.count);
    return a;
}

HeatMap empty_map(const Axis& r, const Axis& c) {
    HeatMap m;
    m.rows = r.cells;
    m.cols = c.cells;
    m.row0 = r.first;
    m.row1 = r.first + r.count;
    m.col0 = c.first;
    m.col1 = c.first + c.count;
    m.values.assign(static_cast<std::size_t>(m.rows * m.cols), 0.0f);
    return m;
}

void finish_map(HeatMap& m) {
    m.max_value = m.values.empty() ? 0.0f : *std::max_element(m.values.begin(), m.values.end());
}

}  // namespace

std::vector<std::string> compressed_layers(const std::filesystem::path& msd_file) {
    const delta::MsdFile msd(msd_file);
    std::vector<std::string> out;
    for (const auto& l : msd.layers()) out.push_back(l.prefix + ".weight");
    return out;
}

LayerInspection inspect_layer(const std::filesystem::path& base_folder,
                              const std::filesystem::path& expert_folder,
                              const std::filesystem::path& msd_file, std::string_view layer,
                              const LayerInspectOptions& options, const CancelToken* cancel) {
    const std::string name(layer);
    const io::Checkpoint base(base_folder);
    const io::Checkpoint expert(expert_folder);
    if (!base.contains(name))
        throw Error(ErrorKind::not_found,
                    "tensor '" + name + "' is not in the base model " + base_folder.string());
    if (!expert.contains(name))
        throw Error(ErrorKind::not_found,
                    "tensor '" + name + "' is not in the expert model " + expert_folder.string());
    const TensorView b = base.view(name);
    const TensorView e = expert.view(name);
    if (b.shape.size() != 2)
        throw Error(ErrorKind::invalid_argument,
                    "tensor '" + name + "' is " + b.shape_string() + ", not a 2-D weight");
    if (b.shape != e.shape)
        throw Error(ErrorKind::invalid_argument, "tensor '" + name + "' is " + b.shape_string() +
                                                     " in the base but " + e.shape_string() +
                                                     " in the expert");
    if (!is_float(b.dtype) || !is_float(e.dtype))
        throw Error(ErrorKind::unsupported, "tensor '" + name + "' is not f32/f16/bf16");

    LayerInspection out;
    out.layer = name;
    out.rows = b.shape[0];
    out.cols = b.shape[1];
    const std::int64_t rows = out.rows, cols = out.cols;

    // Δ̂ of this layer from the artifact, when it stores one.
    std::vector<float> approx;
    if (!msd_file.empty()) {
        const delta::MsdFile msd(msd_file);
        if (const auto* info = msd.find_layer(prefix_of(name))) {
            if (info->rows != rows || info->cols != cols)
                throw Error(ErrorKind::invalid_argument,
                            "layer '" + name + "' is " + std::to_string(info->rows) + "x" +
                                std::to_string(info->cols) + " in " + msd_file.string() + " but " +
                                b.shape_string() + " in the models");
            const delta::CompressedLinear c = msd.load(info->prefix);
            approx.resize(static_cast<std::size_t>(rows * cols));
            delta::reconstruct(c, approx.data());
            out.salient.assign(c.salient_idx.begin(), c.salient_idx.end());
            out.has_artifact = true;
            out.method = delta::method_name(c.method);
            out.bits = c.bits;
        }
    }

    const Axis ra = make_axis(options.row0, options.row1, rows, options.max_map_rows, "row", name);
    const Axis ca =
        make_axis(options.col0, options.col1, cols, options.max_map_cols, "column", name);
    out.delta_abs = empty_map(ra, ca);
    if (out.has_artifact) out.error_abs = empty_map(ra, ca);
    std::vector<std::int64_t> col_cell(static_cast<std::size_t>(ca.count));
    for (std::int64_t i = 0; i < ca.count; ++i) col_cell[i] = ca.cell_of(ca.first + i);

    out.channel_min.assign(static_cast<std::size_t>(cols), std::numeric_limits<float>::max());
    out.channel_max.assign(static_cast<std::size_t>(cols), std::numeric_limits<float>::lowest());
    const std::size_t esz_b = dtype_size(b.dtype), esz_e = dtype_size(e.dtype);
    std::vector<float> rb(static_cast<std::size_t>(cols)), re(static_cast<std::size_t>(cols));
    double err2 = 0, d2 = 0;
    std::int64_t cell_r = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
        if (cancel && (r & 255) == 0) cancel->throw_if_cancelled("inspecting " + name);
        convert_to_f32(b.dtype, b.data + static_cast<std::size_t>(r * cols) * esz_b, rb.data(),
                       static_cast<std::size_t>(cols));
        convert_to_f32(e.dtype, e.data + static_cast<std::size_t>(r * cols) * esz_e, re.data(),
                       static_cast<std::size_t>(cols));
        for (std::int64_t i = 0; i < cols; ++i) {
            const float d = re[i] - rb[i];
            if (!std::isfinite(d))
                throw Error(ErrorKind::invalid_argument,
                            "tensor '" + name + "': the delta is not finite at row " +
                                std::to_string(r) + ", column " + std::to_string(i));
            re[i] = d;
            out.channel_min[i] = std::min(out.channel_min[i], d);
            out.channel_max[i] = std::max(out.channel_max[i], d);
            d2 += static_cast<double>(d) * d;
            if (out.has_artifact) {
                const double err = d - approx[static_cast<std::size_t>(r * cols + i)];
                err2 += err * err;
            }
        }
        if (r < ra.first || r >= ra.first + ra.count) continue;
        while (cell_r + 1 < ra.cells && ra.begin(cell_r + 1) <= r) ++cell_r;
        float* dm = out.delta_abs.values.data() + cell_r * ca.cells;
        float* em = out.has_artifact ? out.error_abs.values.data() + cell_r * ca.cells : nullptr;
        const float* ar = out.has_artifact ? approx.data() + r * cols : nullptr;
        for (std::int64_t i = 0; i < ca.count; ++i) {
            const std::int64_t col = ca.first + i;
            const std::int64_t c = col_cell[static_cast<std::size_t>(i)];
            dm[c] = std::max(dm[c], std::fabs(re[col]));
            if (em) em[c] = std::max(em[c], std::fabs(re[col] - ar[col]));
        }
    }
    finish_map(out.delta_abs);
    if (out.has_artifact) {
        finish_map(out.error_abs);
        out.rel_weight_error = d2 > 0 ? std::sqrt(err2 / d2) : 0.0;
    }
    return out;
}

}  // namespace meswitch
