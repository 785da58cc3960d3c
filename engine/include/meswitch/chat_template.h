// Chat templates: turning a conversation into the prompt text a model was trained on.
//
// Hugging Face models ship a Jinja template in tokenizer_config.json ("chat_template").
// ChatTemplate is a small interpreter for the subset of Jinja those templates use, with the
// whitespace rules transformers applies (trim_blocks and lstrip_blocks on, one trailing
// newline of the template dropped). Its output is byte-identical to @huggingface/jinja, the
// renderer transformers.js uses, on the templates and conversations in tests/chat/data;
// where that renderer raises an error or departs from Jinja by accident, Python Jinja's
// behaviour is followed instead (see engine/src/chat/README.md for the list).
//
// Supported: text, {{ }}, {% %}, {# #}, "-" whitespace control; if/elif/else, for (with
// loop.*, for-else, "for x in xs if cond", break, continue), set (also block set, tuple
// targets, namespace attributes), simple macros; literals, lists, dicts, attribute and
// subscript access, slices, arithmetic, comparisons, and/or/not, in, is-tests, conditional
// expressions, the common filters and string/dict methods, raise_exception, range,
// namespace, strftime_now. Anything else is reported as ErrorKind::unsupported, naming the
// construct and the line.
//
// A template is untrusted input: hard limits (engine/src/chat/limits.h) bound how deep it
// nests (256 levels in an expression, chains like 1+1+...+1 included; 512 while rendering;
// 64 macro calls), how long it runs (10 million steps), and how much it builds (16 MiB of
// output or in one string, a million list items, 256 MiB in all). Past one, compile() or
// render() throws Error(format) "chat template line N: <the limit>" instead of crashing,
// hanging or exhausting memory.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace meswitch {

struct ChatMessage {
    std::string role;  // "system", "user", "assistant", ...
    std::string content;
};

struct ChatTemplateContext {
    std::string bos_token;  // text of the tokenizer's BOS token ("" when it has none)
    std::string eos_token;
    bool add_generation_prompt = true;  // end with the header of an assistant turn
    // Further string variables a template may read (e.g. "date_string"). The standard
    // variables above and "messages" take precedence over entries of the same name.
    std::map<std::string, std::string> extra_variables;
};

namespace chat {
struct Program;  // the parsed template (engine/src/chat/ast.h)
}

class ChatTemplate {
public:
    // Parses the Jinja source. Throws Error(unsupported) naming the construct and line when
    // the template uses something this interpreter does not implement (a {% call %} block,
    // an unknown filter or test, ...), and Error(format) with the line on syntax errors.
    static ChatTemplate compile(std::string_view source);

    // Renders the conversation. A raise_exception("...") in the template surfaces as
    // Error(format) whose message ends with the template's message; other failures at
    // render time (calling an unsupported method, a type error) are Error(unsupported) or
    // Error(format) with the line.
    std::string render(const std::vector<ChatMessage>& messages,
                       const ChatTemplateContext& ctx) const;

    ~ChatTemplate();
    ChatTemplate(ChatTemplate&&) noexcept;
    ChatTemplate& operator=(ChatTemplate&&) noexcept;

private:
    explicit ChatTemplate(std::shared_ptr<const chat::Program> program);
    std::shared_ptr<const chat::Program> program_;
};

// The plain format used when a model has no usable template. Each message becomes
// "<Role>: <content>" (Role = "System", "User", "Assistant", or the role with its first
// letter upper-cased), messages are joined by "\n\n", and when add_generation_prompt is set
// "Assistant: " follows after a further "\n\n" (or alone when there are no messages):
//   "System: Be brief.\n\nUser: Hi\n\nAssistant: "
std::string render_plain_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt);

struct RenderedChat {
    std::string text;
    bool used_fallback = false;
    // Why the model's template is not used, e.g. "the model has no chat template" (it does
    // not say what is used instead: the caller does).
    std::string fallback_reason;
};

// Renders with the model's template, or with render_plain_chat when the template is empty,
// uses something unsupported, does not parse, or fails to render (fallback_reason says
// which, with the line). A raise_exception() from the template is not a fallback case: it
// means the conversation itself is invalid for this model, and is rethrown as Error(format).
// Neither is a template past one of the interpreter's limits (too deep, too long running, too
// much output): a hostile or runaway template is rethrown as Error(format) naming the line
// and the limit, rather than quietly replaced.
// `origin` names the file the template came from (Tokenizer::chat_template_origin()): when
// set, rethrown errors and fallback reasons start with it.
RenderedChat render_chat(std::string_view template_source, const std::vector<ChatMessage>& messages,
                         const ChatTemplateContext& ctx, std::string_view origin = {});

}  // namespace meswitch
