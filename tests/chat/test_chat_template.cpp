// Chat-template rendering: reference outputs of real model templates (rendered by
// @huggingface/jinja, see tests/chat/tools/make_expected.mjs), raise_exception, the plain
// fallback for unsupported templates, syntax errors with lines, and interpreter unit tests.
#include "meswitch/chat_template.h"
#include "meswitch/error.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <string>
#include <vector>

using meswitch::ChatMessage;
using meswitch::ChatTemplate;
using meswitch::ChatTemplateContext;
using meswitch::Error;
using meswitch::ErrorKind;

namespace {

const QString kData = QStringLiteral(MESWITCH_CHAT_TEST_DATA);

QByteArray read_file(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(path));
    return f.readAll();
}

QJsonDocument read_json(const QString& name) {
    return QJsonDocument::fromJson(read_file(kData + "/" + name));
}

std::vector<ChatMessage> to_messages(const QJsonArray& array) {
    std::vector<ChatMessage> out;
    for (const auto& m : array) {
        const QJsonObject o = m.toObject();
        out.push_back({o["role"].toString().toStdString(), o["content"].toString().toStdString()});
    }
    return out;
}

// Renders `source` with the given messages (default: none) and context.
std::string render(const std::string& source, const std::vector<ChatMessage>& messages = {},
                   const ChatTemplateContext& ctx = {}) {
    return ChatTemplate::compile(source).render(messages, ctx);
}

// The error a template raises at compile or render time; QFAIL-style empty when none.
struct Caught {
    bool thrown = false;
    ErrorKind kind = ErrorKind::io;
    std::string message;
};
Caught catch_error(const std::string& source, const std::vector<ChatMessage>& messages = {}) {
    Caught c;
    try {
        render(source, messages);
    } catch (const Error& e) {
        c.thrown = true;
        c.kind = e.kind();
        c.message = e.what();
    }
    return c;
}

const std::vector<ChatMessage> kChat = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}};

}  // namespace

#define CHECK_RENDER(source, expected) \
    QCOMPARE(QString::fromStdString(render(source)), QString(expected))

class TestChatTemplate : public QObject {
    Q_OBJECT

private slots:
    void reference_outputs_data();
    void reference_outputs();
    void raise_exception_surfaces_as_error();
    void unsupported_constructs_fall_back();
    void syntax_errors_name_the_line();
    void plain_format();
    void expressions();
    void numbers_and_output();
    void filters();
    void tojson();
    void string_and_dict_methods();
    void loops();
    void namespace_and_set();
    void macros();
    void whitespace_control();
    void undefined_values();
    void runaway_templates_fail_cleanly();
};

void TestChatTemplate::reference_outputs_data() {
    QTest::addColumn<QString>("template_name");
    QTest::addColumn<QString>("conversation");
    QTest::addColumn<bool>("add_generation_prompt");
    const QJsonArray templates = read_json("templates.json").array();
    QVERIFY(templates.size() >= 6);
    for (const auto& t : templates) {
        const QString name = t.toObject()["name"].toString();
        const QJsonObject expected = read_json("expected_" + name + ".json").object();
        for (const auto& c : expected["cases"].toArray()) {
            const QJsonObject o = c.toObject();
            const bool agp = o["add_generation_prompt"].toBool();
            QTest::addRow("%s/%s/agp=%d", qPrintable(name),
                          qPrintable(o["conversation"].toString()), agp ? 1 : 0)
                << name << o["conversation"].toString() << agp;
        }
    }
}

void TestChatTemplate::reference_outputs() {
    QFETCH(QString, template_name);
    QFETCH(QString, conversation);
    QFETCH(bool, add_generation_prompt);
    const QJsonObject expected = read_json("expected_" + template_name + ".json").object();
    QJsonObject wanted;
    for (const auto& c : expected["cases"].toArray()) {
        const QJsonObject o = c.toObject();
        if (o["conversation"].toString() == conversation &&
            o["add_generation_prompt"].toBool() == add_generation_prompt)
            wanted = o;
    }
    QVERIFY(!wanted.isEmpty());
    std::vector<ChatMessage> messages;
    for (const auto& c : read_json("conversations.json").array())
        if (c.toObject()["name"].toString() == conversation)
            messages = to_messages(c.toObject()["messages"].toArray());

    const std::string source =
        read_file(kData + "/templates/" + template_name + ".jinja").toStdString();
    ChatTemplateContext ctx;
    ctx.bos_token = expected["bos_token"].toString().toStdString();
    ctx.eos_token = expected["eos_token"].toString().toStdString();
    ctx.add_generation_prompt = add_generation_prompt;
    const ChatTemplate tmpl = ChatTemplate::compile(source);

    if (wanted.contains("error")) {
        const std::string message = wanted["error"].toString().toStdString();
        try {
            tmpl.render(messages, ctx);
            QFAIL(qPrintable("expected the error: " + wanted["error"].toString()));
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::format);
            const std::string what = e.what();
            QVERIFY2(what.size() >= message.size() &&
                         what.compare(what.size() - message.size(), message.size(), message) == 0,
                     e.what());
        }
        // render_chat does not hide a template's own rejection behind the fallback.
        QVERIFY_THROWS_EXCEPTION(Error, meswitch::render_chat(source, messages, ctx));
        return;
    }
    const QByteArray want = wanted["output"].toString().toUtf8();
    const std::string got = tmpl.render(messages, ctx);
    QCOMPARE(QByteArray::fromStdString(got), want);
    const meswitch::RenderedChat chat = meswitch::render_chat(source, messages, ctx);
    QVERIFY(!chat.used_fallback);
    QCOMPARE(QByteArray::fromStdString(chat.text), want);
}

void TestChatTemplate::raise_exception_surfaces_as_error() {
    const std::string source =
        read_file(kData + "/templates/mistral-7b-instruct-v0.2.jinja").toStdString();
    const std::vector<ChatMessage> broken = {{"user", "a"}, {"user", "b"}};
    try {
        ChatTemplate::compile(source).render(broken, {});
        QFAIL("the broken alternation was accepted");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::format);
        QVERIFY2(std::string(e.what()).find(
                     "Conversation roles must alternate user/assistant/user/assistant/...") !=
                     std::string::npos,
                 e.what());
    }
    const Caught c =
        catch_error("{{ raise_exception('bad role: ' ~ messages[0].role) }}", {{"tool", "x"}});
    QVERIFY(c.thrown);
    QCOMPARE(c.kind, ErrorKind::format);
    QVERIFY2(c.message.find("bad role: tool") != std::string::npos, c.message.c_str());
}

void TestChatTemplate::unsupported_constructs_fall_back() {
    struct Case {
        const char* source;
        const char* construct;  // what the reason must name
        bool at_compile;
    };
    const Case cases[] = {
        {"{% macro m() %}x{% endmacro %}\n{% call m() %}body{% endcall %}", "{% call %}", true},
        {"{% for m in messages %}{{ m.content }}{% endfor %}\n{% include 'other.jinja' %}",
         "{% include %}", true},
        {"{{ messages | wordcount }}", "'wordcount'", true},
        {"line1\n{% if x is escaped %}y{% endif %}", "'escaped'", true},
        {"{% for m in messages %}{{ m.content.format(1) }}{% endfor %}", "format()", false},
        {"{{ cycler('a', 'b') }}", "'cycler()'", false},
    };
    for (const Case& c : cases) {
        if (c.at_compile) {
            try {
                ChatTemplate::compile(c.source);
                QFAIL(c.source);
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::unsupported);
                QVERIFY2(std::string(e.what()).find(c.construct) != std::string::npos, e.what());
                QVERIFY2(std::string(e.what()).find("line ") != std::string::npos, e.what());
            }
        }
        ChatTemplateContext ctx;
        const meswitch::RenderedChat chat = meswitch::render_chat(c.source, kChat, ctx);
        QVERIFY2(chat.used_fallback, c.source);
        QCOMPARE(chat.text, meswitch::render_plain_chat(kChat, true));
        QVERIFY2(chat.fallback_reason.find(c.construct) != std::string::npos,
                 chat.fallback_reason.c_str());
    }
    // The first two name their line (the construct sits on line 2).
    try {
        ChatTemplate::compile(cases[0].source);
    } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("line 2") != std::string::npos, e.what());
    }
    const meswitch::RenderedChat empty = meswitch::render_chat("  \n", kChat, {});
    QVERIFY(empty.used_fallback);
    QVERIFY(empty.fallback_reason.find("no chat template") != std::string::npos);
}

void TestChatTemplate::syntax_errors_name_the_line() {
    struct Case {
        const char* source;
        const char* line;
    };
    const Case cases[] = {
        {"a\nb\n{% if messages %}\nunclosed", "line 3"},
        {"{% for m in messages %}\n{{ m.content }}\n", "line 1"},
        {"x\n{{ messages[0].content ", "line 2"},
        {"x\ny\n{{ 'unterminated }}", "line 3"},
        {"{# never closed\n\n", "line 1"},
        {"ok\n{% endfor %}", "line 2"},
        {"{% if x %}\n{% endfor %}\n{% endif %}", "line 2"},
        {"\n\n\n{{ 1 + }}", "line 4"},
        {"{% for in messages %}{% endfor %}", "line 1"},
        {"{% frobnicate %}", "line 1"},
        {"{{ a b }}", "line 1"},
        {"{% break %}", "line 1"},
        {"{{ 1 ! 2 }}", "line 1"},
    };
    for (const Case& c : cases) {
        try {
            ChatTemplate::compile(c.source);
            QFAIL(c.source);
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::format);
            QVERIFY2(std::string(e.what()).find(c.line) != std::string::npos, e.what());
        }
        const meswitch::RenderedChat chat = meswitch::render_chat(c.source, kChat, {});
        QVERIFY(chat.used_fallback);
        QVERIFY2(chat.fallback_reason.find(c.line) != std::string::npos,
                 chat.fallback_reason.c_str());
    }
}

void TestChatTemplate::plain_format() {
    QCOMPARE(meswitch::render_plain_chat(kChat, true),
             std::string(
                 "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello\n\nUser: Bye\n\nAssistant: "));
    QCOMPARE(meswitch::render_plain_chat(kChat, false),
             std::string("System: Be brief.\n\nUser: Hi\n\nAssistant: Hello\n\nUser: Bye"));
    QCOMPARE(meswitch::render_plain_chat({}, true), std::string("Assistant: "));
    QCOMPARE(meswitch::render_plain_chat({{"tool", "42"}}, false), std::string("Tool: 42"));
}

void TestChatTemplate::expressions() {
    CHECK_RENDER(
        "{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}",
        "7|9|3|-4|1|2");
    CHECK_RENDER("{{ 2 ** 10 }}|{{ 'ab' ~ 1 ~ none }}|{{ 'a' + 'b' }}|{{ 'x' * 3 }}",
                 "1024|ab1|ab|xxx");
    CHECK_RENDER("{{ 1 < 2 }}|{{ 'a' == 'a' }}|{{ 1 == 1.0 }}|{{ 'b' > 'a' }}|{{ 1 != 2 }}",
                 "true|true|true|true|true");
    CHECK_RENDER("{{ 'a' in 'cat' }}|{{ 2 in [1, 2] }}|{{ 'k' in {'k': 1} }}|{{ 3 not in [1] }}",
                 "true|true|true|true");
    CHECK_RENDER("{{ 0 or 'x' }}|{{ 'y' and 'z' }}|{{ not 0 }}|{{ [] or 'empty' }}",
                 "x|z|true|empty");
    CHECK_RENDER(
        "{{ 'yes' if 1 > 0 else 'no' }}|{{ 'a' if false }}|{{ 'p' if 0 else 'q' if 1 else 'r' }}",
        "yes||q");
    CHECK_RENDER(
        "{{ [1, 2, 3][1] }}|{{ [1, 2, 3][-1] }}|{{ {'a': {'b': 5}}['a'].b }}|{{ (1, 2)[0] }}",
        "2|3|5|1");
    CHECK_RENDER("{{ [1, 2, 3, 4][1:] }}|{{ [1, 2, 3][::-1] }}|{{ 'héllo'[1:3] }}|{{ 'abc'[:-1] }}",
                 "[2, 3, 4]|[3, 2, 1]|él|ab");
    CHECK_RENDER("{{ 'abcdef'[::2] }}|{{ 'abc'[5:] }}|{{ [1,2,3][-2:] }}", "ace||[2, 3]");
    CHECK_RENDER("{{ messages|length - 1 }}|{{ not 1 == 2 }}|{{ (1 + 1) is number }}",
                 "-1|true|true");
    CHECK_RENDER("{{ '\\u00e9\\x41\\n'|length }}|{{ \"it's\" }}|{{ 'a' 'b' }}", "3|it's|ab");
    QCOMPARE(render("{{ messages[0]['role'] }}{{ messages[1].content }}", kChat),
             std::string("systemHi"));
}

void TestChatTemplate::numbers_and_output() {
    CHECK_RENDER("{{ 1.0 }}|{{ 2.5 }}|{{ 7 / 2 }}|{{ 6 / 2 }}|{{ 0.1 + 0.2 }}|{{ -0.0 }}",
                 "1.0|2.5|3.5|3.0|0.30000000000000004|-0.0");
    CHECK_RENDER("{{ true }}|{{ none }}|{{ [1, 'a', none, true] }}|{{ {'k': 'v'} }}",
                 "true||[1, \"a\", null, true]|{\"k\": \"v\"}");
    CHECK_RENDER("{{ 1000000000000000000000.0 }}|{{ 0.000001 }}|{{ 0.00000015 }}",
                 "1e+21|0.000001|1.5e-7");
    CHECK_RENDER("{{ -3 }}|{{ +4 }}|{{ - 2.5 }}|{{ 5 - -1 }}", "-3|4|-2.5|6");
}

void TestChatTemplate::filters() {
    CHECK_RENDER("{{ '  x  '|trim }}|{{ 'Ab'|upper }}{{ 'Ab'|lower }}|{{ 'über'|upper }}",
                 "x|ABab|ÜBER");
    CHECK_RENDER(
        "{{ [1, 2]|length }}|{{ 'ab😀'|length }}|{{ {'a': 1}|length }}|{{ [4, 5]|first }}{{ [4, "
        "5]|last }}",
        "2|3|1|45");
    CHECK_RENDER("{{ ['a', 'b']|join(', ') }}|{{ [1, 2]|join }}|{{ 'abc'|join('-') }}",
                 "a, b|12|a-b-c");
    CHECK_RENDER(
        "{{ missing|default('d') }}|{{ ''|default('d') }}|{{ ''|default('d', true) }}|{{ 0|d('z', "
        "boolean=true) }}",
        "d||d|z");
    CHECK_RENDER(
        "{{ 3|string ~ 'x' }}|{{ '12abc'|int + 1 }}|{{ 'x'|int }}|{{ 'x'|int(7) }}|{{ 2.9|int "
        "}}|{{ '1.5'|float }}",
        "3x|13|0|7|2|1.5");
    CHECK_RENDER(
        "{{ 'hELLO wORLD'|capitalize }}|{{ 'hello big-world'|title }}|{{ 'aaa'|replace('a', 'b', "
        "2) }}",
        "Hello world|Hello Big-World|bba");
    CHECK_RENDER(
        "{% for k, v in {'a': 1, 'b': 2}|items %}{{ k }}={{ v }};{% endfor %}|{{ 'ab'|list }}",
        "a=1;b=2;|[\"a\", \"b\"]");
    QCOMPARE(render("{{ messages|selectattr('role', 'equalto', "
                    "'user')|map(attribute='content')|join(',') }}",
                    kChat),
             std::string("Hi,Bye"));
    QCOMPARE(render("{{ messages|rejectattr('role', 'equalto', 'user')|list|length }}", kChat),
             std::string("2"));
    QCOMPARE(
        render("{{ (messages|selectattr('role', 'equalto', 'system')|list|last).content }}", kChat),
        std::string("Be brief."));
    QCOMPARE(render("{{ messages|map(attribute='role')|map('upper')|join(' ') }}", kChat),
             std::string("SYSTEM USER ASSISTANT USER"));
    CHECK_RENDER(
        "{{ [3, 1, 2]|sort }}|{{ ['b', 'A', 'c']|sort(reverse=true) }}|{{ [1, 2]|reverse }}|{{ "
        "'abc'|reverse }}",
        "[1, 2, 3]|[\"c\", \"b\", \"A\"]|[2, 1]|cba");
    CHECK_RENDER(
        "{{ ['a', 'A', 'b', 'a']|unique|join }}|{{ -3|abs }}|{{ [1, 2, 3, 4]|select('odd')|join "
        "}}|{{ [1, 2, 3]|reject('equalto', 2)|join }}",
        "ab|3|13|13");
    CHECK_RENDER("{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}",
                 "a\n  b\n\n  c|  a\n  b");
    CHECK_RENDER("{{ '<b>&\"'|e }}|{{ '<b>'|safe }}", "&lt;b&gt;&amp;&#34;|<b>");
}

void TestChatTemplate::tojson() {
    CHECK_RENDER("{{ 'say \"hi\"\\n\\t\\\\ é'|tojson }}", "\"say \\\"hi\\\"\\n\\t\\\\ é\"");
    CHECK_RENDER("{{ {'b': [1, 2.5, none, true], 'a': {}}|tojson }}",
                 "{\"b\": [1, 2.5, null, true], \"a\": {}}");
    CHECK_RENDER("{{ {'b': 1, 'a': [1, {'c': 'd'}]}|tojson(indent=2) }}",
                 "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {\n      \"c\": \"d\"\n    }\n  ]\n}");
    CHECK_RENDER(
        "{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}|{{ 'é😀'|tojson(ensure_ascii=true) }}",
        "{\"a\": 2, \"b\": 1}|\"\\u00e9\\ud83d\\ude00\"");
    CHECK_RENDER("{{ [1, 2]|tojson(separators=(',', ':')) }}|{{ missing|tojson }}", "[1,2]|null");
}

void TestChatTemplate::string_and_dict_methods() {
    CHECK_RENDER(
        "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() "
        "}}|{{ 'a..'.rstrip('.') }}",
        "a b|a|a|a|a");
    CHECK_RENDER("{{ ' a  b c '.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a b c'.split(' ', 1) }}",
                 "[\"a\", \"b\", \"c\"]|[\"a\", \"b\", \"\", \"c\"]|[\"a\", \"b c\"]");
    CHECK_RENDER(
        "{{ 'hello'.startswith('he') }}|{{ 'hello'.endswith(('x', 'lo')) }}|{{ "
        "'hello'.startswith('lo') }}",
        "true|true|false");
    CHECK_RENDER(
        "{{ 'ab'.upper() }}|{{ 'AB'.lower() }}|{{ 'ab cd'.title() }}|{{ 'aXa'.replace('a', '-') "
        "}}|{{ ', '.join(['x', 'y']) }}",
        "AB|ab|Ab Cd|-X-|x, y");
    CHECK_RENDER(
        "{% set d = {'a': 1, 'b': 2} %}{{ d.get('a') }}|{{ d.get('z', 'none') }}|{{ d.get('z') "
        "}}|{{ d.keys()|list }}|{{ d.values()|list }}",
        "1|none||[\"a\", \"b\"]|[1, 2]");
    CHECK_RENDER(
        "{% set d = {'a': 1, 'b': 2} %}{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}|{% "
        "for k in d %}{{ k }}{% endfor %}",
        "a1b2|ab");
    CHECK_RENDER("{{ 'abc'.length }}|{{ [1, 2].length }}", "3|2");
}

void TestChatTemplate::loops() {
    QCOMPARE(render("{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
                    "{{ loop.length }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif "
                    "%} {% endfor %}",
                    kChat),
             std::string("1044F 2134 3224 4314L "));
    CHECK_RENDER(
        "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in missing %}x{% else %}none{% "
        "endfor %}",
        "empty|none");
    QCOMPARE(render("{% for m in messages if m.role == 'user' %}{{ loop.index }}/{{ loop.length "
                    "}}:{{ m.content }} {% endfor %}",
                    kChat),
             std::string("1/2:Hi 2/2:Bye "));
    CHECK_RENDER(
        "{% for i in range(10) %}{% if i == 5 %}{% break %}{% endif %}{% if i % 2 %}{% continue "
        "%}{% endif %}{{ i }}{% endfor %}",
        "024");
    CHECK_RENDER(
        "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ "
        "loop.index }};{% endfor %}",
        "1x11y21;2x12y22;");
    CHECK_RENDER(
        "{% set x = 'out' %}{% for i in [1] %}{% set x = 'in' %}{{ x }}{% endfor %}{{ x }}",
        "inout");
    CHECK_RENDER(
        "{% for i in range(1, 10, 3) %}{{ i }}{% endfor %}|{% for i in range(3, 0, -1) %}{{ i }}{% "
        "endfor %}",
        "147|321");
    CHECK_RENDER("{% for x in [1, 2, 3] %}{{ loop.previtem }}{{ loop.nextitem }},{% endfor %}",
                 "2,13,2,");
}

void TestChatTemplate::namespace_and_set() {
    QCOMPARE(render("{% set ns = namespace(count=0, found=false) %}{% for m in messages %}"
                    "{% if m.role == 'user' %}{% set ns.count = ns.count + 1 %}{% set ns.found = "
                    "true %}{% endif %}"
                    "{% endfor %}{{ ns.count }} {{ ns.found }}",
                    kChat),
             std::string("2 true"));
    CHECK_RENDER(
        "{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set t %}block {{ 1 + 1 }}{% endset %}{{ t }}",
        "12|block 2");
    CHECK_RENDER("{% set ns = namespace({'x': 1}) %}{{ ns.x }}|{{ namespace(a=1)|tojson }}",
                 "1|{\"a\": 1}");
    QVERIFY(catch_error("{% set s = 'str' %}{% set s.x = 1 %}").thrown);
}

void TestChatTemplate::macros() {
    CHECK_RENDER(
        "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}"
        "{{ greet('Ann') }} {{ greet('Bob', 'Hi') }} {{ greet(greeting='Yo', name='Cy') }}",
        "Hello, Ann! Hi, Bob! Yo, Cy!");
    CHECK_RENDER("{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}{{ twice(twice('a')) }}", "aaaa");
    QVERIFY(catch_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}").thrown);
    QVERIFY(catch_error("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}").thrown);
}

void TestChatTemplate::whitespace_control() {
    CHECK_RENDER("a  {%- if true -%}  b  {%- endif -%}  c", "abc");
    CHECK_RENDER("a  {{- 'x' -}}  \n b", "axb");
    CHECK_RENDER("a {#- comment -#} b|{# plain #}", "ab|");
    // trim_blocks: the newline after a block tag goes; lstrip_blocks: indentation before it.
    CHECK_RENDER("{% if true %}\n  yes\n  {% endif %}\nend", "  yes\nend");
    CHECK_RENDER("<ul>\n    {% for x in [1, 2] %}\n    <li>{{ x }}</li>\n    {% endfor %}\n</ul>",
                 "<ul>\n    <li>1</li>\n    <li>2</li>\n</ul>");
    // Expression tags keep their newline and indentation; one trailing newline is dropped.
    CHECK_RENDER("  {{ 'x' }}\ny\n", "  x\ny");
    CHECK_RENDER("a\n\n", "a\n");
    CHECK_RENDER("{# c #}\nnext", "next");
    // "+" opts out of lstrip_blocks (Jinja); generation markers are removed.
    CHECK_RENDER("  {%+ if true %}x{% endif %}", "  x");
    CHECK_RENDER("a {% generation %}b{% endgeneration %} c|{%- generation -%}  d", "a b c|d");
}

void TestChatTemplate::undefined_values() {
    CHECK_RENDER("[{{ missing }}][{{ missing.attr }}][{{ missing['k'] }}][{{ messages[5].role }}]",
                 "[][][][]");
    CHECK_RENDER(
        "{% if missing %}t{% else %}f{% endif %}{{ missing is defined }}{{ missing is undefined "
        "}}{{ none is none }}",
        "ffalsetruetrue");
    CHECK_RENDER("{{ missing|length }}{{ missing|trim }}{{ 'x' in missing }}", "0false");
    ChatTemplateContext ctx;
    ctx.extra_variables["date_string"] = "26 Jul 2024";
    ctx.add_generation_prompt = false;
    ctx.bos_token = "<s>";
    QCOMPARE(render("{{ bos_token }}{{ date_string }}{{ add_generation_prompt }}", {}, ctx),
             std::string("<s>26 Jul 2024false"));
    const Caught c = catch_error("ok\n{{ messages[0].missing + 1 }}", {{"user", "x"}});
    QVERIFY(c.thrown);
    QCOMPARE(c.kind, ErrorKind::format);
    QVERIFY2(c.message.find("line 2") != std::string::npos, c.message.c_str());
    const Caught z = catch_error("{{ 1 // 0 }}");
    QVERIFY(z.thrown && z.message.find("division by zero") != std::string::npos);
}

void TestChatTemplate::runaway_templates_fail_cleanly() {
    const std::string deep = std::string(5000, '(') + "1" + std::string(5000, ')');
    const Caught nested = catch_error("{{ " + deep + " }}");
    QVERIFY(nested.thrown);
    QCOMPARE(nested.kind, ErrorKind::format);
    const Caught recursion = catch_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
    QVERIFY(recursion.thrown);
    QVERIFY2(recursion.message.find("nested too deeply") != std::string::npos,
             recursion.message.c_str());
    QVERIFY(catch_error("{% for i in range(100000000) %}{% endfor %}").thrown);
    QVERIFY(catch_error("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns|tojson }}").thrown);
    QVERIFY(catch_error("{{ 9223372036854775807 + 1 }}").thrown);
    // Invalid UTF-8 in a message passes through unchanged.
    const std::string bad =
        "a\xff\xfe"
        "b";
    QCOMPARE(render("{{ messages[0].content|upper }}", {{"user", bad}}), std::string("A\xff\xfe"
                                                                                     "B"));
}

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"
