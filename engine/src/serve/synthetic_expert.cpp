// A synthetic fine-tune of a synthetic (or any single-file) model: what `meswitch bench
// make-model --expert-of` writes, so that the whole compression pipeline (import, calibration,
// statistics, quantization, writing) can be timed on any shape up to 7B without a model hub.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/thread_pool.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "meswitch/error.h"
#include "serve/bench_serve.h"

namespace meswitch::serve {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Uniform on (-√3, √3): mean 0, variance 1.
float unit(std::uint64_t& state) {
    const float u = static_cast<float>(splitmix64(state) >> 40) * 0x1.0p-24f;
    return 1.7320508f * (2.0f * u - 1.0f);
}

std::uint64_t hash_name(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

void narrow(DType dtype, const float* src, std::byte* dst, std::size_t count) {
    if (dtype == DType::f32) {
        std::memcpy(dst, src, count * sizeof(float));
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint16_t bits = dtype == DType::bf16 ? f32_to_bf16(src[i]) : f32_to_f16(src[i]);
        std::memcpy(dst + 2 * i, &bits, 2);
    }
}

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, "cannot read " + file.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

std::uint64_t write_synthetic_expert(const std::filesystem::path& dir,
                                     const std::filesystem::path& base_dir,
                                     const SyntheticExpertOptions& o) {
    if (o.rank < 1 || o.delta_scale < 0 || o.noise < 0)
        throw Error(ErrorKind::invalid_argument,
                    "synthetic expert: the delta's rank must be at least 1 and its scales >= 0");
    const std::filesystem::path weights = base_dir / "model.safetensors";
    if (!std::filesystem::exists(base_dir / "config.json") || !std::filesystem::exists(weights))
        throw Error(ErrorKind::not_found,
                    base_dir.string() +
                        " is not a single-file model folder (config.json + model.safetensors)");
    if (std::filesystem::equivalent(dir, base_dir))
        throw Error(ErrorKind::invalid_argument, "the expert's folder must not be the base's");
    std::filesystem::create_directories(dir);
    const io::SafetensorsFile base(weights);
    ThreadPool pool(o.threads);
    std::uint64_t bytes = 0;
    std::vector<io::TensorToWrite> out;
    for (const io::TensorInfo& info : base.tensors()) {
        const TensorView view = base.view(info);
        bytes += view.nbytes;
        const bool linear =
            info.shape.size() == 2 && info.name.ends_with("_proj.weight") &&
            (info.dtype == DType::f32 || info.dtype == DType::bf16 || info.dtype == DType::f16);
        if (!linear) {
            out.push_back({info.name, info.dtype, info.shape, view.data, {}});
            continue;
        }
        out.push_back({info.name, info.dtype, info.shape, nullptr,
                       [&, view, name = info.name](std::byte* dst, std::size_t) {
                           const std::int64_t rows = view.shape[0], cols = view.shape[1];
                           const std::size_t esize = dtype_size(view.dtype);
                           // The tensor's RMS sets the scale of its delta.
                           std::vector<double> sums(static_cast<std::size_t>(rows));
                           pool.parallel_for(
                               static_cast<std::size_t>(rows), [&](std::size_t b, std::size_t e) {
                                   std::vector<float> row(static_cast<std::size_t>(cols));
                                   for (std::size_t r = b; r < e; ++r) {
                                       convert_to_f32(view.dtype, view.data + r * cols * esize,
                                                      row.data(), row.size());
                                       double s = 0;
                                       for (float v : row) s += double(v) * v;
                                       sums[r] = s;
                                   }
                               });
                           double total = 0;
                           for (double s : sums) total += s;
                           const float rms = static_cast<float>(std::sqrt(total / (rows * cols)));
                           // Δ = delta_scale · rms · U V / √rank + noise · rms · N, U and V of
                           // unit variance.
                           const std::uint64_t seed = o.seed ^ hash_name(name);
                           std::uint64_t state = seed;
                           std::vector<float> u(static_cast<std::size_t>(rows * o.rank)),
                               v(static_cast<std::size_t>(o.rank * cols));
                           for (float& x : u) x = unit(state);
                           for (float& x : v) x = unit(state);
                           const float low = o.delta_scale * rms / std::sqrt(float(o.rank));
                           const float noise = o.noise * rms;
                           pool.parallel_for(
                               static_cast<std::size_t>(rows), [&](std::size_t b, std::size_t e) {
                                   std::vector<float> row(static_cast<std::size_t>(cols));
                                   for (std::size_t r = b; r < e; ++r) {
                                       convert_to_f32(view.dtype, view.data + r * cols * esize,
                                                      row.data(), row.size());
                                       std::uint64_t rs = seed ^ (0xD1B54A32D192ED03ull * (r + 1));
                                       for (int k = 0; k < o.rank; ++k) {
                                           const float a = low * u[r * o.rank + k];
                                           const float* vk = v.data() + k * cols;
                                           for (std::int64_t i = 0; i < cols; ++i)
                                               row[i] += a * vk[i];
                                       }
                                       if (noise > 0)
                                           for (float& x : row) x += noise * unit(rs);
                                       narrow(view.dtype, row.data(), dst + r * cols * esize,
                                              row.size());
                                   }
                               });
                       }});
    }
    io::write_safetensors(dir / "model.safetensors", out, {{"format", "pt"}});
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
        if (std::filesystem::exists(base_dir / f))
            io::write_file_atomic(dir / f, read_text(base_dir / f));
    io::write_file_atomic(dir / "config.json", read_text(base_dir / "config.json"));
    return bytes;
}

}  // namespace meswitch::serve
