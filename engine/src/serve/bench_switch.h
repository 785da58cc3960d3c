// The expert-switching benchmark behind `meswitch bench switch`: a synthetic base of a
// chosen shape with random weights and synthetic 2-bit compressed deltas (random codes,
// step sizes giving |Δ| ≈ 5 % of |W|, 0.5 % salient channels), served by a DeviceBackend.
// Measures a switch in place (W = W_base + Δ̂ in one pass), in separate computation,
// re-uploading an evicted delta from host memory, and reloading the expert's full
// safetensors from disk (cold: the file's pages dropped from the page cache first), decode
// speed in each mode, and how many Mistral-7B-shaped experts fit beside the base in a memory
// size. On the CPU the in-place switch is also given as a fraction of the machine's measured
// read bandwidth and of its read+write bandwidth of an in-place update.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "meswitch/model.h"
#include "meswitch/pool.h"
#include "serve/host_delta.h"

namespace meswitch::serve {

// A synthetic compressed delta for every tensor of `config`: linears with random `bits`-bit
// codes, 0.5 % salient input channels and step sizes giving |Δ| ≈ 5 % of the synthetic base's
// weights (drawn with standard deviation 1/sqrt(cols)); 1-D tensors a dense f16 delta of
// `norm_delta`. Deterministic in `seed`.
HostDelta synthetic_delta(const ModelConfig& config, int bits, const std::string& name,
                          std::uint64_t seed, float norm_delta = 0.01f);

struct BenchSwitchOptions {
    std::string device = "cpu";  // "cpu" or "cuda"
    std::string shape = "";      // mistral7b, 1b, small, tiny; "": small on cpu, mistral7b on cuda
    DType dtype = DType::bf16;
    int bits = 2;
    int experts = 3;
    int switches = 6;                // timed switches per policy (after one warm-up each)
    int decode_steps = 16;           // timed single-token steps per mode and run
    int decode_runs = 5;             // interleaved runs of base, in place, separate (medians)
    std::uint64_t memory_bytes = 0;  // for the fit estimate; 0: the device's total memory
    int threads = 0;
    std::filesystem::path scratch;  // folder for the reload file; "": the system temp folder
};

struct BenchSwitchResult {
    std::string device;
    std::string shape;
    std::int64_t parameters = 0;
    std::uint64_t base_bytes = 0;
    std::uint64_t delta_bytes = 0;  // one expert
    double delta_bits_per_param = 0;
    double in_place_ms = 0;         // mean: restore the previous expert + apply the next
    double in_place_median_ms = 0;  // the same, median of the timed switches
    double in_place_min_ms = 0;
    double separate_ms = 0;     // mean: switch with decoder linears computed separately
    double upload_ms = 0;       // host → device copy of an evicted delta
    double reload_cold_ms = 0;  // the expert's full safetensors from disk, page cache dropped
    double reload_warm_ms = 0;  // the same file again, from the page cache
    std::uint64_t reload_bytes = 0;
    std::uint64_t restore_overhead_bytes = 0;
    std::uint64_t in_place_bytes_touched = 0;  // base read + weights written + delta read
    // CPU: read+write memory bandwidth (GB/s, best of 6 in-place passes over 1 GiB on the
    // same threads, measured just before the switches), and the in-place switch's bytes
    // touched ÷ median time as a fraction of it; 0 on a GPU.
    double update_bandwidth_gbps = 0;
    double in_place_bandwidth_fraction = 0;
    // CPU: read bandwidth (GB/s, cpu::measure_read_bandwidth: what bench decode measures),
    // and the switch's bytes ÷ median time as a fraction of it; 0 on a GPU.
    double read_bandwidth_gbps = 0;
    double in_place_read_bandwidth_fraction = 0;
    double base_tokens_per_second = 0;
    double in_place_tokens_per_second = 0;
    double separate_tokens_per_second = 0;
    MemoryEstimate fit;     // Mistral-7B bf16 base + 2-bit experts in memory_bytes
    MemoryEstimate fit_80;  // the same in 80 GiB (A100/H100-80GB)
    std::string note;       // e.g. why the shape was reduced
};

// Shapes: "mistral7b" (7.24 B), "1b" (TinyLlama-1.1B), "small" (Mistral proportions, 175 M),
// "tiny". Error(invalid_argument) for another name.
ModelConfig bench_shape(std::string_view name);

BenchSwitchResult bench_switch(const BenchSwitchOptions& options,
                               const std::function<void(std::string_view)>& progress = {});

}  // namespace meswitch::serve
