// meswitch tokenize: token ids of a text with a model's tokenizer.
#include <iostream>

#include "cli_context.h"
#include "meswitch/tokenizer.h"

namespace meswitch::cli {

void register_tokenize(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("tokenize", "print the token ids of a text, space-separated");
    static std::string model, text;
    static bool no_bos = false, decode = false;
    cmd->add_option("--model", model, "model folder or catalog name")->required();
    cmd->add_option("--text", text, "text to tokenize")->required();
    cmd->add_flag("--no-bos", no_bos, "do not add the BOS token / special tokens");
    cmd->add_flag("--decode", decode, "also print the decoded text on a second line");
    cmd->callback([&ctx] {
        const Tokenizer tok = Tokenizer::from_folder(ctx.resolve_model(model));
        const auto ids = tok.encode(text, !no_bos);
        for (std::size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
        std::cout << '\n';
        if (decode) std::cout << tok.decode(ids) << '\n';
    });
}

}  // namespace meswitch::cli
