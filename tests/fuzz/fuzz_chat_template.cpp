// Fuzz target: a tokenizer_config.json read as the Tokenizer reads it (bos/eos/unk tokens,
// add_bos/eos_token, chat_template as a string or a list of named templates), then its chat
// template compiled and a fixed conversation rendered with the config's BOS/EOS, as the
// Engine does for every chat turn (ChatTemplate::compile + render, and render_chat with its
// fallback to the plain format).
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "meswitch/chat_template.h"
#include "meswitch/error.h"
#include "tokenizer/tokenizer_files.h"

using namespace meswitch;

namespace {

const std::vector<ChatMessage>& conversation() {
    static const std::vector<ChatMessage> messages = {
        {"system", "You are a helpful assistant."},
        {"user", "What is 17 + 25?"},
        {"assistant", "17 + 25 = 42."},
        {"user", "And in \xe4\xb8\xad\xe6\x96\x87? <s> {{ not a tag }}"},
    };
    return messages;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto file = fuzz::scratch() / "tokenizer_config.json";
    fuzz::write_file(file, data, size);
    tok::TokenizerConfig config;
    try {
        config = tok::load_tokenizer_config(file);
    } catch (const Error&) {
        return 0;  // refusing a malformed tokenizer_config.json is the expected outcome
    }
    ChatTemplateContext ctx;
    ctx.bos_token = config.bos_token;
    ctx.eos_token = config.eos_token;
    ctx.extra_variables["date_string"] = "01 Dec 2026";
    try {
        const ChatTemplate tmpl = ChatTemplate::compile(config.chat_template);
        fuzz::consume(tmpl.render(conversation(), ctx));
        // A second, shorter conversation (chosen by the input's length, so that each run
        // renders twice): one user message without the generation prompt, or none at all.
        ctx.add_generation_prompt = false;
        const std::vector<ChatMessage> one = {conversation()[1]};
        fuzz::consume(tmpl.render(size % 2 ? one : std::vector<ChatMessage>{}, ctx));
        ctx.add_generation_prompt = true;
    } catch (const Error&) {
        // Unsupported constructs, syntax errors and raise_exception() are reported as errors.
    }
    try {
        const RenderedChat r = render_chat(config.chat_template, conversation(), ctx);
        if (r.used_fallback) FUZZ_CHECK(!r.fallback_reason.empty());
        fuzz::consume(r.text);
    } catch (const Error& e) {
        // Only a raise_exception() from the template is rethrown (as a format error).
        FUZZ_CHECK(e.kind() == ErrorKind::format);
    }
    return 0;
}
