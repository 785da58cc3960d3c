#include "chat/limits.h"

namespace meswitch::chat {
namespace {

thread_local RenderBudget* active_budget = nullptr;

std::uint32_t line_or_current(std::uint32_t line) {
    if (line != 0 || !active_budget) return line;
    return active_budget->line;
}

std::string mib(std::uint64_t bytes) {
    return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

LimitExceeded::LimitExceeded(std::uint32_t line, const std::string& what)
    : Error(ErrorKind::format, "chat template line " + std::to_string(line) + ": " + what) {}

void fail_limit(std::uint32_t line, const std::string& what) {
    throw LimitExceeded(line_or_current(line), what);
}

RenderBudget::Active::Active(RenderBudget& budget) : previous_(active_budget) {
    active_budget = &budget;
}

RenderBudget::Active::~Active() {
    active_budget = previous_;
}

RenderBudget* current_budget() {
    return active_budget;
}

void charge_steps(std::uint64_t n) {
    RenderBudget* b = active_budget;
    if (!b) return;
    b->steps += n;
    if (b->steps > limits::steps)
        fail_limit(b->line, "the template runs too long (over " +
                                std::to_string(limits::steps / 1'000'000) + " million steps)");
}

void charge_scan(std::size_t bytes) {
    if (bytes >= 256) charge_steps(bytes / 256);
}

void charge_built(std::size_t bytes) {
    RenderBudget* b = active_budget;
    if (!b) return;
    b->built += bytes;
    if (b->built > limits::built_bytes)
        fail_limit(b->line, "the template builds too much data (over " + mib(limits::built_bytes) +
                                " of strings and lists)");
}

void check_string_size(std::size_t bytes, std::uint32_t line) {
    if (bytes > limits::string_bytes)
        fail_limit(line, "a string would be longer than " + mib(limits::string_bytes));
}

void check_list_size(std::size_t items, std::uint32_t line) {
    if (items > limits::list_items)
        fail_limit(line,
                   "a list would have more than " + std::to_string(limits::list_items) + " items");
}

}  // namespace meswitch::chat
