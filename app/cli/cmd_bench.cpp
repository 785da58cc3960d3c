// meswitch bench decode: prefill and decode speed (medians of several runs after a warm-up),
// each beside its bound: decode against the memory bandwidth (every weight byte is read once
// per generated token), prefill against the f32 FMA peak. meswitch bench make-model: a
// synthetic-shaped model with random weights as a Hugging Face folder (e.g. for comparing
// with llama.cpp, scripts/bench-vs-llamacpp.sh).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli_context.h"
#include "io/safetensors.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "serve/bench_serve.h"

namespace meswitch::cli {

// Llama shapes for synthetic benchmarks (random weights, built in memory).
ModelConfig synthetic_shape(const std::string& name) {
    ModelConfig c;
    c.arch = ModelArch::llama;
    c.model_type = "llama";
    c.rms_norm_eps = 1e-5;
    c.max_position_embeddings = 4096;
    if (name == "1b") {  // TinyLlama-1.1B: 1.10 B parameters
        c.hidden_size = 2048, c.intermediate_size = 5632, c.num_hidden_layers = 22;
        c.num_attention_heads = 32, c.num_key_value_heads = 4, c.vocab_size = 32000;
    } else if (name == "7b") {  // Mistral-7B: 7.24 B parameters
        c.hidden_size = 4096, c.intermediate_size = 14336, c.num_hidden_layers = 32;
        c.num_attention_heads = 32, c.num_key_value_heads = 8, c.vocab_size = 32000;
    } else if (name == "small") {  // Mistral's proportions at 1/4 width, 8 layers: 175 M
        c.hidden_size = 1024, c.intermediate_size = 3584, c.num_hidden_layers = 8;
        c.num_attention_heads = 8, c.num_key_value_heads = 2, c.vocab_size = 32000;
    } else if (name == "tiny") {
        c.hidden_size = 256, c.intermediate_size = 688, c.num_hidden_layers = 4;
        c.num_attention_heads = 8, c.num_key_value_heads = 4, c.vocab_size = 4096;
    } else {
        throw Error(ErrorKind::invalid_argument,
                    "unknown synthetic shape '" + name +
                        "' (use synthetic:tiny, synthetic:small, synthetic:1b or synthetic:7b)");
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
    return c;
}

namespace {

// "f32" / "f16" / "bf16" (or the safetensors spelling) → a float dtype the engine computes in.
DType parse_float_dtype(const std::string& s) {
    const auto dtype = parse_dtype(s == "f32"    ? "F32"
                                   : s == "f16"  ? "F16"
                                   : s == "bf16" ? "BF16"
                                                 : s);
    if (!dtype || (*dtype != DType::f32 && *dtype != DType::f16 && *dtype != DType::bf16))
        throw Error(ErrorKind::invalid_argument, "--dtype must be f32, f16 or bf16");
    return *dtype;
}

// "min 12.3, max 14.0" over the timed runs, or "" when there was one run or none recorded.
std::string spread(const std::vector<double>& samples) {
    if (samples.size() < 2) return "";
    const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
    char buf[64];
    std::snprintf(buf, sizeof buf, " (runs: min %.2f, max %.2f)", *lo, *hi);
    return buf;
}

}  // namespace

void register_bench_compress(CLI::App* bench);  // cmd_bench_compress.cpp

// cmd_bench_decode_cuda.cpp: the decode benchmark on the GPU (Error(device) without one).
BenchDecodeResult bench_decode_on_cuda(const ModelConfig* synthetic, DType dtype,
                                       const std::filesystem::path& folder, int prefill, int decode,
                                       int threads);

void register_bench_switch(CLI::App* bench);  // cmd_bench_switch.cpp
void register_bench_serve(CLI::App* bench);   // cmd_bench_serve.cpp

static void register_bench_make_model(CLI::App* bench) {
    auto* cmd = bench->add_subcommand(
        "make-model",
        "write a synthetic-shaped Llama model with random weights as a Hugging Face folder "
        "(config.json + model.safetensors), or with --expert-of a synthetic fine-tune of one "
        "(scripts/make-synthetic-pair.sh makes a base and an expert to compress)");
    static std::string shape = "1b", dtype_arg = "bf16", out, expert_of;
    static std::uint64_t seed = 20240607;
    static int threads = 0;
    static bool force = false, tokenizer = false;
    static serve::SyntheticExpertOptions expert;
    cmd->add_option("--shape", shape, "tiny, small (175 M), 1b (TinyLlama-1.1B) or 7b (Mistral-7B)")
        ->check(CLI::IsMember({"tiny", "small", "1b", "7b"}))
        ->capture_default_str();
    cmd->add_option("--dtype", dtype_arg, "weight dtype: f32, f16, bf16")->capture_default_str();
    cmd->add_option("--out", out, "folder to write (created if missing)")->required();
    cmd->add_option("--seed", seed, "random seed")->capture_default_str();
    cmd->add_option("--threads", threads, "CPU threads for the random fill (default: all)");
    cmd->add_flag("--force", force, "replace config.json and model.safetensors if present");
    cmd->add_flag("--tokenizer", tokenizer,
                  "also write a byte-level tokenizer (tokenizer.json), which import and compress "
                  "need");
    cmd->add_option("--expert-of", expert_of,
                    "instead: write an expert of this model folder, every projection W + a "
                    "low-rank delta + noise (--shape and --dtype do not apply)");
    cmd->add_option("--delta-rank", expert.rank, "rank of the expert's delta")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    cmd->add_option("--delta-scale", expert.delta_scale,
                    "RMS of the low-rank delta relative to the weight's")
        ->capture_default_str();
    cmd->add_option("--noise", expert.noise, "RMS of the delta's full-rank noise, relative")
        ->capture_default_str();
    cmd->callback([] {
        const std::filesystem::path dir(out);
        for (const char* f : {"config.json", "model.safetensors"})
            if (!force && std::filesystem::exists(dir / f))
                throw Error(ErrorKind::invalid_argument,
                            (dir / f).string() + " exists (use --force to replace it)");
        if (!expert_of.empty()) {
            expert.seed = seed;
            expert.threads = threads;
            const std::uint64_t bytes = serve::write_synthetic_expert(dir, expert_of, expert);
            std::printf("wrote %s: an expert of %s (rank-%d delta at %g, noise %g; %.2f GB)\n",
                        dir.string().c_str(), expert_of.c_str(), expert.rank, expert.delta_scale,
                        expert.noise, bytes / 1e9);
            return;
        }
        const DType dtype = parse_float_dtype(dtype_arg);
        ModelConfig c = synthetic_shape(shape);
        const std::uint64_t bytes =
            serve::write_synthetic_model(dir, c, dtype, seed, threads, "shape " + shape, tokenizer);
        const std::uint64_t params = bytes / dtype_size(dtype);
        std::printf("wrote %s: config.json, model.safetensors (%s, %.1f M parameters, %.2f GB)\n",
                    dir.string().c_str(), dtype_arg.c_str(), params / 1e6, bytes / 1e9);
    });
}

static void print_bench_decode(const BenchDecodeResult& r, const std::string& label, int prefill,
                               int decode, bool json) {
    const double prefill_ms = 1e3 * prefill / r.prefill_tokens_per_second;
    if (json) {
        print_json(
            {{"model", label},
             {"threads", r.threads},
             {"runs", r.runs},
             {"prefill_tokens", prefill},
             {"decode_tokens", decode},
             {"prefill_tokens_per_second", r.prefill_tokens_per_second},
             {"prefill_ms", prefill_ms},
             {"prefill_samples", r.prefill_samples},
             {"decode_tokens_per_second", r.decode_tokens_per_second},
             {"decode_samples", r.decode_samples},
             {"weight_bytes", r.total_weight_bytes},
             {"weight_bytes_per_token", r.weight_bytes_per_token},
             {"memory_bandwidth_gbps", r.memory_bandwidth_gbps},
             {"bandwidth_bound_tokens_per_second", r.bandwidth_bound_tokens_per_second},
             {"fraction_of_bound", r.fraction_of_bound},
             {"prefill_flops_per_token", r.prefill_flops_per_token},
             {"peak_gflops", r.peak_gflops},
             {"compute_bound_prefill_tokens_per_second", r.compute_bound_prefill_tokens_per_second},
             {"prefill_fraction_of_bound", r.prefill_fraction_of_bound}});
        return;
    }
    std::printf("model %s, %d threads, %.2f GB of weights\n", label.c_str(), r.threads,
                r.total_weight_bytes / 1e9);
    if (r.runs > 1)
        std::printf("figures: medians of %d timed runs after one untimed warm-up\n", r.runs);
    else
        std::printf("figures: one timed run after one untimed warm-up\n");
    std::printf("prefill %d tokens, fresh context: %.2f tokens/s, %.1f ms%s\n", prefill,
                r.prefill_tokens_per_second, prefill_ms, spread(r.prefill_samples).c_str());
    if (r.peak_gflops > 0)
        std::printf(
            "  bound: %.2f GFLOP per token at %.1f GFLOP/s (measured f32 FMA peak) = %.2f "
            "tokens/s; prefill reaches %.1f%%\n",
            r.prefill_flops_per_token / 1e9, r.peak_gflops,
            r.compute_bound_prefill_tokens_per_second, 100.0 * r.prefill_fraction_of_bound);
    std::printf("decode %d tokens after the prompt: %.2f tokens/s%s\n", decode,
                r.decode_tokens_per_second, spread(r.decode_samples).c_str());
    std::printf(
        "  bound: %.1f MB read per token at %.2f GB/s (measured read bandwidth) = %.2f "
        "tokens/s; decode reaches %.1f%%\n",
        r.weight_bytes_per_token / 1e6, r.memory_bandwidth_gbps,
        r.bandwidth_bound_tokens_per_second, 100.0 * r.fraction_of_bound);
    if (r.fraction_of_bound > 1)
        std::printf(
            "  (above the bound: the weights fit in the CPU caches, which outrun memory)\n");
}

void register_bench(CLI::App& app, Context& ctx) {
    auto* bench = app.add_subcommand("bench", "benchmarks");
    bench->require_subcommand(1);
    register_bench_compress(bench);
    register_bench_switch(bench);
    register_bench_serve(bench);
    register_bench_make_model(bench);
    auto* cmd = bench->add_subcommand(
        "decode",
        "prefill and decode tokens/s (medians of --runs after a warm-up) vs the compute and "
        "memory-bandwidth bounds");
    static std::string model_arg = "synthetic:1b", dtype_arg = "bf16", device_arg = "cpu";
    static int prefill = 64, decode = 32, threads = 0, runs = 5;
    static bool json = false;
    cmd->add_option("--model", model_arg,
                    "model folder, catalog name, or synthetic:tiny|1b|7b (random weights)")
        ->capture_default_str();
    cmd->add_option("--dtype", dtype_arg, "weight dtype of synthetic models: f32, f16, bf16")
        ->capture_default_str();
    cmd->add_option("--prefill", prefill, "prompt tokens (llama-bench -p)")->capture_default_str();
    cmd->add_option("--decode", decode, "generated tokens (llama-bench -n)")->capture_default_str();
    cmd->add_option("--runs", runs, "timed runs; figures are their medians (CPU only)")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    cmd->add_option("--threads", threads, "CPU threads (default: all cores)");
    cmd->add_option("--device", device_arg, "cpu or cuda (batch-1 decode on the GPU)")
        ->check(CLI::IsMember({"cpu", "cuda"}))
        ->capture_default_str();
    cmd->add_flag("--json", json, "print one JSON object");
    cmd->callback([&ctx] {
        BenchDecodeResult r;
        std::string label = model_arg;
        if (model_arg.rfind("synthetic:", 0) == 0) {
            const DType dtype = parse_float_dtype(dtype_arg);
            const ModelConfig shape = synthetic_shape(model_arg.substr(10));
            r = device_arg == "cuda"
                    ? bench_decode_on_cuda(&shape, dtype, {}, prefill, decode, threads)
                    : bench_decode(shape, dtype, prefill, decode, threads, runs);
            label += " " + dtype_arg;
        } else if (device_arg == "cuda") {
            r = bench_decode_on_cuda(nullptr, DType::f32, ctx.resolve_model(model_arg), prefill,
                                     decode, threads);
        } else {
            Model model = Model::load(ctx.resolve_model(model_arg), ModelOptions{threads});
            r = bench_decode(model, prefill, decode, runs);
        }
        if (device_arg == "cuda") label += " on cuda";
        print_bench_decode(r, label, prefill, decode, json);
    });
}

}  // namespace meswitch::cli
