// meswitch bench switch: expert switch latency in place vs separate computation vs
// reloading the expert from disk, and how many Mistral-7B-shaped experts fit in memory.
#include <cstdio>

#include "cli_context.h"
#include "meswitch/error.h"
#include "serve/bench_switch.h"

namespace meswitch::cli {

namespace {

double gib(std::uint64_t b) {
    return static_cast<double>(b) / (1ull << 30);
}

nlohmann::json estimate_json(const MemoryEstimate& e) {
    return {{"memory_bytes", e.memory_bytes},
            {"base_bytes", e.base_bytes},
            {"reserve_bytes", e.reserve_bytes},
            {"expert_bytes", e.expert_bytes},
            {"available_bytes", e.available_bytes},
            {"experts_fit", e.experts_fit},
            {"summary", e.summary()}};
}

}  // namespace

void register_bench_switch(CLI::App* bench) {
    auto* cmd = bench->add_subcommand(
        "switch", "expert switch latency (in place, separate, reload) and experts per memory");
    static serve::BenchSwitchOptions o;
    static std::string dtype_arg = "bf16";
    static double memory_gib = 0;
    static bool json = false;
    cmd->add_option("--device", o.device, "cpu or cuda")
        ->check(CLI::IsMember({"cpu", "cuda"}))
        ->capture_default_str();
    cmd->add_option("--shape", o.shape,
                    "mistral7b, 1b, small or tiny (default: small on cpu, mistral7b on cuda)");
    cmd->add_option("--dtype", dtype_arg, "base weight dtype: bf16, f16 or f32")
        ->check(CLI::IsMember({"bf16", "f16", "f32"}))
        ->capture_default_str();
    cmd->add_option("--bits", o.bits, "delta bits (1-4)")->capture_default_str();
    cmd->add_option("--experts", o.experts, "experts to switch among")->capture_default_str();
    cmd->add_option("--switches", o.switches, "timed switches per policy")->capture_default_str();
    cmd->add_option("--memory", memory_gib,
                    "GiB for the experts-that-fit estimate (default: the device's memory)");
    cmd->add_option("--threads", o.threads, "CPU threads (default: all cores)");
    cmd->add_flag("--json", json, "print one JSON object");
    cmd->callback([] {
        o.dtype = dtype_arg == "f32" ? DType::f32 : dtype_arg == "f16" ? DType::f16 : DType::bf16;
        o.memory_bytes = memory_gib > 0 ? static_cast<std::uint64_t>(memory_gib * (1ull << 30)) : 0;
        const auto r = serve::bench_switch(o, [](std::string_view what) {
            if (!json) std::fprintf(stderr, "… %.*s\n", static_cast<int>(what.size()), what.data());
        });
        if (json) {
            print_json({{"device", r.device},
                        {"shape", r.shape},
                        {"dtype", dtype_arg},
                        {"bits", o.bits},
                        {"parameters", r.parameters},
                        {"base_bytes", r.base_bytes},
                        {"delta_bytes", r.delta_bytes},
                        {"delta_bits_per_param", r.delta_bits_per_param},
                        {"in_place_switch_ms", r.in_place_ms},
                        {"in_place_switch_median_ms", r.in_place_median_ms},
                        {"in_place_switch_min_ms", r.in_place_min_ms},
                        {"in_place_bytes_touched", r.in_place_bytes_touched},
                        {"read_write_bandwidth_gbps", r.update_bandwidth_gbps},
                        {"in_place_bandwidth_fraction", r.in_place_bandwidth_fraction},
                        {"read_bandwidth_gbps", r.read_bandwidth_gbps},
                        {"in_place_read_bandwidth_fraction", r.in_place_read_bandwidth_fraction},
                        {"separate_switch_ms", r.separate_ms},
                        {"upload_evicted_delta_ms", r.upload_ms},
                        {"reload_cold_ms", r.reload_cold_ms},
                        {"reload_warm_ms", r.reload_warm_ms},
                        {"reload_bytes", r.reload_bytes},
                        {"restore_overhead_bytes", r.restore_overhead_bytes},
                        {"base_tokens_per_second", r.base_tokens_per_second},
                        {"in_place_tokens_per_second", r.in_place_tokens_per_second},
                        {"separate_tokens_per_second", r.separate_tokens_per_second},
                        {"mistral7b_fit", estimate_json(r.fit)},
                        {"mistral7b_fit_80gib", estimate_json(r.fit_80)},
                        {"note", r.note}});
            return;
        }
        std::printf(
            "device %s, shape %s (%.1f M parameters, %s), %d-bit deltas of %.1f MiB "
            "(%.3f bits/param)\n",
            r.device.c_str(), r.shape.c_str(), r.parameters / 1e6, dtype_arg.c_str(), o.bits,
            r.delta_bytes / 1048576.0, r.delta_bits_per_param);
        if (!r.note.empty()) std::printf("note: %s\n", r.note.c_str());
        const double gbps = r.in_place_bytes_touched / 1e9 / (r.in_place_median_ms / 1000.0);
        std::printf(
            "switch in place (one pass, W = W_base + Δ̂): %.1f ms median, %.1f ms mean, %.1f ms "
            "best; %.2f GB read+written: base read, weights written, delta read (%.2f GB/s at "
            "the median",
            r.in_place_median_ms, r.in_place_ms, r.in_place_min_ms, r.in_place_bytes_touched / 1e9,
            gbps);
        if (r.read_bandwidth_gbps > 0)
            std::printf(" = %.0f %% of the %.2f GB/s read bandwidth measured as bench decode does",
                        100.0 * r.in_place_read_bandwidth_fraction, r.read_bandwidth_gbps);
        if (r.update_bandwidth_gbps > 0)
            std::printf(", %.0f %% of the %.2f GB/s read+write bandwidth of an in-place update",
                        100.0 * r.in_place_bandwidth_fraction, r.update_bandwidth_gbps);
        std::printf(")\n");
        std::printf(
            "exact restore: reading the pristine base again; %.1f MiB kept for it (the CPU's "
            "working copies, the GPU's base copies)\n",
            r.restore_overhead_bytes / 1048576.0);
        std::printf(
            "switch with separate computation: %.1f ms mean (embeddings/head still "
            "merged in place)\n",
            r.separate_ms);
        std::printf("re-upload of an evicted delta: %.1f ms\n", r.upload_ms);
        std::printf("reload of the expert's safetensors (%.2f GB): %.1f ms cold, %.1f ms warm\n",
                    r.reload_bytes / 1e9, r.reload_cold_ms, r.reload_warm_ms);
        std::printf("decode: base %.2f tokens/s, in place %.2f, separate %.2f (%.0f %% of base)\n",
                    r.base_tokens_per_second, r.in_place_tokens_per_second,
                    r.separate_tokens_per_second,
                    100.0 * r.separate_tokens_per_second / r.base_tokens_per_second);
        std::printf("Mistral-7B bf16 + %d-bit experts in %.1f GiB: %s\n", o.bits,
                    gib(r.fit.memory_bytes), r.fit.summary().c_str());
        std::printf("Mistral-7B bf16 + %d-bit experts in 80 GiB: %s\n", o.bits,
                    r.fit_80.summary().c_str());
    });
}

}  // namespace meswitch::cli
