// meswitch info: build configuration, devices, catalog path, and how many compressed
// experts fit beside a base in the device's memory (or --memory).
#include <unistd.h>

#include <iostream>

#include "cli_context.h"
#include "meswitch/paths.h"
#include "meswitch/pool.h"
#include "meswitch/system.h"

namespace meswitch::cli {

static std::string gib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
    return buf;
}

void register_info(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("info", "show the build configuration, GPUs and data folder");
    static bool json = false;
    static double memory_gib = 0, expert_mib = 0;
    static int bits = 2;
    static std::string base_arg;
    cmd->add_flag("--json", json, "print one JSON object");
    cmd->add_option("--memory", memory_gib,
                    "GiB for the memory estimate (default: the first GPU's memory, else RAM)");
    cmd->add_option("--base", base_arg,
                    "base model (folder or catalog name) for the estimate (default: the "
                    "Mistral-7B shape in bf16)");
    cmd->add_option("--bits", bits, "delta bits of the estimated experts")->capture_default_str();
    cmd->add_option("--expert-size", expert_mib,
                    "MiB of one compressed expert (default: computed from the base's shape)");
    cmd->callback([&ctx] {
        const BuildInfo build = build_info();
        const DeviceScan scan = scan_devices();
        const auto home = ctx.home();
        // The memory estimate: experts of this size beside this base in this memory.
        ModelConfig shape = mistral_7b_shape();
        std::string shape_label = "Mistral-7B shape";
        if (!base_arg.empty()) {
            shape = parse_model_config(ctx.resolve_model(base_arg) / "config.json");
            shape_label = base_arg;
        }
        const DType base_dtype = shape.torch_dtype == "float32"   ? DType::f32
                                 : shape.torch_dtype == "float16" ? DType::f16
                                                                  : DType::bf16;
        const bool gpu = !scan.devices.empty();
        const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        const std::uint64_t memory = memory_gib > 0
                                         ? static_cast<std::uint64_t>(memory_gib * (1ull << 30))
                                     : gpu ? scan.devices.front().total_memory
                                           : static_cast<std::uint64_t>(std::max(0L, pages)) *
                                                 static_cast<std::uint64_t>(std::max(0L, page));
        const MemoryEstimate estimate = estimate_expert_capacity(
            memory, model_weight_bytes(shape, base_dtype),
            expert_mib > 0 ? static_cast<std::uint64_t>(expert_mib * (1 << 20))
                           : compressed_delta_bytes(shape, bits),
            serving_reserve_bytes(
                shape, std::min<std::int64_t>(4096, shape.max_position_embeddings), gpu));
        const std::string memory_source = memory_gib > 0 ? "--memory"
                                          : gpu          ? scan.devices.front().name
                                                         : "system RAM (CPU backend)";
        if (json) {
            nlohmann::json devices = nlohmann::json::array();
            for (const auto& d : scan.devices)
                devices.push_back({{"index", d.index},
                                   {"name", d.name},
                                   {"total_memory", d.total_memory},
                                   {"free_memory", d.free_memory},
                                   {"compute_capability", std::to_string(d.compute_major) + "." +
                                                              std::to_string(d.compute_minor)}});
            // The data folder and --base come from the user and may hold bytes that are
            // not UTF-8: write them with U+FFFD rather than fail.
            const nlohmann::json out = {{"version", build.version},
                                        {"build_type", build.build_type},
                                        {"compiler", build.compiler},
                                        {"cuda_compiled", build.cuda_compiled},
                                        {"cuda_version", build.cuda_version},
                                        {"cuda_architectures", build.cuda_architectures},
                                        {"cuda_runtime", scan.runtime_version},
                                        {"cuda_driver", scan.driver_version},
                                        {"devices", devices},
                                        {"device_note", scan.note},
                                        {"data_home", home.string()},
                                        {"catalog_path", catalog_path(home).string()},
                                        {"memory_estimate",
                                         {{"base", shape_label},
                                          {"base_dtype", dtype_name(base_dtype)},
                                          {"bits", bits},
                                          {"memory_source", memory_source},
                                          {"memory_bytes", estimate.memory_bytes},
                                          {"base_bytes", estimate.base_bytes},
                                          {"reserve_bytes", estimate.reserve_bytes},
                                          {"expert_bytes", estimate.expert_bytes},
                                          {"experts_fit", estimate.experts_fit},
                                          {"summary", estimate.summary()}}}};
            std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
            return;
        }
        std::cout << "ME-Switch Studio " << build.version << " (" << build.build_type << ", "
                  << build.compiler << ")\n";
        if (build.cuda_compiled)
            std::cout << "CUDA: compiled in (toolkit " << build.cuda_version << ", architectures "
                      << build.cuda_architectures << ")\n";
        else
            std::cout << "CUDA: not compiled in (CPU backend only)\n";
        if (scan.devices.empty()) std::cout << "GPUs: none (" << scan.note << ")\n";
        for (const auto& d : scan.devices)
            std::cout << "GPU " << d.index << ": " << d.name << ", " << gib(d.total_memory) << " ("
                      << gib(d.free_memory) << " free), compute " << d.compute_major << "."
                      << d.compute_minor << "\n";
        std::cout << "Experts that fit (" << shape_label << ", " << dtype_name(base_dtype)
                  << " base, " << (expert_mib > 0 ? "given size" : std::to_string(bits) + "-bit")
                  << " experts, " << memory_source << "): " << estimate.summary() << "\n";
        std::cout << "Data folder: " << home.string() << "\n"
                  << "Catalog: " << catalog_path(home).string() << "\n";
    });
}

}  // namespace meswitch::cli
