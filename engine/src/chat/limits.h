// Hard limits of the chat-template interpreter. A model's chat template is untrusted input
// (it comes with a downloaded model), so no template may crash the process, hang it or eat
// its memory: past any limit below, compiling or rendering throws LimitExceeded naming the
// template line and the limit. The values leave real templates (Llama 3, Mistral, Qwen2,
// Gemma, ChatML, ... in tests/chat/data) a wide margin: they nest about 10 levels deep, and
// a 2,000-message conversation of 1 MB takes them at most 140,000 steps and 4 MB of built
// data (a few hundred steps for the short test conversations).
#pragma once

#include "meswitch/error.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace meswitch::chat {

namespace limits {
// Parser recursion: blocks, elif branches, expressions inside brackets (parentheses, lists,
// dicts, arguments, subscripts) and unary operators inside each other. With render_depth,
// it keeps a hostile template within about 512 KiB of stack, well inside a thread's (measured
// in a RelWithDebInfo build: a level of brackets takes about 3.5 KiB of parser frames, a
// nested for loop about 0.9 KiB of evaluator frames).
constexpr int parse_nesting = 128;
// Height of one expression tree, chains included: `1+1+...`, `a.b.c...`, `x|f|f...`,
// `x[0][0]...`, `f()()...`, `x is t is t...`, `not not ...`.
constexpr int expression_depth = 256;
// Evaluator recursion: expressions, blocks and macro calls inside each other while rendering.
constexpr int render_depth = 512;
// Macro calls inside each other (a macro calling itself).
constexpr int macro_depth = 64;
// Lists, dicts and namespaces inside each other, where a value is compared or written as JSON.
constexpr int value_depth = 256;
// Work of one render: expressions evaluated, loop iterations, macro calls, items of lists
// copied or compared, and one step per 256 bytes of text copied, compared or scanned.
constexpr std::uint64_t steps = 10'000'000;
// The rendered text (also the text of a {% set %} block or a macro call).
constexpr std::size_t output_bytes = std::size_t{16} << 20;
// One string value (concatenation, repetition, join, replace, indent, tojson, ...).
constexpr std::size_t string_bytes = std::size_t{16} << 20;
// Items of one list (range(), list concatenation, ...).
constexpr std::size_t list_items = 1'000'000;
// Bytes of strings and list, dict and namespace items built during one render, in all.
constexpr std::uint64_t built_bytes = std::uint64_t{256} << 20;
}  // namespace limits

// A template past one of the limits. what() is "chat template line N: <what went too far>".
class LimitExceeded : public Error {
public:
    LimitExceeded(std::uint32_t line, const std::string& what);
};

[[noreturn]] void fail_limit(std::uint32_t line, const std::string& what);

// The work and memory of the render running on this thread. Evaluator::render installs one
// (RenderBudget::Active); the helpers below do nothing when no render runs, so values built
// outside a render (a conversation's messages, unit tests) are not charged.
class RenderBudget {
public:
    class Active {
    public:
        explicit Active(RenderBudget& budget);
        ~Active();
        Active(const Active&) = delete;
        Active& operator=(const Active&) = delete;

    private:
        RenderBudget* previous_;
    };

    std::uint32_t line = 0;  // the statement or expression being evaluated, for errors
    std::uint64_t steps = 0;
    std::uint64_t built = 0;
};

RenderBudget* current_budget();  // nullptr outside a render

// One or more steps of work (limits::steps).
void charge_steps(std::uint64_t n);
// Text copied, compared or scanned: one step per 256 bytes.
void charge_scan(std::size_t bytes);
// A value built: its bytes count towards limits::built_bytes.
void charge_built(std::size_t bytes);
// Fails when a string of `bytes` would be longer than limits::string_bytes. `line` 0: the
// line the current render is at.
void check_string_size(std::size_t bytes, std::uint32_t line);
void check_list_size(std::size_t items, std::uint32_t line);

}  // namespace meswitch::chat
