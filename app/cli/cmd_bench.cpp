// meswitch bench decode: prefill and decode speed, and how close decode comes to the
// memory-bandwidth bound (every weight byte is read once per generated token).
#include <cstdio>
#include <iostream>
#include <map>

#include "cli_context.h"
#include "meswitch/error.h"
#include "meswitch/model.h"

namespace meswitch::cli {

namespace {

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
    } else if (name == "tiny") {
        c.hidden_size = 256, c.intermediate_size = 688, c.num_hidden_layers = 4;
        c.num_attention_heads = 8, c.num_key_value_heads = 4, c.vocab_size = 4096;
    } else {
        throw Error(ErrorKind::invalid_argument,
                    "unknown synthetic shape '" + name + "' (use synthetic:tiny, synthetic:1b or synthetic:7b)");
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
    return c;
}

}  // namespace

void register_bench(CLI::App& app, Context& ctx) {
    auto* bench = app.add_subcommand("bench", "benchmarks");
    bench->require_subcommand(1);
    auto* cmd = bench->add_subcommand("decode", "prefill and decode tokens/s vs the memory-bandwidth bound");
    static std::string model_arg = "synthetic:1b", dtype_arg = "bf16";
    static int prefill = 64, decode = 32, threads = 0;
    static bool json = false;
    cmd->add_option("--model", model_arg,
                    "model folder, catalog name, or synthetic:tiny|1b|7b (random weights)")
        ->capture_default_str();
    cmd->add_option("--dtype", dtype_arg, "weight dtype of synthetic models: f32, f16, bf16")
        ->capture_default_str();
    cmd->add_option("--prefill", prefill, "prompt tokens")->capture_default_str();
    cmd->add_option("--decode", decode, "generated tokens")->capture_default_str();
    cmd->add_option("--threads", threads, "CPU threads (default: all cores)");
    cmd->add_flag("--json", json, "print one JSON object");
    cmd->callback([&ctx] {
        BenchDecodeResult r;
        std::string label = model_arg;
        if (model_arg.rfind("synthetic:", 0) == 0) {
            const auto dtype = parse_dtype(dtype_arg == "f32"    ? "F32"
                                           : dtype_arg == "f16"  ? "F16"
                                           : dtype_arg == "bf16" ? "BF16"
                                                                 : dtype_arg);
            if (!dtype || (*dtype != DType::f32 && *dtype != DType::f16 && *dtype != DType::bf16))
                throw Error(ErrorKind::invalid_argument, "--dtype must be f32, f16 or bf16");
            r = bench_decode(synthetic_shape(model_arg.substr(10)), *dtype, prefill, decode, threads);
            label += " " + dtype_arg;
        } else {
            Model model = Model::load(ctx.resolve_model(model_arg), ModelOptions{threads});
            r = bench_decode(model, prefill, decode);
        }
        if (json) {
            print_json({{"model", label},
                        {"threads", r.threads},
                        {"prefill_tokens", prefill},
                        {"decode_tokens", decode},
                        {"prefill_tokens_per_second", r.prefill_tokens_per_second},
                        {"decode_tokens_per_second", r.decode_tokens_per_second},
                        {"weight_bytes", r.total_weight_bytes},
                        {"weight_bytes_per_token", r.weight_bytes_per_token},
                        {"memory_bandwidth_gbps", r.memory_bandwidth_gbps},
                        {"bandwidth_bound_tokens_per_second", r.bandwidth_bound_tokens_per_second},
                        {"fraction_of_bound", r.fraction_of_bound}});
            return;
        }
        std::printf("model %s, %d threads, %.2f GB of weights\n", label.c_str(), r.threads,
                    r.total_weight_bytes / 1e9);
        std::printf("prefill %d tokens: %.2f tokens/s\n", prefill, r.prefill_tokens_per_second);
        std::printf("decode %d tokens: %.2f tokens/s\n", decode, r.decode_tokens_per_second);
        std::printf("bandwidth: %.2f GB/s measured; %.1f MB read per token; bound %.2f tokens/s\n",
                    r.memory_bandwidth_gbps, r.weight_bytes_per_token / 1e6,
                    r.bandwidth_bound_tokens_per_second);
        std::printf("decode reaches %.1f%% of the bandwidth bound\n", 100.0 * r.fraction_of_bound);
    });
}

}  // namespace meswitch::cli
