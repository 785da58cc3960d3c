// Pipeline components on their own: split behaviours, the GPT-2 / Llama-3 / Qwen2 regexes in
// PCRE2, pre-tokenizers, added-token matching, UTF-8 repair and decoders.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "test_tokenizer.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/split.h"
#include "tokenizer/unicode_normalize.h"
#include "tokenizer/utf8.h"

using namespace meswitch::tok;
using Strings = std::vector<std::string>;
using nlohmann::json;

namespace {

Strings pieces_of(std::string_view text, const std::vector<Span>& spans) {
    Strings out;
    for (const auto& [b, e] : spans) out.emplace_back(text.substr(b, e - b));
    return out;
}

Strings pre_tokenize(const json& config, const std::string& text) {
    const auto p = make_pre_tokenizer(config, "test");
    std::vector<PreToken> pieces{{text, true}};
    p->pre_tokenize(pieces);
    Strings out;
    for (const PreToken& t : pieces) out.push_back(t.text);
    return out;
}

Strings regex_pieces(const char* pattern, const std::string& text) {
    return pre_tokenize(json{{"type", "Split"},
                             {"pattern", {{"Regex", pattern}}},
                             {"behavior", "Isolated"},
                             {"invert", false}},
                        text);
}

std::string decode_with(const json& config, Strings tokens) {
    make_decoder(config, "test")->decode_chain(tokens);
    std::string out;
    for (const std::string& t : tokens) out += t;
    return out;
}

}  // namespace

// The examples of the Rust library's SplitDelimiterBehavior documentation.
void TestTokenizer::splitBehaviors() {
    const std::string text = "the-final--countdown";
    const SplitPattern dash = SplitPattern::literal("-");
    auto split = [&](SplitBehavior b, bool invert = false) {
        return pieces_of(text, split_segments(dash.segments(text, invert), b));
    };
    QCOMPARE(split(SplitBehavior::removed), (Strings{"the", "final", "countdown"}));
    QCOMPARE(split(SplitBehavior::isolated), (Strings{"the", "-", "final", "-", "-", "countdown"}));
    QCOMPARE(split(SplitBehavior::merged_with_previous),
             (Strings{"the-", "final-", "-", "countdown"}));
    QCOMPARE(split(SplitBehavior::merged_with_next), (Strings{"the", "-final", "-", "-countdown"}));
    QCOMPARE(split(SplitBehavior::contiguous), (Strings{"the", "-", "final", "--", "countdown"}));
    QCOMPARE(split(SplitBehavior::removed, true), (Strings{"-", "-", "-"}));
    QCOMPARE(pieces_of("", split_segments(dash.segments(""), SplitBehavior::isolated)), Strings{});
    QCOMPARE(replace_all("a-b--c", dash, "+="), std::string("a+=b+=+=c"));
}

void TestTokenizer::llama3AndQwen2Patterns() {
    const char* llama3 =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    QCOMPARE(regex_pieces(llama3, "I'VE 12345 words\n\n  x"),
             (Strings{"I", "'VE", " ", "123", "45", " words", "\n\n", " ", " x"}));
    QCOMPARE(regex_pieces(llama3, "Hello, \u4e16\u754c! it's"),
             (Strings{"Hello", ",", " \u4e16\u754c", "!", " it", "'s"}));
    const char* qwen2 =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    QCOMPARE(regex_pieces(qwen2, "x=2024;\r\n"), (Strings{"x", "=", "2", "0", "2", "4", ";\r\n"}));
}

void TestTokenizer::gpt2Pattern() {
    const json byte_level = {
        {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
    // Pieces come back byte-mapped: space = Ġ (U+0120), newline = Ċ (U+010A).
    QCOMPARE(pre_tokenize(byte_level, "Hello world's  42!\n"),
             (Strings{"Hello", "\u0120world", "'s", "\u0120", "\u012042", "!", "\u010a"}));
    const json prefixed = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
    QCOMPARE(pre_tokenize(prefixed, "Hi"), (Strings{"\u0120Hi"}));
    const json no_regex = {
        {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
    QCOMPARE(pre_tokenize(no_regex, "a b\u00e9"), (Strings{"a\u0120b\u00c3\u00a9"}));
    // A long run of spaces: all but the last space, then the last with the word.
    const std::string spaces(5000, ' ');
    const Strings long_run = pre_tokenize(byte_level, spaces + "x");
    QCOMPARE(long_run.size(), std::size_t{2});
    QCOMPARE(long_run[1], std::string("\u0120x"));
}

void TestTokenizer::preTokenizers() {
    const json metaspace = {{"type", "Metaspace"},
                            {"replacement", "\u2581"},
                            {"prepend_scheme", "always"},
                            {"split", true}};
    QCOMPARE(pre_tokenize(metaspace, "Hey   friend!"),
             (Strings{"\u2581Hey", "\u2581", "\u2581", "\u2581friend!"}));
    const json never = {{"type", "Metaspace"},
                        {"replacement", "\u2581"},
                        {"prepend_scheme", "never"},
                        {"split", false}};
    QCOMPARE(pre_tokenize(never, "a b"), (Strings{"a\u2581b"}));
    const json legacy = {
        {"type", "Metaspace"}, {"replacement", "\u2581"}, {"add_prefix_space", true}};
    QCOMPARE(pre_tokenize(legacy, "a b"), (Strings{"\u2581a", "\u2581b"}));

    QCOMPARE(pre_tokenize(json{{"type", "Digits"}, {"individual_digits", true}}, "a123b"),
             (Strings{"a", "1", "2", "3", "b"}));
    QCOMPARE(pre_tokenize(json{{"type", "Digits"}, {"individual_digits", false}}, "a123b45"),
             (Strings{"a", "123", "b", "45"}));
    QCOMPARE(pre_tokenize(json{{"type", "Whitespace"}}, "Hey friend!  How are you?!?"),
             (Strings{"Hey", "friend", "!", "How", "are", "you", "?!?"}));
    QCOMPARE(pre_tokenize(json{{"type", "WhitespaceSplit"}}, " a\tb\n c "),
             (Strings{"a", "b", "c"}));
    QCOMPARE(pre_tokenize(json{{"type", "Punctuation"}}, "Hey,friend!?"),
             (Strings{"Hey", ",", "friend", "!", "?"}));
    // Sequence: Llama-3 layout (Split, then ByteLevel without its own regex).
    const json seq = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern", {{"Regex", R"(\p{N}{1,3}|\s+|[^\s\p{N}]+)"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
    QCOMPARE(pre_tokenize(seq, "ab 12345"), (Strings{"ab", "\u0120", "123", "45"}));
    // invert: the pattern marks the pieces to keep.
    const json inverted = {{"type", "Split"},
                           {"pattern", {{"String", " "}}},
                           {"behavior", "Removed"},
                           {"invert", true}};
    QCOMPARE(pre_tokenize(inverted, "a b"), (Strings{" "}));
}

void TestTokenizer::addedTokenMatching() {
    AddedTokenMatcher m;
    AddedToken s{"<s>", 1, true, false, false, false, false};
    AddedToken ss{"<s><s>", 7, true, false, false, false, false};
    AddedToken mask{"<mask>", 4, true, true, true, false, false};
    AddedToken word{"cat", 5, false, false, false, true, false};
    m.add(s, s.content);
    m.add(ss, ss.content);
    m.add(mask, mask.content);
    m.add(word, word.content);
    auto run = [&](const std::string& text) {
        std::string out;
        for (const auto& p : m.split(text))
            out += p.id ? "[" + std::to_string(*p.id) + "]"
                        : "(" + text.substr(p.begin, p.end - p.begin) + ")";
        return out;
    };
    QCOMPARE(run("a<s>b"), std::string("(a)[1](b)"));
    QCOMPARE(run("<s><s><s>"), std::string("[7][1]"));        // longest match first, left to right
    QCOMPARE(run("a  <mask>  b"), std::string("(a)[4](b)"));  // lstrip/rstrip swallow the spaces
    QCOMPARE(run("a cat b"), std::string("(a )[5]( b)"));
    QCOMPARE(run("concatenate"), std::string("(concatenate)"));  // single_word
    QCOMPARE(run("cat,cat"), std::string("[5](,)[5]"));
    QCOMPARE(run(""), std::string());
    QCOMPARE(run("<s"), std::string("(<s)"));
}

void TestTokenizer::utf8Repair() {
    QCOMPARE(to_valid_utf8("ok \u4e2d"), std::string("ok \u4e2d"));
    QCOMPARE(to_valid_utf8("\xe4\xb8"), std::string("\ufffd"));
    QCOMPARE(to_valid_utf8("\xe4\xb8x"), std::string("\ufffdx"));
    QCOMPARE(to_valid_utf8("\xc0\xaf"), std::string("\ufffd\ufffd"));
    QCOMPARE(to_valid_utf8("\xf0\x9f\x98"), std::string("\ufffd"));
    QCOMPARE(replace_invalid_bytes("\xe4\xb8x"), std::string("\ufffd\ufffdx"));
    QCOMPARE(replace_invalid_bytes("\xe4\xb8\xad\xff"), std::string("\u4e2d\ufffd"));
    QVERIFY(is_valid_utf8("\xf0\x9f\x98\x80"));
    QVERIFY(!is_valid_utf8("\xed\xa0\x80"));
    QVERIFY(!is_valid_utf8("\xf4\x90\x80\x80"));
}

void TestTokenizer::decoders() {
    QCOMPARE(
        decode_with(
            json{{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}},
            {"\u2581Hey", "\u2581friend!"}),
        std::string("Hey friend!"));
    QCOMPARE(
        decode_with(
            json{{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "never"}},
            {"\u2581Hey"}),
        std::string(" Hey"));
    QCOMPARE(decode_with(json{{"type", "Strip"}, {"content", "x"}, {"start", 2}, {"stop", 1}},
                         {"xxxaxx", "b"}),
             std::string("xaxb"));
    QCOMPARE(decode_with(json{{"type", "ByteFallback"}},
                         {"a", "<0x41>", "<0xe4>", "<0xB8>", "<0xAD>", "<0xZZ>"}),
             std::string("aA\u4e2d<0xZZ>"));
    QCOMPARE(decode_with(json{{"type", "ByteLevel"}}, {"\u0120caf", "\u00c3\u00a9", "\u010a"}),
             std::string(" caf\u00e9\n"));
    QCOMPARE(decode_with(json{{"type", "ByteLevel"}}, {"\u4e2d"}),
             std::string("\u4e2d"));  // outside the map: as is
    QCOMPARE(
        decode_with(json{{"type", "BPEDecoder"}, {"suffix", "</w>"}}, {"hel", "lo</w>", "you</w>"}),
        std::string("hello you"));
    QCOMPARE(
        decode_with(json{{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", "_"}},
                    {"a  b", "c\td"}),
        std::string("a_bc_d"));
}

// NFC/NFD (checked against Python's unicodedata for every code point when the tables were
// generated; these are spot checks of each rule).
void TestTokenizer::unicodeNormalization() {
    QCOMPARE(to_nfc("e\u0301"), std::string("\u00e9"));             // composition
    QCOMPARE(to_nfd("\u00e9"), std::string("e\u0301"));             // decomposition
    QCOMPARE(to_nfd("\u1e69"), std::string("s\u0323\u0307"));       // recursive
    QCOMPARE(to_nfc("s\u0307\u0323"), std::string("\u1e69"));       // reordering, then both marks
    QCOMPARE(to_nfc("\u1100\u1161\u11a8"), std::string("\uac01"));  // Hangul L V T
    QCOMPARE(to_nfd("\uac01"), std::string("\u1100\u1161\u11a8"));
    QCOMPARE(to_nfc("\u0958"), std::string("\u0915\u093c"));         // composition exclusion
    QCOMPARE(to_nfc("\u212b"), std::string("\u00c5"));               // singleton (Angstrom sign)
    QCOMPARE(to_nfc("a\u0301\u0301"), std::string("\u00e1\u0301"));  // blocked second mark
    QCOMPARE(to_nfc("\u0301e"), std::string("\u0301e"));             // leading mark stays
    QCOMPARE(to_nfc("plain ASCII"), std::string("plain ASCII"));
    QCOMPARE(to_nfc("\u4e2d\u6587 \U0001f600"), std::string("\u4e2d\u6587 \U0001f600"));
    const auto nfc = make_normalizer(json{{"type", "NFC"}}, "test");
    QCOMPARE(nfc->normalize("Cafe\u0301 \u212b"), std::string("Caf\u00e9 \u00c5"));
    const auto seq = make_normalizer(
        json{{"type", "Sequence"},
             {"normalizers", {{{"type", "NFD"}}, {{"type", "Lowercase"}}, {{"type", "Strip"}}}}},
        "test");
    QCOMPARE(seq->normalize("  \u00c9T\u00c9  "), std::string("e\u0301te\u0301"));
}
