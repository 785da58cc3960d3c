// meswitch import: validate a Hugging Face model folder and add it to the catalog.
#include <unistd.h>

#include <iostream>

#include "cli_context.h"
#include "meswitch/import.h"

namespace meswitch::cli {

void register_import(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("import", "import a Hugging Face model folder (base or expert)");
    static std::string path, name, base, domain, description, examples;
    static bool copy = false, json = false;
    cmd->add_option("PATH", path, "model folder (config.json, *.safetensors, tokenizer.json)")
        ->required();
    cmd->add_option("--name", name, "catalog name (default: the folder's name)");
    cmd->add_option("--base", base, "import as an expert of this base model (catalog name)");
    cmd->add_option("--domain", domain, "the expert's domain (created when new)");
    cmd->add_option("--description", description, "description of a new domain");
    cmd->add_option("--examples", examples, "file of example prompts for the domain, one per line");
    cmd->add_flag("--copy", copy, "copy the folder into the data folder instead of referencing it");
    cmd->add_flag("--json", json, "print the imported record as JSON");
    cmd->callback([&ctx] {
        ImportOptions opts;
        opts.name = name;
        if (!base.empty()) opts.base = base;
        if (!domain.empty()) opts.domain = domain;
        opts.domain_description = description;
        if (!examples.empty()) opts.examples = read_examples_file(examples);
        opts.copy = copy;
        opts.data_home = ctx.home();
        const bool tty = isatty(STDERR_FILENO);
        int last_shown = -1;
        auto progress = [&](double f, std::string_view) {
            const int pct = static_cast<int>(f * 100);
            if (tty && pct != last_shown) {
                std::cerr << "\rimporting: " << pct << "%" << std::flush;
                last_shown = pct;
            }
        };
        const ModelRecord rec = import_model(ctx.catalog(), path, opts, progress, nullptr);
        if (tty) std::cerr << "\r" << std::string(20, ' ') << "\r";
        if (json) {
            print_json({{"id", rec.id}, {"name", rec.name}, {"role", to_string(rec.role)},
                        {"path", rec.path}, {"architecture", rec.architecture},
                        {"dtype", rec.dtype}, {"parameters", rec.parameter_count},
                        {"bytes", rec.bytes}, {"content_hash", rec.content_hash}});
            return;
        }
        std::cout << "imported " << to_string(rec.role) << " '" << rec.name << "': "
                  << rec.architecture << ", " << rec.parameter_count << " parameters, "
                  << rec.dtype << ", hash " << rec.content_hash << "\n";
    });
}

}  // namespace meswitch::cli
