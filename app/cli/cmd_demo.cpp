// meswitch demo install: put the demo expert pack (base, three experts, their domains and
// example prompts) into the catalog, compress the experts and train the router — what the
// Studio's first run does.
#include <cstdio>

#include "cli_context.h"
#include "meswitch/demo.h"
#include "meswitch/error.h"

namespace meswitch::cli {

void register_demo(CLI::App& app, Context& ctx) {
    auto* demo = app.add_subcommand("demo", "the built-in demo expert pack");
    demo->require_subcommand(1);
    auto* install = demo->add_subcommand(
        "install",
        "install the demo pack into the catalog: import the base and the experts with their "
        "domains, compress the experts (the pack's settings: 4 bits for these tiny models) and "
        "train the router");
    static bool no_compress = false, json = false, in_place = false, if_empty = false;
    static std::string pack_arg;
    static int threads = 0;
    install->add_flag("--no-compress", no_compress, "import only; do not compress the experts");
    install->add_flag("--in-place", in_place,
                      "reference the pack's model folders instead of copying them into the data "
                      "folder");
    install->add_option("--pack", pack_arg,
                        "the pack folder (holding pack.json); default $MESWITCH_DEMO_DIR, "
                        "<prefix>/share/meswitch-studio/demo, or the source tree's pack");
    install->add_flag("--if-empty", if_empty,
                      "do nothing when the catalog already holds a model (for start-up scripts)");
    install->add_option("--threads", threads, "CPU threads (default: all cores)");
    install->add_flag("--json", json, "print the result as one JSON object");
    install->callback([&ctx] {
        if (if_empty && !catalog_is_empty(ctx.catalog())) {
            if (json)
                print_json({{"installed", false}, {"reason", "the catalog is not empty"}});
            else
                std::printf("the catalog already holds models; demo pack not installed\n");
            return;
        }
        std::filesystem::path dir;
        if (!pack_arg.empty()) {
            dir = pack_arg;
        } else if (auto found = find_demo_pack()) {
            dir = *found;
        } else {
            throw Error(ErrorKind::not_found,
                        "no demo pack found: set MESWITCH_DEMO_DIR or pass --pack DIR (a folder "
                        "holding pack.json, e.g. resources/demo/pack in the source tree)");
        }
        const DemoPack pack = read_demo_pack(dir);
        DemoInstallOptions opts;
        opts.compress = !no_compress;
        opts.copy = !in_place;
        opts.threads = threads;
        int last_percent = -1;
        const DemoInstallResult r = install_demo_pack(
            ctx.catalog(), pack, ctx.home(), opts, [&](double f, std::string_view what) {
                const int percent = static_cast<int>(f * 100);
                if (json || percent == last_percent) return;
                last_percent = percent;
                std::fprintf(stderr, "\r%3d%% %-90.90s", percent, std::string(what).c_str());
                std::fflush(stderr);
            });
        if (!json) std::fprintf(stderr, "\n");
        if (json) {
            nlohmann::json experts = nlohmann::json::array();
            for (const auto& e : r.experts) {
                nlohmann::json x = {{"name", e.name}, {"id", e.id}, {"path", e.path}};
                for (const auto& c : r.compressed)
                    if (c.expert_hash == e.content_hash)
                        x["compressed"] = {{"artifact", c.artifact.string()},
                                           {"method", c.method},
                                           {"bits", c.bits},
                                           {"bits_per_param", c.bits_per_param},
                                           {"file_bytes", c.file_bytes},
                                           {"seconds", c.seconds}};
                experts.push_back(std::move(x));
            }
            print_json({{"installed", true},
                        {"pack", pack.dir.string()},
                        {"license", pack.license},
                        {"base", {{"name", r.base.name}, {"id", r.base.id}, {"path", r.base.path}}},
                        {"experts", experts},
                        {"reused", r.reused},
                        {"router", r.router},
                        {"router_version", r.router_version},
                        {"seconds", r.seconds}});
            return;
        }
        std::printf("installed the demo pack from %s (%s licence) in %.1f s\n",
                    pack.dir.string().c_str(), pack.license.c_str(), r.seconds);
        std::printf("base %s\n", r.base.name.c_str());
        for (const auto& e : r.experts) std::printf("expert %s\n", e.name.c_str());
        for (const auto& c : r.compressed)
            std::printf("compressed %s: %.2f bits/param, %lld bytes, %.1f s\n",
                        c.artifact.filename().string().c_str(), c.bits_per_param,
                        static_cast<long long>(c.file_bytes), c.seconds);
        if (!r.reused.empty())
            std::printf("already installed: %zu model(s) reused\n", r.reused.size());
        std::printf("router: %s (version %lld)\n", r.router.c_str(),
                    static_cast<long long>(r.router_version));
        std::printf("try: meswitch chat --prompt \"What is 17+25?\"\n");
    });
}

}  // namespace meswitch::cli
