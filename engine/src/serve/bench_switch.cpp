// meswitch bench switch: switch latency in place vs separate vs reloading from disk.
#include "serve/bench_switch.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/read_sum.h"
#include "delta/quant/packing.h"
#include "io/safetensors.h"
#include "meswitch/error.h"
#include "meswitch/system.h"
#include "model/synthetic.h"
#include "serve/device_backend.h"
#include "serve/expert_pool.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "serve/bench_switch.cpp"
#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::serve::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// p[i] += 1 for i < n (n a multiple of the vector length): the plainest in-place update,
// optionally with the software prefetch the switch's loops use (whichever is faster here).
void IncrementWords(std::uint32_t* p, std::size_t n, bool prefetch) {
    const hn::ScalableTag<std::uint32_t> d;
    const auto one = hn::Set(d, 1u);
    if (prefetch) {
        for (std::size_t i = 0; i < n; i += hn::Lanes(d)) {
            hwy::Prefetch(p + i + 512);
            hn::Store(hn::Add(hn::Load(d, p + i), one), d, p + i);
        }
        return;
    }
    for (std::size_t i = 0; i < n; i += hn::Lanes(d))
        hn::Store(hn::Add(hn::Load(d, p + i), one), d, p + i);
}

}  // namespace meswitch::serve::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

#include <hwy/aligned_allocator.h>

#include "core/thread_pool.h"

namespace meswitch::serve {

HWY_EXPORT(IncrementWords);

namespace {

std::uint64_t splitmix(std::uint64_t& s) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// A 2-bit (or `bits`) compressed delta with |Δ| ≈ 5 % of a linear's weights (which the
// synthetic base draws with standard deviation 1/sqrt(cols)).
delta::CompressedLinear synthetic_linear(std::int64_t rows, std::int64_t cols, int bits,
                                         std::uint64_t seed) {
    delta::CompressedLinear c;
    c.rows = rows;
    c.cols = cols;
    c.bits = bits;
    c.method = delta::Method::meswitch;
    c.zero_format = delta::ZeroFormat::u8;
    c.salient_dtype = DType::f16;
    const auto k = static_cast<std::int64_t>(std::llround(0.005 * static_cast<double>(cols)));
    for (std::int64_t j = 0; j < k; ++j)
        c.salient_idx.push_back(static_cast<std::int32_t>(j * cols / k));
    const int levels = (1 << bits) - 1;
    const float code_std = std::sqrt(static_cast<float>((levels + 1) * (levels + 1) - 1) / 12.0f);
    const float scale = 0.05f / std::sqrt(static_cast<float>(cols)) / code_std;
    c.row_bytes = delta::packed_bytes(cols - k, bits);
    c.codes.resize(static_cast<std::size_t>(rows * c.row_bytes));
    std::uint64_t s = seed;
    for (std::size_t i = 0; i < c.codes.size(); i += 8) {
        const std::uint64_t r = splitmix(s);
        for (std::size_t b = 0; b < 8 && i + b < c.codes.size(); ++b)
            c.codes[i + b] = static_cast<std::uint8_t>(r >> (8 * b));
    }
    // Clear the padding bits of every row (the format keeps them zero).
    const std::int64_t used_bits = (cols - k) * bits;
    if (used_bits % 8)
        for (std::int64_t r = 0; r < rows; ++r)
            c.codes[static_cast<std::size_t>(r * c.row_bytes + c.row_bytes - 1)] &=
                static_cast<std::uint8_t>((1u << (used_bits % 8)) - 1);
    c.scales.assign(static_cast<std::size_t>(rows), f32_to_f16(scale));
    c.zeros.assign(static_cast<std::size_t>(rows), 128);
    c.salient_values.resize(static_cast<std::size_t>(rows * k));
    for (auto& v : c.salient_values)
        v = f32_to_f16(scale * 3.0f * (static_cast<float>(splitmix(s) >> 40) * 0x1.0p-23f - 1.0f));
    return c;
}

}  // namespace

HostDelta synthetic_delta(const ModelConfig& config, int bits, const std::string& name,
                          std::uint64_t seed, float norm_delta) {
    HostDelta d;
    d.name = name;
    for (const ExpectedTensor& t : expected_tensors(config)) {
        const std::string prefix = t.name.substr(0, t.name.size() - 7);  // ".weight"
        if (t.shape.size() == 2) {
            d.linears.push_back(
                {prefix, synthetic_linear(t.shape[0], t.shape[1], bits, seed++ * 7919)});
        } else {
            delta::DenseDelta dd;
            dd.name = t.name;
            dd.dtype = DType::f16;
            dd.shape = t.shape;
            dd.bits16.assign(static_cast<std::size_t>(t.shape[0]), f32_to_f16(norm_delta));
            d.dense.push_back(std::move(dd));
        }
    }
    return d;
}

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

// Bytes a switch moves: both backends compute W = W_base + Δ̂ in one pass from a pristine
// copy of the base (the CPU's loaded weights, the GPU's device copy), so every touched
// weight is read once and written once, and the packed delta is read.
std::uint64_t touched_bytes(const ModelConfig& config, DType dtype, std::uint64_t delta_bytes) {
    return model_weight_bytes(config, dtype) * 2 + delta_bytes;
}

// Decode tokens/s of `steps` single-token steps after a 16-token prompt (one run).
double decode_tps(DeviceBackend& b, int steps) {
    auto cache = b.make_cache(16 + steps + 1);
    std::vector<std::int32_t> prompt(16);
    for (int i = 0; i < 16; ++i) prompt[static_cast<std::size_t>(i)] = 1 + i * 7;
    b.forward(prompt, *cache);
    const auto t = clock_type::now();
    for (int i = 0; i < steps; ++i) {
        const std::int32_t one[1] = {3 + i};
        b.forward(one, *cache);
    }
    const double ms = ms_since(t);
    return ms > 0 ? steps / (ms / 1000.0) : 0;
}

// Opens the expert's safetensors and reads every page of its weights (mmap is lazy): what a
// reload costs before the weights are even copied to a device.
double reload(const std::filesystem::path& folder) {
    const auto t = clock_type::now();
    const io::Checkpoint ck(folder);
    std::uint64_t sum = 0;
    for (const std::string& n : ck.tensor_names()) {
        const TensorView v = ck.view(n);
        for (std::size_t i = 0; i < v.nbytes; i += 512) sum += static_cast<std::uint8_t>(v.data[i]);
    }
    const double ms = ms_since(t);
    asm volatile("" : : "r"(sum) : "memory");  // the reads must not be optimised away
    return ms;
}

void drop_page_cache(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY);
    if (fd < 0) return;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

// Read+write bandwidth in GB/s: best of a few passes of an in-place update of 1 GiB split
// across `threads` like the switch's rows (each pass reads and writes every byte), with
// and without software prefetch.
double measure_update_bandwidth(int threads) {
    const std::size_t count = (1ull << 30) / sizeof(std::uint32_t);
    const auto words = hwy::AllocateAligned<std::uint32_t>(count);
    if (!words)
        throw Error(ErrorKind::out_of_memory, "bench switch: no 1 GiB for the bandwidth pass");
    ThreadPool pool(threads);
    constexpr std::size_t grain = 1 << 16;  // words; a multiple of every vector length
    pool.parallel_for(
        count,
        [&](std::size_t b, std::size_t e) { std::fill(words.get() + b, words.get() + e, 0u); },
        grain);
    double best = 0;
    for (int pass = 0; pass < 6; ++pass) {
        const auto t = clock_type::now();
        pool.parallel_for(
            count,
            [&](std::size_t b, std::size_t e) {
                HWY_DYNAMIC_DISPATCH(IncrementWords)(words.get() + b, e - b, pass % 2 == 1);
            },
            grain);
        const double s = ms_since(t) / 1000.0;
        best = std::max(best, 2.0 * static_cast<double>(count * sizeof(std::uint32_t)) / s / 1e9);
    }
    asm volatile("" : : "r"(words.get()) : "memory");
    return best;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

ModelConfig bench_shape(std::string_view name) {
    if (name == "mistral7b") return mistral_7b_shape();
    ModelConfig c = mistral_7b_shape();
    c.arch = ModelArch::llama;
    c.model_type = "llama";
    if (name == "1b") {
        c.hidden_size = 2048, c.intermediate_size = 5632, c.num_hidden_layers = 22;
        c.num_attention_heads = 32, c.num_key_value_heads = 4;
    } else if (name == "small") {  // Mistral's proportions at 1/4 width, 8 layers
        c.hidden_size = 1024, c.intermediate_size = 3584, c.num_hidden_layers = 8;
        c.num_attention_heads = 8, c.num_key_value_heads = 2;
    } else if (name == "tiny") {
        c.hidden_size = 256, c.intermediate_size = 896, c.num_hidden_layers = 4;
        c.num_attention_heads = 8, c.num_key_value_heads = 2, c.vocab_size = 4096;
    } else {
        throw Error(ErrorKind::invalid_argument,
                    "unknown shape '" + std::string(name) + "' (use mistral7b, 1b, small or tiny)");
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
    c.max_position_embeddings = 4096;
    return c;
}

BenchSwitchResult bench_switch(const BenchSwitchOptions& o,
                               const std::function<void(std::string_view)>& progress) {
    auto say = [&](std::string_view what) {
        if (progress) progress(what);
    };
    if (o.experts < 2)
        throw Error(ErrorKind::invalid_argument, "bench switch: needs at least 2 experts");
    require_device(o.device);  // before building anything large
    BenchSwitchResult r;
    r.shape = o.shape.empty() ? (o.device == "cuda" ? "mistral7b" : "small") : o.shape;
    if (o.shape.empty() && o.device != "cuda")
        r.note =
            "CPU default shape 'small' (175 M parameters, Mistral-7B proportions): a "
            "7B base does not fit beside working copies in this machine's memory";
    const ModelConfig config = bench_shape(r.shape);
    for (const ExpectedTensor& t : expected_tensors(config)) {
        std::int64_t n = 1;
        for (auto d : t.shape) n *= d;
        r.parameters += n;
    }

    // The host builds the base once, plus (CPU) a working copy of every weight.
    const std::uint64_t host_need = o.device == "cpu"
                                        ? model_weight_bytes(config, o.dtype) * 2 + (1ull << 30)
                                        : model_weight_bytes(config, o.dtype);
    const std::uint64_t available = host_memory_available();
    if (available > 0 && host_need > available / 10 * 9)
        throw Error(ErrorKind::out_of_memory,
                    "bench switch: the '" + r.shape + "' shape needs about " +
                        std::to_string(host_need >> 20) + " MiB of host memory here but " +
                        std::to_string(available >> 20) +
                        " MiB are available; use a smaller --shape (small, tiny)");
    const int threads = o.threads > 0 ? o.threads : ThreadPool::default_threads();
    say("building the synthetic base");
    Model host = Model::from_tensors(config, model::random_weights(config, o.dtype, 1, o.threads),
                                     ModelOptions{o.threads});
    // The reload baseline: the expert's full weights as a safetensors folder on disk.
    const std::filesystem::path scratch =
        (o.scratch.empty() ? std::filesystem::temp_directory_path() : o.scratch) /
        ("meswitch-bench-switch-" + std::to_string(::getpid()));
    struct Cleanup {
        std::filesystem::path p;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(p, ec);
        }
    } cleanup{scratch};
    {
        say("writing the expert's full safetensors for the reload baseline");
        std::filesystem::create_directories(scratch);
        std::vector<io::TensorToWrite> tensors;
        for (const std::string& n : host.weight_names()) {
            const TensorView v = host.weight(n);
            tensors.push_back({n, v.dtype, v.shape, v.data, {}});
            r.reload_bytes += v.nbytes;
        }
        io::write_safetensors(scratch / "model.safetensors", tensors);
    }
    auto backend = open_backend(o.device, std::move(host));
    r.device = backend->device_name();
    r.base_bytes = backend->base_bytes();

    say("making synthetic 2-bit deltas");
    ExpertPool pool(*backend, ~0ull);
    std::vector<std::string> names;
    for (int e = 0; e < o.experts; ++e) {
        names.push_back("expert" + std::to_string(e));
        HostDelta d = synthetic_delta(config, o.bits, names.back(), 1000 + e * 100003);
        r.delta_bytes = d.bytes();
        pool.add(std::move(d));
    }
    r.delta_bits_per_param = static_cast<double>(r.delta_bytes) * 8 / r.parameters;

    say("warming up (first upload, working copies)");
    for (const auto& n : names) pool.activate(n, DeltaMode::merged);

    if (backend->kind() == "cpu") {  // just before the switches, under the same load
        say("measuring the memory bandwidth (1 GiB: read, and updated in place)");
        r.update_bandwidth_gbps = measure_update_bandwidth(threads);
        r.read_bandwidth_gbps = cpu::measure_read_bandwidth(threads);
    }
    say("timing in-place switches");
    double total = 0, best = 1e300;
    std::vector<double> times;
    for (int i = 0; i < o.switches; ++i) {
        const SwitchReport s =
            pool.activate(names[static_cast<std::size_t>(i) % names.size()], DeltaMode::merged);
        total += s.activate_ms;
        best = std::min(best, s.activate_ms);
        times.push_back(s.activate_ms);
    }
    r.in_place_ms = total / o.switches;
    r.in_place_median_ms = median(times);
    r.in_place_min_ms = best;
    r.restore_overhead_bytes = backend->restore_overhead_bytes();
    r.in_place_bytes_touched = touched_bytes(config, o.dtype, r.delta_bytes);
    if (r.in_place_median_ms > 0 && r.update_bandwidth_gbps > 0)
        r.in_place_bandwidth_fraction = static_cast<double>(r.in_place_bytes_touched) / 1e9 /
                                        (r.in_place_median_ms / 1000.0) / r.update_bandwidth_gbps;
    if (r.in_place_median_ms > 0 && r.read_bandwidth_gbps > 0)
        r.in_place_read_bandwidth_fraction = static_cast<double>(r.in_place_bytes_touched) / 1e9 /
                                             (r.in_place_median_ms / 1000.0) /
                                             r.read_bandwidth_gbps;

    say("timing separate-computation switches");
    pool.activate(names.back(), DeltaMode::separate);  // leaves in-place mode (not timed)
    total = 0;
    for (int i = 0; i < o.switches; ++i)
        total +=
            pool.activate(names[static_cast<std::size_t>(i) % names.size()], DeltaMode::separate)
                .activate_ms;
    r.separate_ms = total / o.switches;

    // Decode in the three modes, interleaved round by round (so that a busy moment of the
    // machine weighs on all three alike), after one untimed warm-up step each: medians.
    say("timing decode: base, in place, separate (interleaved)");
    std::vector<double> base_tps, merged_tps, separate_tps;
    for (int round = 0; round < o.decode_runs; ++round) {
        pool.activate("", DeltaMode::merged);
        if (round == 0) decode_tps(*backend, 1);
        base_tps.push_back(decode_tps(*backend, o.decode_steps));
        pool.activate(names.front(), DeltaMode::merged);
        if (round == 0) decode_tps(*backend, 1);
        merged_tps.push_back(decode_tps(*backend, o.decode_steps));
        pool.activate(names.front(), DeltaMode::separate);
        if (round == 0) decode_tps(*backend, 1);
        separate_tps.push_back(decode_tps(*backend, o.decode_steps));
    }
    r.base_tokens_per_second = median(base_tps);
    r.in_place_tokens_per_second = median(merged_tps);
    r.separate_tokens_per_second = median(separate_tps);

    say("timing re-upload of an evicted delta");
    pool.activate("", DeltaMode::merged);
    pool.set_budget(r.delta_bytes);  // one resident delta
    total = 0;
    for (int i = 0; i < o.switches; ++i)
        total +=
            pool.activate(names[static_cast<std::size_t>(i) % names.size()], DeltaMode::separate)
                .upload_ms;
    r.upload_ms = total / o.switches;
    pool.activate("", DeltaMode::merged);

    say("timing reloads from disk");
    drop_page_cache(scratch / "model.safetensors");
    r.reload_cold_ms = reload(scratch);
    r.reload_warm_ms = reload(scratch);

    const ModelConfig m7 = mistral_7b_shape();
    const std::uint64_t memory = o.memory_bytes ? o.memory_bytes : backend->total_memory();
    const bool gpu = backend->kind() == "cuda";
    r.fit = estimate_expert_capacity(memory, model_weight_bytes(m7, DType::bf16),
                                     compressed_delta_bytes(m7, o.bits),
                                     serving_reserve_bytes(m7, 4096, gpu));
    r.fit_80 = estimate_expert_capacity(80ull << 30, model_weight_bytes(m7, DType::bf16),
                                        compressed_delta_bytes(m7, o.bits),
                                        serving_reserve_bytes(m7, 4096, true));
    return r;
}

}  // namespace meswitch::serve

#endif  // HWY_ONCE
