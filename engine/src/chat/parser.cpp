#include "chat/parser.h"

#include "chat/errors.h"
#include "chat/filters.h"
#include "chat/limits.h"
#include "chat/predicates.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string_view>

namespace meswitch::chat {
namespace {

// Statements of Jinja that this interpreter does not implement.
constexpr std::string_view kUnsupportedStatements[] = {
    "call", "filter", "include", "import",     "from",  "extends", "block",
    "raw",  "with",   "do",      "autoescape", "trans", "endcall", "endfilter",
};

// Closing tags, reported as "unexpected" when no open block expects them.
constexpr std::string_view kClosingStatements[] = {
    "endif", "endfor", "endmacro", "endset", "else", "elif", "endblock", "endwith", "endraw",
};

template <typename Range>
bool contains(const Range& range, std::string_view name) {
    for (std::string_view n : range)
        if (n == name) return true;
    return false;
}

class Parser {
public:
    explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

    Program run() {
        Program program;
        while (pos_ < t_.size()) {
            if (StmtPtr s = parse_any()) program.body.push_back(std::move(s));
        }
        return program;
    }

private:
    // ---- token helpers ----
    bool at_end() const { return pos_ >= t_.size(); }
    std::uint32_t line() const {
        if (pos_ < t_.size()) return t_[pos_].line;
        return t_.empty() ? 1 : t_.back().line;
    }
    bool is(Tok type, std::size_t ahead = 0) const {
        return pos_ + ahead < t_.size() && t_[pos_ + ahead].type == type;
    }
    bool is_name(std::string_view name, std::size_t ahead = 0) const {
        return is(Tok::identifier, ahead) && t_[pos_ + ahead].value == name;
    }
    bool is_statement(std::initializer_list<std::string_view> names) const {
        if (!is(Tok::open_statement) || !is(Tok::identifier, 1)) return false;
        for (std::string_view n : names)
            if (t_[pos_ + 1].value == n) return true;
        return false;
    }
    std::string found() const {
        if (at_end()) return "the end of the template";
        const Token& tok = t_[pos_];
        if (tok.type == Tok::identifier || tok.type == Tok::additive ||
            tok.type == Tok::multiplicative || tok.type == Tok::comparison)
            return "'" + tok.value + "'";
        return describe(tok.type);
    }
    [[noreturn]] void syntax_error(const std::string& what) const {
        fail(ErrorKind::format, line(), what);
    }
    const Token& expect(Tok type, const char* context) {
        if (!is(type))
            syntax_error(std::string("expected ") + describe(type) + " " + context + ", found " +
                         found());
        return t_[pos_++];
    }
    void expect_name(std::string_view name, const char* context) {
        if (!is_name(name))
            syntax_error("expected '" + std::string(name) + "' " + context + ", found " + found());
        ++pos_;
    }

    // One level of parser recursion (limits::parse_nesting).
    struct DepthGuard {
        Parser& p;
        explicit DepthGuard(Parser& parser) : p(parser) {
            if (p.depth_ >= limits::parse_nesting)
                fail_limit(p.line(), "the template nests too deeply to parse (over " +
                                         std::to_string(limits::parse_nesting) +
                                         " levels of blocks, brackets or unary operators)");
            ++p.depth_;
        }
        ~DepthGuard() { --p.depth_; }
        DepthGuard(const DepthGuard&) = delete;
        DepthGuard& operator=(const DepthGuard&) = delete;
    };

    // Sets e's height from its children, failing past limits::expression_depth: chains like
    // 1+1+...+1 or x|f|f|... are built by loops, not recursion, so only this bounds them (and
    // the evaluator's recursion and the tree's destructor with them). Returns e.
    Expr& seal(Expr& e) const {
        int below = 0;
        for (const auto& child : e.children)
            if (child) below = std::max(below, child->height);
        for (const auto& [name, value] : e.kwargs) below = std::max(below, value->height);
        e.height = below + 1;
        if (e.height > limits::expression_depth)
            fail_limit(e.line, "expression nested too deeply (over " +
                                   std::to_string(limits::expression_depth) +
                                   " levels of operators, filters, tests, attributes, subscripts, "
                                   "calls or brackets)");
        return e;
    }

    // ---- statements ----
    StmtPtr parse_any() {
        const Token& tok = t_[pos_];
        switch (tok.type) {
            case Tok::comment:
                ++pos_;
                return nullptr;
            case Tok::text: {
                auto s = make_stmt(StmtKind::text);
                s->text = tok.value;
                ++pos_;
                return s;
            }
            case Tok::open_statement:
                return parse_statement();
            case Tok::open_expression: {
                auto s = make_stmt(StmtKind::output);
                ++pos_;
                s->expr = parse_expression();
                expect(Tok::close_expression, "to close the expression");
                return s;
            }
            default:
                syntax_error("unexpected " + found() + " outside a tag");
        }
    }

    StmtPtr make_stmt(StmtKind kind) {
        auto s = std::make_unique<Stmt>();
        s->kind = kind;
        s->line = line();
        return s;
    }

    // Parses statements until one of `names` opens the next tag (not consumed); `closer` is
    // the tag that finally closes the block, for the error when the template ends first.
    Block parse_until(std::initializer_list<std::string_view> names, const char* opened,
                      const char* closer, std::uint32_t opened_line) {
        DepthGuard guard(*this);
        open_.push_back({opened, opened_line});
        Block block;
        while (!is_statement(names)) {
            if (at_end())
                fail(ErrorKind::format, opened_line,
                     std::string("{% ") + opened + " %} is never closed (expected {% " + closer +
                         " %} before the end of the template)");
            if (StmtPtr s = parse_any()) block.push_back(std::move(s));
        }
        open_.pop_back();
        return block;
    }

    void expect_end_tag(std::string_view name) {
        expect(Tok::open_statement, "");
        expect_name(name, "");
        expect(Tok::close_statement, ("after " + std::string(name)).c_str());
    }

    StmtPtr parse_statement() {
        const std::uint32_t at = line();
        ++pos_;  // {%
        if (!is(Tok::identifier))
            syntax_error("expected a statement name after '{%', found " + found());
        const std::string name = t_[pos_].value;
        if (contains(kUnsupportedStatements, name))
            fail(ErrorKind::unsupported, at, "the {% " + name + " %} statement is not supported");
        if (contains(kClosingStatements, name)) {
            if (open_.empty())
                fail(ErrorKind::format, at, "unexpected {% " + name + " %} (no block is open)");
            fail(ErrorKind::format, at,
                 "unexpected {% " + name + " %}: the {% " + open_.back().first +
                     " %} opened at line " + std::to_string(open_.back().second) +
                     " is not closed");
        }
        ++pos_;
        if (name == "set") return parse_set(at);
        if (name == "if") {
            StmtPtr s = parse_if(at);
            expect_end_tag("endif");
            return s;
        }
        if (name == "for") return parse_for(at);
        if (name == "macro") return parse_macro(at);
        if (name == "break" || name == "continue") {
            if (loop_depth_ == 0)
                fail(ErrorKind::format, at, "{% " + name + " %} outside a for loop");
            expect(Tok::close_statement, ("after " + name).c_str());
            auto s = std::make_unique<Stmt>();
            s->kind = name == "break" ? StmtKind::break_ : StmtKind::continue_;
            s->line = at;
            return s;
        }
        fail(ErrorKind::format, at, "unknown statement {% " + name + " %}");
    }

    StmtPtr parse_set(std::uint32_t at) {
        auto s = std::make_unique<Stmt>();
        s->line = at;
        s->target = parse_expression_sequence(false);
        check_assignable(*s->target, at);
        if (is(Tok::equals)) {
            ++pos_;
            s->kind = StmtKind::set;
            s->expr = parse_expression_sequence(false);
            expect(Tok::close_statement, "after the value of set");
        } else {
            s->kind = StmtKind::set_block;
            expect(Tok::close_statement, "after the name in {% set %}");
            s->body = parse_until({"endset"}, "set", "endset", at);
            expect_end_tag("endset");
        }
        return s;
    }

    void check_assignable(const Expr& target, std::uint32_t at) const {
        if (target.kind == ExprKind::identifier) return;
        if (target.kind == ExprKind::attribute && target.children[0]->kind == ExprKind::identifier)
            return;
        if (target.kind == ExprKind::tuple) {
            for (const auto& item : target.children)
                if (item->kind != ExprKind::identifier)
                    fail(ErrorKind::format, at, "can only unpack into plain names");
            return;
        }
        fail(ErrorKind::format, at,
             "can only assign to a name, a tuple of names or namespace.attribute");
    }

    StmtPtr parse_if(std::uint32_t at) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::if_;
        s->line = at;
        s->expr = parse_expression();
        expect(Tok::close_statement, "after the condition of if");
        s->body = parse_until({"elif", "else", "endif"}, "if", "endif", at);
        if (is_statement({"elif"})) {
            const std::uint32_t elif_line = line();
            pos_ += 2;
            DepthGuard guard(*this);  // each elif is an if nested in the else branch
            s->else_body.push_back(parse_if(elif_line));
        } else if (is_statement({"else"})) {
            pos_ += 2;
            expect(Tok::close_statement, "after else");
            s->else_body = parse_until({"endif"}, "if", "endif", at);
        }
        return s;
    }

    StmtPtr parse_for(std::uint32_t at) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::for_;
        s->line = at;
        s->target = parse_expression_sequence(true);
        if (s->target->kind != ExprKind::identifier) check_assignable(*s->target, at);
        if (s->target->kind == ExprKind::attribute)
            fail(ErrorKind::format, at, "a for loop variable must be a name or a tuple of names");
        expect_name("in", "after the for loop variable");
        ExprPtr iterable = parse_expression();
        if (iterable->kind == ExprKind::select) {
            s->condition = std::move(iterable->children[1]);
            s->expr = std::move(iterable->children[0]);
        } else {
            s->expr = std::move(iterable);
        }
        if (is_name("recursive"))
            fail(ErrorKind::unsupported, at, "recursive for loops are not supported");
        expect(Tok::close_statement, "after the for loop header");
        ++loop_depth_;
        s->body = parse_until({"endfor", "else"}, "for", "endfor", at);
        --loop_depth_;
        if (is_statement({"else"})) {
            pos_ += 2;
            expect(Tok::close_statement, "after else");
            s->else_body = parse_until({"endfor"}, "for", "endfor", at);
        }
        expect_end_tag("endfor");
        return s;
    }

    StmtPtr parse_macro(std::uint32_t at) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::macro;
        s->line = at;
        s->text = expect(Tok::identifier, "after macro").value;
        expect(Tok::lparen, "after the macro name");
        bool seen_default = false;
        while (!is(Tok::rparen)) {
            const std::string param = expect(Tok::identifier, "as a macro parameter").value;
            for (const auto& [existing, _] : s->params)
                if (existing == param)
                    fail(ErrorKind::format, at, "duplicate macro parameter '" + param + "'");
            ExprPtr default_value;
            if (is(Tok::equals)) {
                ++pos_;
                default_value = parse_expression();
                seen_default = true;
            } else if (seen_default) {
                fail(
                    ErrorKind::format, at,
                    "macro parameter '" + param + "' without a default follows one with a default");
            }
            s->params.emplace_back(param, std::move(default_value));
            if (!is(Tok::comma)) break;
            ++pos_;
        }
        expect(Tok::rparen, "to close the macro parameters");
        expect(Tok::close_statement, "after the macro header");
        const int saved_loops = loop_depth_;
        loop_depth_ = 0;  // break/continue cannot leave a macro
        s->body = parse_until({"endmacro"}, "macro", "endmacro", at);
        loop_depth_ = saved_loops;
        expect_end_tag("endmacro");
        return s;
    }

    // ---- expressions ----
    ExprPtr make(ExprKind kind, std::uint32_t at) {
        auto e = std::make_unique<Expr>();
        e->kind = kind;
        e->line = at;
        return e;
    }
    ExprPtr make(ExprKind kind, std::uint32_t at, std::string name, ExprPtr a,
                 ExprPtr b = nullptr) {
        auto e = make(kind, at);
        e->name = std::move(name);
        e->children.push_back(std::move(a));
        if (b) e->children.push_back(std::move(b));
        seal(*e);
        return e;
    }

    ExprPtr parse_expression_sequence(bool primary) {
        const std::uint32_t at = line();
        ExprPtr first = primary ? parse_primary() : parse_expression();
        if (!is(Tok::comma)) return first;
        auto tuple = make(ExprKind::tuple, at);
        tuple->children.push_back(std::move(first));
        while (is(Tok::comma)) {
            ++pos_;
            if (is(Tok::close_statement) || is(Tok::rparen) || is_name("in") || is(Tok::equals))
                break;  // trailing comma
            tuple->children.push_back(primary ? parse_primary() : parse_expression());
        }
        seal(*tuple);
        return tuple;
    }

    ExprPtr parse_expression() {
        DepthGuard guard(*this);
        const std::uint32_t at = line();
        ExprPtr value = parse_or();
        if (!is_name("if")) return value;
        ++pos_;
        ExprPtr condition = parse_or();
        if (is_name("else")) {
            ++pos_;
            auto e = make(ExprKind::conditional, at);
            e->children.push_back(std::move(condition));
            e->children.push_back(std::move(value));
            e->children.push_back(parse_expression());
            seal(*e);
            return e;
        }
        return make(ExprKind::select, at, "", std::move(value), std::move(condition));
    }

    ExprPtr parse_or() {
        ExprPtr left = parse_and();
        while (is_name("or")) {
            const std::uint32_t at = line();
            ++pos_;
            left = make(ExprKind::binary, at, "or", std::move(left), parse_and());
        }
        return left;
    }

    ExprPtr parse_and() {
        ExprPtr left = parse_not();
        while (is_name("and")) {
            const std::uint32_t at = line();
            ++pos_;
            left = make(ExprKind::binary, at, "and", std::move(left), parse_not());
        }
        return left;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard guard(*this);
            const std::uint32_t at = line();
            ++pos_;
            return make(ExprKind::unary, at, "not", parse_not());
        }
        return parse_comparison();
    }

    ExprPtr parse_comparison() {
        ExprPtr left = parse_additive();
        while (true) {
            const std::uint32_t at = line();
            std::string op;
            if (is_name("not") && is_name("in", 1)) {
                op = "not in";
                pos_ += 2;
            } else if (is_name("in")) {
                op = "in";
                ++pos_;
            } else if (is(Tok::comparison)) {
                op = t_[pos_++].value;
            } else {
                return left;
            }
            left = make(ExprKind::binary, at, op, std::move(left), parse_additive());
        }
    }

    ExprPtr parse_additive() {
        ExprPtr left = parse_multiplicative();
        while (is(Tok::additive)) {
            const std::uint32_t at = line();
            const std::string op = t_[pos_++].value;
            left = make(ExprKind::binary, at, op, std::move(left), parse_multiplicative());
        }
        return left;
    }

    ExprPtr parse_multiplicative() {
        ExprPtr left = parse_power();
        while (is(Tok::multiplicative)) {
            const std::uint32_t at = line();
            const std::string op = t_[pos_++].value;
            left = make(ExprKind::binary, at, op, std::move(left), parse_power());
        }
        return left;
    }

    ExprPtr parse_power() {
        ExprPtr left = parse_test();
        while (is(Tok::power)) {
            const std::uint32_t at = line();
            ++pos_;
            left = make(ExprKind::binary, at, "**", std::move(left), parse_test());
        }
        return left;
    }

    ExprPtr parse_test() {
        ExprPtr operand = parse_filter();
        while (is_name("is")) {
            const std::uint32_t at = line();
            ++pos_;
            const bool negate = is_name("not");
            if (negate) ++pos_;
            const std::string name =
                expect(Tok::identifier, "as the name of a test after 'is'").value;
            if (!is_known_test(name))
                fail(ErrorKind::unsupported, at, "the test '" + name + "' is not supported");
            auto e = make(ExprKind::test, at, name, std::move(operand));
            e->negate = negate;
            if (is(Tok::lparen)) {
                parse_arguments(*e);
            } else if (is(Tok::number) || is(Tok::string)) {
                e->children.push_back(parse_primary());  // "is divisibleby 3"
            }
            seal(*e);
            operand = std::move(e);
        }
        return operand;
    }

    ExprPtr parse_filter() {
        ExprPtr operand = parse_unary_sign();
        while (is(Tok::pipe)) {
            const std::uint32_t at = line();
            ++pos_;
            const std::string name =
                expect(Tok::identifier, "as the name of a filter after '|'").value;
            if (!is_known_filter(name))
                fail(ErrorKind::unsupported, at, "the filter '" + name + "' is not supported");
            auto e = make(ExprKind::filter, at, name, std::move(operand));
            if (is(Tok::lparen)) parse_arguments(*e);
            seal(*e);
            operand = std::move(e);
        }
        return operand;
    }

    ExprPtr parse_unary_sign() {
        if ((is(Tok::unary) || is(Tok::additive)) &&
            (t_[pos_].value == "-" || t_[pos_].value == "+")) {
            DepthGuard guard(*this);
            const std::uint32_t at = line();
            const std::string op = t_[pos_++].value;
            return make(ExprKind::unary, at, op, parse_unary_sign());
        }
        return parse_postfix(parse_primary());
    }

    // Attribute access, subscripts, slices and calls, left to right.
    ExprPtr parse_postfix(ExprPtr object) {
        while (true) {
            const std::uint32_t at = line();
            if (is(Tok::dot)) {
                ++pos_;
                if (is(Tok::identifier)) {
                    object = make(ExprKind::attribute, at, t_[pos_++].value, std::move(object));
                } else if (is(Tok::number)) {
                    ExprPtr index = parse_primary();
                    if (index->value.kind() != Value::Kind::integer)
                        syntax_error("expected a name or an integer after '.'");
                    object = make(ExprKind::subscript, at, "", std::move(object), std::move(index));
                } else {
                    syntax_error("expected a name after '.', found " + found());
                }
            } else if (is(Tok::lbracket)) {
                ++pos_;
                object = parse_subscript(std::move(object), at);
            } else if (is(Tok::lparen)) {
                auto call = make(ExprKind::call, at, "", std::move(object));
                parse_arguments(*call);
                seal(*call);
                object = std::move(call);
            } else {
                return object;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr object, std::uint32_t at) {
        // [expr] or a slice [start:stop:step] with any part left out.
        std::vector<ExprPtr> parts;
        bool slice = false;
        parts.emplace_back();
        while (!is(Tok::rbracket)) {
            if (at_end()) syntax_error("expected ']' to close the subscript");
            if (is(Tok::colon)) {
                ++pos_;
                slice = true;
                parts.emplace_back();
                if (parts.size() > 3) syntax_error("a slice takes at most three parts");
                continue;
            }
            if (parts.back())
                syntax_error("expected ':' or ']' in the subscript, found " + found());
            parts.back() = parse_expression();
        }
        ++pos_;  // ]
        if (!slice) {
            if (!parts[0]) syntax_error("empty subscript '[]'");
            return make(ExprKind::subscript, at, "", std::move(object), std::move(parts[0]));
        }
        auto e = make(ExprKind::slice, at);
        e->children.push_back(std::move(object));
        parts.resize(3);
        for (auto& p : parts) e->children.push_back(std::move(p));
        seal(*e);
        return e;
    }

    // (positional..., name=value...)
    void parse_arguments(Expr& call) {
        expect(Tok::lparen, "");
        while (!is(Tok::rparen)) {
            if (at_end()) syntax_error("expected ')' to close the argument list");
            if (is(Tok::identifier) && is(Tok::equals, 1)) {
                std::string name = t_[pos_].value;
                pos_ += 2;
                call.kwargs.emplace_back(std::move(name), parse_expression());
            } else {
                if (!call.kwargs.empty())
                    syntax_error("positional argument after a keyword argument");
                if (is(Tok::multiplicative) || is(Tok::power))
                    fail(ErrorKind::unsupported, line(),
                         "argument unpacking (* and **) is not supported");
                call.children.push_back(parse_expression());
            }
            if (!is(Tok::comma)) break;
            ++pos_;
        }
        expect(Tok::rparen, "to close the argument list");
    }

    ExprPtr parse_primary() {
        if (at_end()) syntax_error("expected an expression, found the end of the template");
        const Token& tok = t_[pos_];
        const std::uint32_t at = tok.line;
        switch (tok.type) {
            case Tok::number: {
                ++pos_;
                auto e = make(ExprKind::literal, at);
                e->value = parse_number(tok.value, at);
                return e;
            }
            case Tok::string: {
                std::string value;
                while (is(Tok::string)) value += t_[pos_++].value;  // adjacent strings join
                auto e = make(ExprKind::literal, at);
                e->value = Value::string(std::move(value));
                return e;
            }
            case Tok::identifier: {
                ++pos_;
                auto e = make(ExprKind::identifier, at);
                e->name = tok.value;
                return e;
            }
            case Tok::lparen: {
                ++pos_;  // what it holds is parsed by parse_expression, which counts the level
                ExprPtr inner = parse_expression_sequence(false);
                expect(Tok::rparen, "to close the parenthesis");
                return inner;
            }
            case Tok::lbracket: {
                ++pos_;  // what it holds is parsed by parse_expression, which counts the level
                auto e = make(ExprKind::list, at);
                while (!is(Tok::rbracket)) {
                    e->children.push_back(parse_expression());
                    if (!is(Tok::comma)) break;
                    ++pos_;
                }
                expect(Tok::rbracket, "to close the list");
                seal(*e);
                return e;
            }
            case Tok::lbrace: {
                ++pos_;  // what it holds is parsed by parse_expression, which counts the level
                auto e = make(ExprKind::dict, at);
                while (!is(Tok::rbrace)) {
                    e->children.push_back(parse_expression());
                    expect(Tok::colon, "between a key and its value");
                    e->children.push_back(parse_expression());
                    if (!is(Tok::comma)) break;
                    ++pos_;
                }
                expect(Tok::rbrace, "to close the dict");
                seal(*e);
                return e;
            }
            default:
                syntax_error("expected an expression, found " + found());
        }
    }

    Value parse_number(const std::string& text, std::uint32_t at) const {
        const char* begin = text.data();
        const char* end = text.data() + text.size();
        if (*begin == '+') ++begin;
        if (text.find('.') != std::string::npos) {
            double d = 0;
            const auto r = std::from_chars(begin, end, d);
            if (r.ec != std::errc() || r.ptr != end)
                fail(ErrorKind::format, at, "invalid number '" + text + "'");
            return Value::floating(d);
        }
        std::int64_t i = 0;
        const auto r = std::from_chars(begin, end, i);
        if (r.ec != std::errc() || r.ptr != end)
            fail(ErrorKind::format, at, "integer '" + text + "' is out of range");
        return Value::integer(i);
    }

    const std::vector<Token>& t_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;
    std::vector<std::pair<std::string, std::uint32_t>> open_;  // open blocks, innermost last
};

}  // namespace

Program parse(const std::vector<Token>& tokens) {
    return Parser(tokens).run();
}

}  // namespace meswitch::chat
