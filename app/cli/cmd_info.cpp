// meswitch info: build configuration, devices, catalog path.
#include <iostream>

#include "cli_context.h"
#include "meswitch/paths.h"
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
    cmd->add_flag("--json", json, "print one JSON object");
    cmd->callback([&ctx] {
        const BuildInfo build = build_info();
        const DeviceScan scan = scan_devices();
        const auto home = ctx.home();
        if (json) {
            nlohmann::json devices = nlohmann::json::array();
            for (const auto& d : scan.devices)
                devices.push_back({{"index", d.index},
                                   {"name", d.name},
                                   {"total_memory", d.total_memory},
                                   {"free_memory", d.free_memory},
                                   {"compute_capability", std::to_string(d.compute_major) + "." +
                                                              std::to_string(d.compute_minor)}});
            print_json({{"version", build.version},
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
                        {"catalog_path", catalog_path(home).string()}});
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
            std::cout << "GPU " << d.index << ": " << d.name << ", " << gib(d.total_memory)
                      << " (" << gib(d.free_memory) << " free), compute " << d.compute_major
                      << "." << d.compute_minor << "\n";
        std::cout << "Data folder: " << home.string() << "\n"
                  << "Catalog: " << catalog_path(home).string() << "\n";
    });
}

}  // namespace meswitch::cli
