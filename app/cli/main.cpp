// meswitch: the command-line face of ME-Switch Studio.
#include <spdlog/spdlog.h>

#include <exception>
#include <filesystem>
#include <iostream>
#include <new>

#include "cli_context.h"
#include "meswitch/error.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "meswitch/system.h"

namespace {

// nlohmann's message without its "[json.exception.type_error.316] " prefix.
std::string plain_json_message(std::string text) {
    if (const auto close = text.find("] ");
        text.rfind("[json.exception", 0) == 0 && close != std::string::npos)
        text.erase(0, close + 2);
    return text;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace meswitch;
    use_huge_pages_for_malloc(argv);
    cli::Context ctx;
    CLI::App app{
        "ME-Switch Studio command line: import models, compress expert deltas, "
        "route prompts and chat.",
        "meswitch"};
    app.set_version_flag("--version", "meswitch " + build_info().version);
    app.add_option("--home", ctx.home_option,
                   "data folder (catalog, logs, deltas); default $MESWITCH_HOME or "
                   "$XDG_DATA_HOME/meswitch-studio");
    app.add_option("--log-level", ctx.log_level,
                   "stderr/log file level: trace, debug, info, warn, error, critical, off")
        ->capture_default_str();
    app.require_subcommand(1);

    cli::register_info(app, ctx);
    cli::register_list(app, ctx);
    cli::register_tokenize(app, ctx);
    cli::register_import(app, ctx);
    cli::register_generate(app, ctx);
    cli::register_compress(app, ctx);
    cli::register_eval(app, ctx);
    cli::register_bench(app, ctx);
    cli::register_route(app, ctx);
    cli::register_chat(app, ctx);
    cli::register_moe(app, ctx);
    cli::register_demo(app, ctx);
    cli::register_serve(app, ctx);

    // Logging must be ready before a command runs, and after options are parsed.
    app.parse_complete_callback([&ctx] {
        LogOptions opts;
        opts.level = ctx.log_level;
        opts.to_stderr = true;
        try {
            opts.dir = log_dir(ctx.home());
            init_logging(opts);
        } catch (const Error&) {
            opts.dir.clear();  // an unwritable data folder must not stop read-only commands
            init_logging(opts);
        }
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const Error& e) {
        std::cerr << "meswitch: " << e.what() << '\n';
        return e.kind() == ErrorKind::cancelled ? 130 : 1;
    } catch (const nlohmann::json::type_error& e) {
        // Commands build their JSON from catalog and file text; bad UTF-8 is the usual cause.
        std::cerr << "meswitch: cannot write the output as JSON: "
                  << (e.id == 316 ? "a text value is not valid UTF-8"
                                  : std::string("a value has the wrong type"))
                  << " (" << plain_json_message(e.what()) << ")\n";
        return 1;
    } catch (const nlohmann::json::exception& e) {
        std::cerr << "meswitch: JSON error: " << plain_json_message(e.what()) << '\n';
        return 1;
    } catch (const std::filesystem::filesystem_error& e) {
        std::cerr << "meswitch: " << (e.path1().empty() ? "" : e.path1().string() + ": ")
                  << e.code().message() << '\n';
        return 1;
    } catch (const std::bad_alloc&) {
        std::cerr << "meswitch: out of memory\n";
        return 1;
    } catch (const std::exception& e) {
        // Last resort: every expected failure is a meswitch::Error with its own message.
        std::cerr << "meswitch: unexpected error: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
