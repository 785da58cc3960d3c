// Public entry points: ChatTemplate (compile + render), the plain fallback format, and
// render_chat, which picks between them.
#include "meswitch/chat_template.h"

#include "chat/ast.h"
#include "chat/builtins.h"
#include "chat/errors.h"
#include "chat/evaluator.h"
#include "chat/lexer.h"
#include "chat/limits.h"
#include "chat/parser.h"
#include "chat/source.h"
#include "chat/utf8.h"

#include <optional>

namespace meswitch {

ChatTemplate::ChatTemplate(std::shared_ptr<const chat::Program> program)
    : program_(std::move(program)) {}
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

ChatTemplate ChatTemplate::compile(std::string_view source) {
    const chat::Source text = chat::preprocess(source);
    auto program = std::make_shared<chat::Program>(chat::parse(chat::tokenize(text)));
    return ChatTemplate(std::move(program));
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 const ChatTemplateContext& ctx) const {
    using chat::Value;
    chat::Scope globals;
    chat::add_builtins(globals);
    for (const auto& [name, value] : ctx.extra_variables) globals.set(name, Value::string(value));
    chat::List list;
    list.reserve(messages.size());
    for (const ChatMessage& m : messages) {
        chat::Dict d;
        d.set("role", Value::string(m.role));
        d.set("content", Value::string(m.content));
        list.push_back(Value::dict(std::move(d)));
    }
    globals.set("messages", Value::list(std::move(list)));
    globals.set("bos_token", Value::string(ctx.bos_token));
    globals.set("eos_token", Value::string(ctx.eos_token));
    globals.set("add_generation_prompt", Value::boolean(ctx.add_generation_prompt));
    chat::Evaluator evaluator;
    return evaluator.render(*program_, globals);
}

std::string render_plain_chat(const std::vector<ChatMessage>& messages,
                              bool add_generation_prompt) {
    std::string out;
    for (const ChatMessage& m : messages) {
        if (!out.empty()) out += "\n\n";
        std::string role;
        if (m.role == "system") {
            role = "System";
        } else if (m.role == "user") {
            role = "User";
        } else if (m.role == "assistant") {
            role = "Assistant";
        } else if (!m.role.empty()) {
            std::size_t len = 0;
            const char32_t first = chat::utf8::decode(m.role, 0, len);
            chat::utf8::append(role, chat::utf8::to_upper(first));
            role += m.role.substr(len);
        }
        out += role + ": " + m.content;
    }
    if (add_generation_prompt) {
        if (!out.empty()) out += "\n\n";
        out += "Assistant: ";
    }
    return out;
}

namespace {

RenderedChat render_chat_unnamed(std::string_view template_source,
                                 const std::vector<ChatMessage>& messages,
                                 const ChatTemplateContext& ctx);

}  // namespace

RenderedChat render_chat(std::string_view template_source, const std::vector<ChatMessage>& messages,
                         const ChatTemplateContext& ctx, std::string_view origin) {
    if (origin.empty()) return render_chat_unnamed(template_source, messages, ctx);
    const std::string prefix = std::string(origin) + ": ";
    try {
        RenderedChat r = render_chat_unnamed(template_source, messages, ctx);
        if (r.used_fallback) r.fallback_reason = prefix + r.fallback_reason;
        return r;
    } catch (const Error& e) {
        throw Error(e.kind(), prefix + e.what());
    }
}

namespace {

RenderedChat render_chat_unnamed(std::string_view template_source,
                                 const std::vector<ChatMessage>& messages,
                                 const ChatTemplateContext& ctx) {
    RenderedChat result;
    // `reason` says why the model's template is not used; the caller says what is used.
    const auto fallback = [&](std::string reason) {
        result.text = render_plain_chat(messages, ctx.add_generation_prompt);
        result.used_fallback = true;
        result.fallback_reason = std::move(reason);
        return result;
    };
    const auto unusable = [&](const Error& e, const char* failed) {
        if (e.kind() == ErrorKind::unsupported)
            return fallback(
                std::string("the model's chat template uses something not supported: ") + e.what());
        return fallback(std::string("the model's chat template ") + failed + ": " + e.what());
    };
    if (chat::utf8::trim(template_source).empty())
        return fallback("the model has no chat template");
    std::optional<ChatTemplate> compiled;
    try {
        compiled.emplace(ChatTemplate::compile(template_source));
    } catch (const chat::LimitExceeded&) {
        throw;  // a hostile or runaway template: the caller must see that
    } catch (const Error& e) {
        return unusable(e, "could not be read");
    }
    try {
        result.text = compiled->render(messages, ctx);
        return result;
    } catch (const chat::TemplateRaised&) {
        throw;  // the template rejects this conversation: the caller must see that
    } catch (const chat::LimitExceeded&) {
        throw;
    } catch (const Error& e) {
        return unusable(e, "failed");
    }
}

}  // namespace

}  // namespace meswitch
