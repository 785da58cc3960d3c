// A hostile chat template (it ships with a downloaded model) cannot crash, hang or exhaust
// the process: chains and nesting past the limits of engine/src/chat/limits.h, runaway loops,
// recursion and output or memory bombs each fail with an error naming the line and the limit.
// Also: what stays within the limits still renders (on a small thread stack too), and the
// CLI reports a hostile template of a model folder instead of dying of SIGSEGV.
#include "chat/limits.h"
#include "meswitch/chat_template.h"
#include "meswitch/error.h"
#include "test_support.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

using meswitch::ChatMessage;
using meswitch::ChatTemplate;
using meswitch::ChatTemplateContext;
using meswitch::Error;
using meswitch::ErrorKind;
namespace limits = meswitch::chat::limits;

namespace {

const std::vector<ChatMessage> kChat = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}};

std::string repeat(const std::string& s, int n) {
    std::string out;
    out.reserve(s.size() * static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

// first, then `link` n times: chain("1", "+1", 3) is "1+1+1+1".
std::string chain(const std::string& first, const std::string& link, int n) {
    return first + repeat(link, n);
}

std::string render(const std::string& source, const std::vector<ChatMessage>& messages = kChat) {
    return ChatTemplate::compile(source).render(messages, {});
}

// Compiles and renders `source`: it must fail with LimitExceeded (an Error(format)) whose
// message names a line and contains `needle`; render_chat must rethrow it rather than fall
// back to the plain format. Returns the message.
std::string expect_limit(const std::string& source, const std::string& needle) {
    std::string message;
    try {
        render(source);
    } catch (const meswitch::chat::LimitExceeded& e) {
        message = e.what();
        if (e.kind() != ErrorKind::format) return "wrong kind: " + message;
    } catch (const std::exception& e) {
        return std::string("not a LimitExceeded: ") + e.what();
    }
    if (message.empty()) return "no error";
    if (message.rfind("chat template line ", 0) != 0) return "no line: " + message;
    if (message.find(needle) == std::string::npos) return "no '" + needle + "': " + message;
    try {
        const meswitch::RenderedChat chat = meswitch::render_chat(source, kChat, {});
        return "render_chat fell back: " + chat.fallback_reason;
    } catch (const meswitch::chat::LimitExceeded& e) {
        if (std::string(e.what()) != message) return std::string("render_chat: ") + e.what();
    }
    return {};
}

#define EXPECT_LIMIT(source, needle)                                              \
    do {                                                                          \
        const std::string problem_ = expect_limit((source), (needle));            \
        QVERIFY2(problem_.empty(), qPrintable(QString::fromStdString(problem_))); \
    } while (false)

const char* const kDeep = "too deeply";

// Runs fn on a thread with a stack of `bytes` (a Qt worker thread's is often smaller than the
// main thread's 8 MiB: 512 KiB on macOS, 1 MiB on Windows). Returns fn's error, if any.
std::string on_small_stack(std::size_t bytes, const std::function<void()>& fn) {
    std::string error;
    QThread* thread = QThread::create([&] {
        try {
            fn();
        } catch (const std::exception& e) {
            error = e.what();
        }
    });
    thread->setStackSize(static_cast<uint>(bytes));
    thread->start();
    thread->wait();
    delete thread;
    return error;
}

}  // namespace

class TestChatTemplateLimits : public QObject {
    Q_OBJECT

private slots:
    void long_sum_is_refused();
    void every_kind_of_chain_is_refused_data();
    void every_kind_of_chain_is_refused();
    void deep_brackets_and_blocks_are_refused_data();
    void deep_brackets_and_blocks_are_refused();
    void chains_within_the_limit_render();
    void recursion_is_refused();
    void runaway_loops_are_refused();
    void output_and_memory_bombs_are_refused();
    void deep_values_are_refused_not_crashing();
    void limits_fit_a_small_thread_stack();
    void real_templates_render_long_conversations();
    void messages_stay_short();
    void fallback_reason_says_it_once();
    void cli_reports_a_hostile_template();
};

void TestChatTemplateLimits::long_sum_is_refused() {
    // The reported crash: {{ 1+1+...+1 }} with 30,000 terms.
    const std::string source = "{{ " + chain("1", "+1", 29'999) + " }}";
    EXPECT_LIMIT(source, "expression nested too deeply (over 256 levels");
    EXPECT_LIMIT("a\nb\n{{ " + chain("1", "+1", 29'999) + " }}", "line 3:");
    // Compiling alone fails the same way.
    QVERIFY_THROWS_EXCEPTION(meswitch::chat::LimitExceeded, ChatTemplate::compile(source));
}

void TestChatTemplateLimits::every_kind_of_chain_is_refused_data() {
    QTest::addColumn<std::string>("source");
    const int n = 30'000;
    const auto expr = [](const std::string& e) { return "{{ " + e + " }}"; };
    QTest::newRow("minus") << expr(chain("1", " - 1", n));
    QTest::newRow("times") << expr(chain("1", " * 1", n));
    QTest::newRow("floor division") << expr(chain("1", " // 1", n));
    QTest::newRow("power") << expr(chain("1", " ** 1", n));
    QTest::newRow("concat ~") << expr(chain("'a'", " ~ 'a'", n));
    QTest::newRow("comparison") << expr(chain("1", " < 1", n));
    QTest::newRow("equality") << expr(chain("1", " == 1", n));
    QTest::newRow("in") << expr(chain("'a'", " in 'a'", n));
    QTest::newRow("and") << expr(chain("true", " and true", n));
    QTest::newRow("or") << expr(chain("false", " or false", n));
    QTest::newRow("not") << expr(chain("", "not ", n) + "1");
    QTest::newRow("unary minus") << expr(chain("", "- ", n) + "1");
    QTest::newRow("unary plus") << expr(chain("", "+", n) + "1");
    QTest::newRow("attribute") << expr(chain("messages", ".content", n));
    QTest::newRow("subscript") << expr(chain("messages", "[0]", n));
    QTest::newRow("string subscript") << expr(chain("messages", "['role']", n));
    QTest::newRow("slice") << expr(chain("messages", "[1:]", n));
    QTest::newRow("call") << expr(chain("range", "()", n));
    QTest::newRow("method call") << expr(chain("'a'", ".strip()", n));
    QTest::newRow("filter") << expr(chain("'a'", "|trim", n));
    QTest::newRow("filter with arguments") << expr(chain("'a'", "|replace('a', 'b')", n));
    QTest::newRow("test") << expr(chain("1", " is defined", n));
    QTest::newRow("test with argument") << expr(chain("1", " is divisibleby(1)", n));
    QTest::newRow("conditional") << expr(chain("1", " if true else 1", n));
    QTest::newRow("in a statement") << "{% set x = " + chain("1", "+1", n) + " %}";
    QTest::newRow("in a for loop")
        << "{% for x in " + chain("messages", "[1:]", n) + " %}{% endfor %}";
    QTest::newRow("mixed") << expr(chain("x", ".a[0]|trim is defined ~ x", n / 4));
    QTest::newRow("in an argument") << expr("range(" + chain("1", "+1", n) + ")");
    QTest::newRow("in a list") << expr("[" + chain("1", "+1", n) + "]");
    QTest::newRow("in a macro default")
        << "{% macro m(a=" + chain("1", "+1", n) + ") %}{% endmacro %}";
}

void TestChatTemplateLimits::every_kind_of_chain_is_refused() {
    QFETCH(std::string, source);
    EXPECT_LIMIT(source, kDeep);
}

void TestChatTemplateLimits::deep_brackets_and_blocks_are_refused_data() {
    QTest::addColumn<std::string>("source");
    QTest::addColumn<std::string>("needle");
    const int n = 100'000;
    const std::string blocks = "nests too deeply to parse (over 128 levels";
    QTest::newRow("parentheses") << "{{ " + repeat("(", n) + "1" + repeat(")", n) + " }}" << blocks;
    QTest::newRow("unclosed parentheses") << "{{ " + repeat("(", n) << blocks;
    QTest::newRow("list literal") << "{{ " + repeat("[", n) + repeat("]", n) + " }}" << blocks;
    QTest::newRow("dict literal") << "{{ " + repeat("{'a': ", n) + "1" + repeat("}", n) + " }}"
                                  << blocks;
    QTest::newRow("call arguments")
        << "{{ " + repeat("range(", n) + "1" + repeat(")", n) + " }}" << blocks;
    QTest::newRow("if blocks") << repeat("{% if true %}", n) + "x" + repeat("{% endif %}", n)
                               << blocks;
    QTest::newRow("for loops") << repeat("{% for m in messages %}", n) + repeat("{% endfor %}", n)
                               << blocks;
    QTest::newRow("set blocks") << repeat("{% set x %}", n) + repeat("{% endset %}", n) << blocks;
    QTest::newRow("macros") << repeat("{% macro m() %}", n) + repeat("{% endmacro %}", n) << blocks;
    QTest::newRow("elif branches")
        << "{% if false %}" + repeat("{% elif false %}", n) + "{% endif %}" << blocks;
    QTest::newRow("unclosed if blocks") << repeat("{% if true %}", n) << blocks;
}

void TestChatTemplateLimits::deep_brackets_and_blocks_are_refused() {
    QFETCH(std::string, source);
    QFETCH(std::string, needle);
    EXPECT_LIMIT(source, needle);
}

void TestChatTemplateLimits::chains_within_the_limit_render() {
    // Long chains are fine as long as the tree stays within 256 levels.
    QCOMPARE(render("{{ " + chain("1", "+1", 200) + " }}"), std::string("201"));
    QCOMPARE(render("{{ " + chain("'a'", "|trim", 250) + " }}"), std::string("a"));
    QCOMPARE(render("{{ " + repeat("(", 120) + "7" + repeat(")", 120) + " }}"), std::string("7"));
    QCOMPARE(render("{% if false %}" + repeat("{% elif false %}", 120) + "{% else %}e{% endif %}"),
             std::string("e"));
    // A wide expression is not a deep one: 30,000 list items, 5,000 elif-free ifs in a row.
    QCOMPARE(render("{{ [" + chain("1", ", 1", 29'999) + "]|length }}"), std::string("30000"));
    QCOMPARE(render(repeat("{% if true %}x{% endif %}", 5000)), repeat("x", 5000));
}

void TestChatTemplateLimits::recursion_is_refused() {
    EXPECT_LIMIT("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
                 "macro calls nested too deeply (over 64 levels");
    EXPECT_LIMIT("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\n{{ f(0) }}",
                 "macro calls nested too deeply");
    EXPECT_LIMIT(
        "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}",
        "macro calls nested too deeply");
    // Recursion through the macro's own default argument.
    EXPECT_LIMIT("{% macro f(x=f()) %}{% endmacro %}{{ f() }}", "macro calls nested too deeply");
    // A macro whose body nests 120 blocks, recursing: within the macro limit, the renderer's
    // own depth limit stops it.
    EXPECT_LIMIT("{% macro f() %}" + repeat("{% if true %}", 120) + "{{ f() }}" +
                     repeat("{% endif %}", 120) + "{% endmacro %}{{ f() }}",
                 "nests too deeply while rendering (over 512 levels");
    // A filter that applies filters: map('map', 'map', ..., 'trim') over a string.
    EXPECT_LIMIT("{{ 'a'|map(" + repeat("'map', ", 30'000) + "'trim')|list }}",
                 "map('map', ...) nested too deeply (over 256 levels)");
    QCOMPARE(render("{{ ['a ', ' b']|map('map', 'trim')|map('join')|join(',') }}"),
             std::string("a,b"));
    // Recursion that ends in time still works.
    QCOMPARE(render("{% macro count(n) %}{{ n }}{% if n > 0 %}{{ count(n - 1) }}{% endif %}"
                    "{% endmacro %}{{ count(10) }}"),
             std::string("109876543210"));
}

void TestChatTemplateLimits::runaway_loops_are_refused() {
    QElapsedTimer timer;
    timer.start();
    EXPECT_LIMIT("{% for i in range(999999999) %}x{% endfor %}",
                 "range() would have more than 1000000 items");
    EXPECT_LIMIT(
        "{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}",
        "runs too long (over 10 million steps)");
    EXPECT_LIMIT(
        "{% for i in range(1000000) %}{% for j in range(1000000) %}{% for k in "
        "range(1000000) %}{{ k }}{% endfor %}{% endfor %}{% endfor %}",
        "runs too long");
    // Work that loops do inside one expression counts too: copying or comparing a long list
    // or string over and over.
    EXPECT_LIMIT(
        "{% set r = range(1000000) %}{% for i in r %}{{ r|length }}{{ i in r }}{% endfor %}",
        "runs too long");
    EXPECT_LIMIT("{{ range(1000000)|unique|length }}", "runs too long");
    EXPECT_LIMIT("{% set s = 'a' * 10000000 %}{% for i in range(1000000) %}{{ s[5] }}{% endfor %}",
                 "runs too long");
    EXPECT_LIMIT(
        "{% set s = 'a' * 10000000 %}{% for i in range(1000000) %}{% if s == s %}"
        "{% endif %}{% endfor %}",
        "runs too long");
    EXPECT_LIMIT(
        "{% set ns = namespace(a=[]) %}{% set r = range(1000000) %}{% for i in r %}"
        "{% set ns.a = r %}{% endfor %}",
        "runs too long");
    // A runaway template is stopped in seconds, not minutes.
    QVERIFY2(timer.elapsed() < 60'000, qPrintable(QString::number(timer.elapsed())));
}

void TestChatTemplateLimits::output_and_memory_bombs_are_refused() {
    EXPECT_LIMIT("{% for i in range(1000000) %}{{ 'x' * 1000 }}{% endfor %}",
                 "output exceeds 16 MiB");
    EXPECT_LIMIT("{% for i in range(100000) %}" + repeat("y", 1000) + "{% endfor %}",
                 "output exceeds 16 MiB");
    EXPECT_LIMIT("{% set t %}{% for i in range(1000000) %}{{ 'x' * 1000 }}{% endfor %}{% endset %}",
                 "output exceeds 16 MiB");
    EXPECT_LIMIT("{{ 'a' * 10**9 }}", "a string would be longer than 16 MiB");
    EXPECT_LIMIT("{{ 10**9 * 'a' }}", "a string would be longer than 16 MiB");
    EXPECT_LIMIT("{{ ('a' * 1000000) * 1000000 }}", "a string would be longer than 16 MiB");
    // Doubling a string, a list, a list of long strings, a list holding itself twice.
    EXPECT_LIMIT(
        "{% set ns = namespace(s='ab') %}{% for i in range(100) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "a string would be longer than 16 MiB");
    EXPECT_LIMIT(
        "{% set ns = namespace(s='ab') %}{% for i in range(100) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "a string would be longer than 16 MiB");
    EXPECT_LIMIT(
        "{% set ns = namespace(l=[1]) %}{% for i in range(100) %}"
        "{% set ns.l = ns.l + ns.l %}{% endfor %}",
        "a list would have more than 1000000 items");
    EXPECT_LIMIT(
        "{% set ns = namespace(l=['x' * 10000000]) %}{% for i in range(100) %}"
        "{% set ns.l = ns.l + ns.l %}{% endfor %}",
        "builds too much data (over 256 MiB");
    // [x, x] shares x: small in memory, but twice as long in JSON and to compare each time.
    EXPECT_LIMIT(
        "{% set x = ['x' * 1000000] %}{% for i in range(100) %}{% set x = [x, x] %}"
        "{% if loop.last %}{{ x|tojson }}{% endif %}{% endfor %}",
        "a string would be longer than 16 MiB");
    EXPECT_LIMIT(
        "{% set x = [1] %}{% for i in range(100) %}{% set x = [x, x] %}"
        "{% if loop.last %}{{ x == x }}{% endif %}{% endfor %}",
        "runs too long");
    // Storing it in a namespace walks it (to refuse cycles): that walk is counted too.
    EXPECT_LIMIT(
        "{% set ns = namespace(l=[1]) %}{% for i in range(100) %}"
        "{% set ns.l = [ns.l, ns.l] %}{% endfor %}",
        "runs too long");
    // Filters and methods that grow text.
    EXPECT_LIMIT("{% set s = 'a' * 1000000 %}{{ s|replace('a', s) }}",
                 "a string would be longer than 16 MiB");
    EXPECT_LIMIT("{% set s = 'a' * 1000000 %}{{ s.replace('', s) }}",
                 "a string would be longer than 16 MiB");
    EXPECT_LIMIT("{% set s = '\\n' * 1000000 %}{{ s|indent('a' * 1000, blank=true) }}",
                 "a string would be longer than 16 MiB");
    EXPECT_LIMIT(
        "{% set l = ['a' * 1000000] %}{{ (l + l + l + l + l + l + l + l + l + l + l + l + "
        "l + l + l + l + l)|join(' ') }}",
        "a string would be longer than 16 MiB");
    EXPECT_LIMIT(
        "{% set s = 'a' * 1000000 %}{{ ' '.join([s, s, s, s, s, s, s, s, s, s, s, s, s, "
        "s, s, s, s]) }}",
        "a string would be longer than 16 MiB");
    EXPECT_LIMIT("{% set s = ('a ' * 4000000) %}{{ s.split(' ')|length }}",
                 "a list would have more than 1000000 items");
    EXPECT_LIMIT("{% set s = ('a' * 4000000) %}{{ s|list|length }}",
                 "a list would have more than 1000000 items");
    EXPECT_LIMIT("{% set l = range(1000000)|list %}{{ (l + [1])|length }}",
                 "a list would have more than 1000000 items");
    EXPECT_LIMIT("{{ range(1000000)|tojson(indent=64) }}", "a string would be longer than 16 MiB");
}

void TestChatTemplateLimits::deep_values_are_refused_not_crashing() {
    // A loop can wrap a value in a list 200,000 times without recursion in the template. The
    // value is destroyed without recursion (no stack overflow); what walks it recursively
    // (comparison, tojson, output) stops at 256 levels.
    const std::string wrap =
        "{% for i in range(200000) %}{% set x = [x] %}{% if loop.last %}{0}{% endif %}"
        "{% endfor %}done";
    const auto with = [&](const std::string& inner) {
        std::string s = wrap;
        s.replace(s.find("{0}"), 3, inner);
        return s;
    };
    QCOMPARE(render("{% set x = 1 %}" + with("")), std::string("done"));
    QCOMPARE(render("{% set x = 1 %}{% for i in range(200000) %}{% set x = {'a': x} %}{% endfor "
                    "%}done"),
             std::string("done"));
    EXPECT_LIMIT("{% set x = 1 %}" + with("{{ x|tojson }}"),
                 "tojson: value nested too deeply (over 256 levels)");
    EXPECT_LIMIT("{% set x = 1 %}" + with("{{ x }}"), "value nested too deeply");
    EXPECT_LIMIT("{% set x = 1 %}" + with("{{ x == x }}"),
                 "values nested too deeply to compare (over 256 levels)");
    // A chain of 200,000 namespaces, built forwards.
    const std::string namespaces =
        "{% set head = namespace(next=none) %}{% set cur = head %}{% for i in range(200000) %}"
        "{% set n = namespace(next=none) %}{% set cur.next = n %}{% set cur = n %}{% endfor %}";
    QCOMPARE(render(namespaces + "ok"), std::string("ok"));
    EXPECT_LIMIT(namespaces + "{{ head|tojson }}", "value nested too deeply");
    // Storing a deep value in a namespace is refused with the limit, not as a cycle.
    EXPECT_LIMIT("{% set ns = namespace() %}{% set x = 1 %}" + with("{% set ns.x = x %}"),
                 "nested more than 256 levels deep");
}

void TestChatTemplateLimits::limits_fit_a_small_thread_stack() {
    // Everything just within the limits renders on a 1 MiB stack, and everything past them
    // fails cleanly there: the limits, not the stack size, stop a hostile template.
#if defined(__SANITIZE_ADDRESS__)
    const std::size_t stack = std::size_t{8} << 20;  // AddressSanitizer's frames are larger
#else
    const std::size_t stack = std::size_t{1} << 20;
#endif
    const std::string error = on_small_stack(stack, [] {
        const auto check = [](bool ok, const std::string& what) {
            if (!ok) throw std::runtime_error(what);
        };
        // 126 parentheses, each holding a 1-term expression.
        check(render("{{ " + repeat("(", 126) + "1" + repeat(")", 126) + " }}") == "1", "parens");
        // Blocks 120 deep, an expression tree 256 high in the innermost one.
        check(render(repeat("{% if true %}", 120) + "{{ " + chain("1", "+1", 255) + " }}" +
                     repeat("{% endif %}", 120)) == "256",
              "blocks");
        // Macro recursion 63 deep through 4 nested loops each (near the render depth).
        check(render("{% macro f(n) %}" + repeat("{% for x in [1] %}", 4) +
                     "{% if n > 0 %}{{ f(n - 1) }}{% endif %}" + repeat("{% endfor %}", 4) +
                     "{% endmacro %}{{ f(62) }}") == "",
              "macros");
        // Past the limits: errors, not a crash.
        for (const std::string& hostile :
             {"{{ " + chain("1", "+1", 30'000) + " }}", "{{ " + repeat("(", 100'000) + " }}",
              std::string("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"),
              "{% macro f() %}" + repeat("{% if true %}", 120) + "{{ f() }}" +
                  repeat("{% endif %}", 120) + "{% endmacro %}{{ f() }}",
              // The most stack per level: for loops, recursing until the render depth.
              "{% macro f() %}" + repeat("{% for x in [1] %}", 10) + "{{ f() }}" +
                  repeat("{% endfor %}", 10) + "{% endmacro %}{{ f() }}"}) {
            try {
                render(hostile);
                check(false, "accepted: " + hostile.substr(0, 40));
            } catch (const meswitch::chat::LimitExceeded&) {
            }
        }
    });
    QVERIFY2(error.empty(), error.c_str());
}

void TestChatTemplateLimits::real_templates_render_long_conversations() {
    // The real templates with a 2,000-turn conversation stay far within every limit.
    std::vector<ChatMessage> long_chat = {{"system", "Be brief."}};
    for (int i = 0; i < 1000; ++i) {
        long_chat.push_back({"user", "Question " + std::to_string(i) + " " + repeat("q", 500)});
        long_chat.push_back({"assistant", "Answer " + std::to_string(i) + " " + repeat("a", 500)});
    }
    const QString data = QStringLiteral(MESWITCH_CHAT_TEST_DATA);
    int rendered = 0;
    for (const auto& entry : std::filesystem::directory_iterator(
             std::filesystem::path(data.toStdString()) / "templates")) {
        QFile f(QString::fromStdString(entry.path().string()));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const std::string source = f.readAll().toStdString();
        ChatTemplateContext ctx;
        ctx.bos_token = "<s>";
        ctx.eos_token = "</s>";
        std::string out;
        try {
            out = ChatTemplate::compile(source).render(long_chat, ctx);
        } catch (const meswitch::chat::LimitExceeded& e) {
            QFAIL(qPrintable(
                QString::fromStdString(entry.path().filename().string() + ": " + e.what())));
        } catch (const Error&) {
            // Templates that refuse a system message (raise_exception) are not the point here.
            out = ChatTemplate::compile(source).render(
                std::vector<ChatMessage>(long_chat.begin() + 1, long_chat.end()), ctx);
        }
        QVERIFY2(out.find("Question 999 ") != std::string::npos,
                 entry.path().filename().string().c_str());
        ++rendered;
    }
    QVERIFY(rendered >= 6);
}

void TestChatTemplateLimits::messages_stay_short() {
    // A name or text a megabyte long in an error is cut (at a UTF-8 boundary), so the
    // message stays readable.
    const std::string name = repeat("a", 1'000'000);
    const std::string text = repeat("\xc3\xa9", 500'000);  // é
    for (const std::string& source :
         {"{% " + name + " %}", "{{ x|" + name + " }}", "{{ " + name + "() }}",
          "{{ raise_exception('" + text + "') }}", "{{ x." + name + "() }}"}) {
        try {
            render(source);
            QFAIL("accepted");
        } catch (const Error& e) {
            const std::string what = e.what();
            QVERIFY2(what.size() < 2100, what.substr(0, 100).c_str());
            QVERIFY2(what.find("...") != std::string::npos, what.substr(0, 100).c_str());
            QVERIFY(QString::fromUtf8(what.c_str()).toUtf8() == QByteArray(what.c_str()));
        }
    }
}

void TestChatTemplateLimits::fallback_reason_says_it_once() {
    // The reason says why the template is not used; the caller says what is used instead.
    const meswitch::RenderedChat empty = meswitch::render_chat("", kChat, {});
    QVERIFY(empty.used_fallback);
    QCOMPARE(empty.fallback_reason, std::string("the model has no chat template"));
    const meswitch::RenderedChat broken = meswitch::render_chat("{{ 1 + }}", kChat, {});
    QVERIFY(broken.used_fallback);
    QVERIFY2(broken.fallback_reason.find("plain format") == std::string::npos,
             broken.fallback_reason.c_str());
    QVERIFY2(broken.fallback_reason.rfind("the model's chat template could not be read: chat "
                                          "template line 1:",
                                          0) == 0,
             broken.fallback_reason.c_str());
    const meswitch::RenderedChat unsupported =
        meswitch::render_chat("{{ cycler('a') }}", kChat, {});
    QVERIFY2(unsupported.fallback_reason.rfind(
                 "the model's chat template uses something not supported: chat template line 1:",
                 0) == 0,
             unsupported.fallback_reason.c_str());
}

void TestChatTemplateLimits::cli_reports_a_hostile_template() {
    MESWITCH_REQUIRE_FIXTURE(model, "stories260K-hf");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path copy = std::filesystem::path(dir.path().toStdString()) / "model";
    std::filesystem::copy(model, copy, std::filesystem::copy_options::recursive);
    QFile config(QString::fromStdString((copy / "tokenizer_config.json").string()));
    QVERIFY(config.open(QIODevice::ReadOnly));
    QJsonObject json = QJsonDocument::fromJson(config.readAll()).object();
    config.close();
    QVERIFY(!json.isEmpty());
    json["chat_template"] = QString::fromStdString("{{ " + chain("1", "+1", 29'999) + " }}");
    QVERIFY(config.open(QIODevice::WriteOnly | QIODevice::Truncate));
    config.write(QJsonDocument(json).toJson());
    config.close();

    QProcess p;
    p.start(QStringLiteral(MESWITCH_CLI_PATH),
            {"--home", dir.path() + "/home", "generate", "--model",
             QString::fromStdString(copy.string()), "--chat", "--prompt", "Hi", "-n", "4"});
    QVERIFY(p.waitForFinished(120'000));
    const QByteArray err = p.readAllStandardError();
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);  // not killed by SIGSEGV
    QVERIFY2(p.exitCode() != 0, err.constData());
    QVERIFY2(err.contains("chat template line 1: expression nested too deeply"), err.constData());
    // The message names the file the template came from.
    QVERIFY2(err.contains(QByteArray::fromStdString((copy / "tokenizer_config.json").string() +
                                                    ": chat template line 1")),
             err.constData());
}

QTEST_GUILESS_MAIN(TestChatTemplateLimits)
#include "test_chat_template_limits.moc"
