// Self-contained tokenizer tests: every tokenizer.json here is written by the test itself, so
// these run on a clean machine without shared/fixtures.
#include "test_tokenizer.h"

#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "meswitch/error.h"
#include "meswitch/tokenizer.h"
#include "tokenizer/byte_level.h"

using meswitch::Error;
using meswitch::ErrorKind;
using meswitch::Tokenizer;
using Ids = std::vector<std::int32_t>;
using nlohmann::json;

namespace tokenizer_test {

std::filesystem::path write_file(const QTemporaryDir& dir, const std::string& name,
                                 const std::string& text) {
    const std::filesystem::path p = std::filesystem::path(dir.path().toStdString()) / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = b < 0x80         ? 1
                        : (b >> 5) == 6  ? 2
                        : (b >> 4) == 14 ? 3
                        : (b >> 3) == 30 ? 4
                                         : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

std::string ids_to_string(const Ids& ids) {
    std::string s = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s + "]";
}

}  // namespace tokenizer_test

using namespace tokenizer_test;

namespace {

#define COMPARE_IDS(actual, expected) QCOMPARE(ids_to_string(actual), ids_to_string(expected))

// A SentencePiece-style BPE like Llama/Mistral: byte fallback, Metaspace, "<s> $A".
// <unk>=0 <s>=1 </s>=2 <0x00>..<0xFF>=3..258 ▁=259 a=260 b=261 ▁a=262 ab=263 ▁ab=264 c=265
json sentencepiece_json() {
    json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab[name] = 3 + b;
    }
    vocab["\u2581"] = 259;
    vocab["a"] = 260;
    vocab["b"] = 261;
    vocab["\u2581a"] = 262;
    vocab["ab"] = 263;
    vocab["\u2581ab"] = 264;
    vocab["c"] = 265;
    auto special = [](int id, const char* content) {
        return json{{"id", id},        {"content", content}, {"single_word", false},
                    {"lstrip", false}, {"rstrip", false},    {"normalized", false},
                    {"special", true}};
    };
    return json{
        {"version", "1.0"},
        {"added_tokens", {special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")}},
        {"normalizer", nullptr},
        {"pre_tokenizer",
         {{"type", "Metaspace"},
          {"replacement", "\u2581"},
          {"prepend_scheme", "first"},
          {"split", false}}},
        {"post_processor",
         {{"type", "TemplateProcessing"},
          {"single",
           {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
            {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders",
           {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}},
            {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", "<unk>"},
          {"fuse_unk", true},
          {"byte_fallback", true},
          {"vocab", vocab},
          {"merges", {"\u2581 a", "a b", "\u2581a b"}}}}};
}

// A GPT-2 style byte-level BPE: ids 0..255 are the mapped bytes, then Ġt=256 he=257 Ġthe=258,
// added special <|end|>=259.
json byte_level_json() {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b)
        vocab[meswitch::tok::byte_to_unicode(static_cast<std::uint8_t>(b))] = b;
    vocab["\u0120t"] = 256;
    vocab["he"] = 257;
    vocab["\u0120the"] = 258;
    return json{
        {"added_tokens",
         {{{"id", 259},
           {"content", "<|end|>"},
           {"single_word", false},
           {"lstrip", false},
           {"rstrip", false},
           {"normalized", true},
           {"special", true}}}},
        {"normalizer", nullptr},
        {"pre_tokenizer",
         {{"type", "ByteLevel"},
          {"add_prefix_space", false},
          {"trim_offsets", true},
          {"use_regex", true}}},
        {"post_processor",
         {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}}},
        {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}}},
        {"model",
         {{"type", "BPE"},
          {"unk_token", nullptr},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"vocab", vocab},
          {"merges", {"\u0120 t", "h e", "\u0120t he"}}}}};
}

Tokenizer load(const QTemporaryDir& dir, const json& j,
               const std::string& name = "tokenizer.json") {
    return Tokenizer::from_files(write_file(dir, name, j.dump()));
}

template <typename F>
void expect_error(F&& f, ErrorKind kind, const std::vector<std::string>& needles) {
    try {
        f();
    } catch (const Error& e) {
        const std::string what = e.what();
        QVERIFY2(
            e.kind() == kind,
            qPrintable(
                QString("kind %1 for: %2").arg(meswitch::to_string(e.kind())).arg(what.c_str())));
        for (const std::string& n : needles)
            QVERIFY2(what.find(n) != std::string::npos,
                     qPrintable(QString("'%1' not in: %2").arg(n.c_str(), what.c_str())));
        return;
    }
    QFAIL("no meswitch::Error thrown");
}

}  // namespace

void TestTokenizer::selfContainedEncode() {
    QVERIFY(tmp_.isValid());
    const Tokenizer t = load(tmp_, sentencepiece_json());
    COMPARE_IDS(t.encode("ab"), (Ids{1, 264}));
    COMPARE_IDS(t.encode("ab", false), (Ids{264}));
    COMPARE_IDS(t.encode("abc", false), (Ids{264, 265}));
    COMPARE_IDS(t.encode("ba", false), (Ids{259, 261, 260}));
    COMPARE_IDS(t.encode("a b", false), (Ids{262, 259, 261}));
    COMPARE_IDS(t.encode(""), (Ids{1}));
    COMPARE_IDS(t.encode("", false), (Ids{}));
    // Special tokens split the text; the piece after <s> does not start the input, so
    // prepend_scheme "first" adds no ▁ to it.
    COMPARE_IDS(t.encode("<s>ab</s>"), (Ids{1, 1, 263, 2}));
    COMPARE_IDS(t.encode("ab</s>", false), (Ids{264, 2}));
    // A literal ▁ in the input is the space piece.
    COMPARE_IDS(t.encode("\u2581ab", false), (Ids{264}));
    QCOMPARE(t.vocab_size(), std::size_t{266});
    QCOMPARE(t.token_to_id("\u2581ab"), std::optional<std::int32_t>(264));
    QCOMPARE(t.token_to_id("</s>"), std::optional<std::int32_t>(2));
    QVERIFY(!t.token_to_id("zzz"));
    QCOMPARE(t.id_to_token(263), std::string("ab"));
    QCOMPARE(t.id_to_token(9999), std::string());
    QCOMPARE(t.id_to_token(-1), std::string());
    QVERIFY(t.is_special(1));
    QVERIFY(!t.is_special(264));
    QVERIFY(!t.bos_id());  // no tokenizer_config.json
    QCOMPARE(t.chat_template(), std::string());
}

void TestTokenizer::selfContainedDecode() {
    const Tokenizer t = load(tmp_, sentencepiece_json());
    QCOMPARE(t.decode(Ids{1, 264, 259, 261}), std::string("ab b"));
    QCOMPARE(t.decode(Ids{1, 264, 259, 261}, false), std::string("<s> ab b"));
    QCOMPARE(t.decode(Ids{262, 198, 172}), std::string("a\u00e9"));  // <0xC3><0xA9> = é
    QCOMPARE(t.decode(Ids{}), std::string());
    QCOMPARE(t.decode(Ids{5000, -3, 262}), std::string("a"));  // unknown ids are skipped
    for (const char* s :
         {"ab", "a b", "abc ba", "caf\u00e9 \u4e2d\u6587 \xf0\x9f\x98\x80", "  two spaces"}) {
        const std::string text = s;
        const std::string expected = text.starts_with(' ') ? text.substr(1) : text;  // Strip(1)
        QCOMPARE(t.decode(t.encode(text)), expected);
    }
}

void TestTokenizer::selfContainedByteFallbackAndUnk() {
    json j = sentencepiece_json();
    const Tokenizer with_bytes = load(tmp_, j);
    COMPARE_IDS(with_bytes.encode("\u00e9", false), (Ids{259, 3 + 0xC3, 3 + 0xA9}));
    COMPARE_IDS(with_bytes.encode("a\u00e9b", false), (Ids{262, 3 + 0xC3, 3 + 0xA9, 261}));

    j["model"]["byte_fallback"] = false;
    const Tokenizer fused = load(tmp_, j, "fused.json");
    COMPARE_IDS(fused.encode("\u00e9\u00e9", false), (Ids{259, 0}));
    COMPARE_IDS(fused.encode("a\u00e9\u00e9b", false), (Ids{262, 0, 261}));

    j["model"]["fuse_unk"] = false;
    const Tokenizer unfused = load(tmp_, j, "unfused.json");
    COMPARE_IDS(unfused.encode("\u00e9\u00e9", false), (Ids{259, 0, 0}));
}

void TestTokenizer::selfContainedMergesAsPairs() {
    json j = sentencepiece_json();
    const Tokenizer strings = load(tmp_, j);
    j["model"]["merges"] = json::array(
        {json::array({"\u2581", "a"}), json::array({"a", "b"}), json::array({"\u2581a", "b"})});
    const Tokenizer pairs = load(tmp_, j, "pairs.json");
    for (const char* s : {"ab", "abab ba", "a b c", "aab", "bab"})
        COMPARE_IDS(pairs.encode(s), strings.encode(s));
    COMPARE_IDS(pairs.encode("abab", false), (Ids{264, 263}));
}

void TestTokenizer::selfContainedIgnoreMerges() {
    json j = sentencepiece_json();
    j["model"]["vocab"]["\u2581abc"] = 266;  // not reachable by the merges
    const Tokenizer merges = load(tmp_, j);
    COMPARE_IDS(merges.encode("abc", false), (Ids{264, 265}));
    j["model"]["ignore_merges"] = true;  // Llama-3 style: a word in the vocab is taken whole
    const Tokenizer whole = load(tmp_, j, "ignore.json");
    COMPARE_IDS(whole.encode("abc", false), (Ids{266}));
    COMPARE_IDS(whole.encode("ab", false), (Ids{264}));
}

void TestTokenizer::selfContainedByteLevel() {
    const Tokenizer t = load(tmp_, byte_level_json());
    COMPARE_IDS(t.encode("the the"),
                (Ids{'t', 257, 258}));  // ByteLevel post-processor adds nothing
    COMPARE_IDS(t.encode("the<|end|>"), (Ids{'t', 257, 259}));
    COMPARE_IDS(t.encode("\u00e9", false), (Ids{0xC3, 0xA9}));
    QCOMPARE(t.decode(Ids{'t', 257, 259, 258}), std::string("the the"));
    QCOMPARE(t.decode(Ids{'t', 257, 259, 258}, false), std::string("the<|end|> the"));
    QCOMPARE(t.decode(Ids{0xC3, 0xA9}), std::string("\u00e9"));
    QCOMPARE(t.decode(Ids{'a', 0xC3}), std::string("a\ufffd"));  // cut character
    QCOMPARE(t.decode(Ids{0xE4, 0xB8, 'x'}),
             std::string("\ufffdx"));  // one U+FFFD per ill-formed subpart
    for (const char* s :
         {"Hello, world!\n\tcode(x) = 42;", "  spaces  ",
          "\u4e2d\u6587 \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9", "it's I'VE 12345"})
        QCOMPARE(t.decode(t.encode(s)), std::string(s));
}

void TestTokenizer::selfContainedNfc() {
    json j = byte_level_json();
    j["normalizer"] = {{"type", "NFC"}};  // as Qwen2's tokenizer.json has
    const Tokenizer t = load(tmp_, j, "nfc.json");
    COMPARE_IDS(t.encode("caf"
                         "e\u0301"),
                t.encode("caf\u00e9"));
    COMPARE_IDS(t.encode("e\u0301", false), (Ids{0xC3, 0xA9}));
    QCOMPARE(t.decode(t.encode("e\u0301")), std::string("\u00e9"));
}

void TestTokenizer::selfContainedConfig() {
    json j = sentencepiece_json();
    j["post_processor"] = nullptr;
    const auto json_path = write_file(tmp_, "cfg/tokenizer.json", j.dump());
    json cfg = {
        {"bos_token", {{"content", "<s>"}, {"lstrip", false}}},
        {"eos_token", "</s>"},
        {"add_bos_token", true},
        {"add_eos_token", true},
        {"chat_template",
         {{{"name", "tool_use"}, {"template", "T"}}, {{"name", "default"}, {"template", "D"}}}}};
    write_file(tmp_, "cfg/tokenizer_config.json", cfg.dump());
    const Tokenizer t = Tokenizer::from_folder(json_path.parent_path());
    COMPARE_IDS(t.encode("ab"), (Ids{1, 264, 2}));
    COMPARE_IDS(t.encode("ab", false), (Ids{264}));
    QCOMPARE(t.bos_id(), std::optional<std::int32_t>(1));
    QCOMPARE(t.eos_id(), std::optional<std::int32_t>(2));
    QCOMPARE(t.bos_token(), std::string("<s>"));
    QCOMPARE(t.eos_token(), std::string("</s>"));
    QCOMPARE(t.chat_template(), std::string("D"));

    // No chat_template in tokenizer_config.json: chat_template.jinja beside it is used.
    cfg.erase("chat_template");
    cfg["add_eos_token"] = false;
    write_file(tmp_, "cfg2/tokenizer.json", j.dump());
    write_file(tmp_, "cfg2/tokenizer_config.json", cfg.dump());
    write_file(tmp_, "cfg2/chat_template.jinja", "{{ bos_token }}{{ messages }}");
    const Tokenizer t2 =
        Tokenizer::from_folder(std::filesystem::path(tmp_.path().toStdString()) / "cfg2");
    QCOMPARE(t2.chat_template(), std::string("{{ bos_token }}{{ messages }}"));
    COMPARE_IDS(t2.encode("ab"), (Ids{1, 264}));
}

void TestTokenizer::streamDecoderHoldsPartialCharacters() {
    const Tokenizer t = load(tmp_, sentencepiece_json());
    {
        Tokenizer::StreamDecoder s(t);
        QCOMPARE(s.push(1), std::string());         // <s> skipped
        QCOMPARE(s.push(262), std::string("a"));    // leading ▁ stripped as in decode()
        QCOMPARE(s.push(3 + 0xC3), std::string());  // first byte of é: nothing yet
        QCOMPARE(s.push(3 + 0xA9), std::string("\u00e9"));
        QCOMPARE(s.push(259), std::string(" "));
        QCOMPARE(s.push(261), std::string("b"));
        QCOMPARE(s.flush(), std::string());
    }
    {
        // 中 = E4 B8 AD arrives byte by byte; then a byte run that never completes.
        Tokenizer::StreamDecoder s(t);
        const Ids ids{262, 3 + 0xE4, 3 + 0xB8, 3 + 0xAD, 3 + 0xE4, 3 + 0xB8, 261};
        std::vector<std::string> chunks;
        for (std::int32_t id : ids) chunks.push_back(s.push(id));
        chunks.push_back(s.flush());
        QCOMPARE(chunks,
                 (std::vector<std::string>{"a", "", "", "\u4e2d", "", "", "\ufffd\ufffdb", ""}));
        QCOMPARE(chunks[0] + chunks[3] + chunks[6], t.decode(ids));
    }
    {
        Tokenizer::StreamDecoder s(t);
        QCOMPARE(s.push(262), std::string("a"));
        QCOMPARE(s.push(3 + 0xF0), std::string());
        QCOMPARE(s.flush(), std::string("\ufffd"));  // what is left is returned, replaced
    }
    {
        // After a prompt the first word keeps its space, as in decode(prompt + continuation).
        const Ids prompt{1, 262};
        Tokenizer::StreamDecoder s(t, prompt);
        QCOMPARE(s.push(262), std::string(" a"));
        QCOMPARE(s.push(261), std::string("b"));
        QCOMPARE(t.decode(prompt) + " ab", t.decode(Ids{1, 262, 262, 261}));
        Tokenizer::StreamDecoder fresh(t);  // no context: the leading space is stripped
        QCOMPARE(fresh.push(262), std::string("a"));
        Tokenizer::StreamDecoder special_only(t, Ids{1});  // <s> decodes to nothing
        QCOMPARE(special_only.push(262), std::string("a"));
    }
    {
        Tokenizer::StreamDecoder s(t, /*skip_special=*/false);
        std::string all;
        const Ids ids{1, 262, 2, 259, 264};
        for (std::int32_t id : ids) all += s.push(id);
        all += s.flush();
        QCOMPARE(all, t.decode(ids, false));
    }
}

void TestTokenizer::invalidUtf8Input() {
    // Invalid UTF-8 is encoded as if each maximal ill-formed subpart were U+FFFD (what a
    // JavaScript string decoded from the bytes holds); encode never throws for it.
    const std::string fffd = "\ufffd";
    for (const json& j : {byte_level_json(), sentencepiece_json()}) {
        const Tokenizer t = load(tmp_, j, "utf8.json");
        COMPARE_IDS(t.encode("a\xff"
                             "b"),
                    t.encode("a" + fffd + "b"));
        COMPARE_IDS(t.encode("x\xe4\xb8"), t.encode("x" + fffd));             // cut 3-byte char
        COMPARE_IDS(t.encode("\xc0\xaf"), t.encode(fffd + fffd));             // overlong
        COMPARE_IDS(t.encode("\xed\xa0\x80"), t.encode(fffd + fffd + fffd));  // surrogate
        COMPARE_IDS(t.encode("\xf4\x90\x80\x80"),
                    t.encode(fffd + fffd + fffd + fffd));  // > U+10FFFF
        const std::string nul("a\0b", 3);
        QCOMPARE(t.decode(t.encode(nul)), nul);
        QVERIFY(valid_utf8(t.decode(t.encode("\x80\x81 ok \xfe"))));
    }
    const Tokenizer bl = load(tmp_, byte_level_json(), "utf8.json");
    QCOMPARE(bl.decode(bl.encode("a\xff"
                                 "b\xe4\xb8")),
             "a" + fffd + "b" + fffd);
}

void TestTokenizer::errors() {
    const std::filesystem::path dir = tmp_.path().toStdString();
    std::filesystem::create_directories(dir / "empty");
    expect_error([&] { Tokenizer::from_folder(dir / "empty"); }, ErrorKind::io,
                 {"tokenizer.json", (dir / "empty").string()});
    expect_error([&] { Tokenizer::from_files(dir / "nope.json"); }, ErrorKind::io, {"nope.json"});

    const auto bad = write_file(tmp_, "bad.json", "{\"model\": {\"type\": \"BPE\", ");
    expect_error([&] { Tokenizer::from_files(bad); }, ErrorKind::format,
                 {bad.string(), "invalid JSON"});
    const auto array = write_file(tmp_, "array.json", "[1, 2]");
    expect_error([&] { Tokenizer::from_files(array); }, ErrorKind::format, {array.string()});

    auto with = [&](const std::string& name, auto&& edit) {
        json j = sentencepiece_json();
        edit(j);
        return write_file(tmp_, name, j.dump());
    };
    const auto unigram = with("unigram.json", [](json& j) {
        j["model"] = {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", {{"<unk>", 0.0}}}};
    });
    expect_error([&] { Tokenizer::from_files(unigram); }, ErrorKind::unsupported,
                 {unigram.string(), "Unigram"});
    const auto wordpiece =
        with("wordpiece.json", [](json& j) { j["model"]["type"] = "WordPiece"; });
    expect_error([&] { Tokenizer::from_files(wordpiece); }, ErrorKind::unsupported, {"WordPiece"});
    const auto nfkc = with("nfkc.json", [](json& j) { j["normalizer"] = {{"type", "NFKC"}}; });
    expect_error([&] { Tokenizer::from_files(nfkc); }, ErrorKind::unsupported,
                 {nfkc.string(), "normalizer", "NFKC"});
    const auto pre = with("pre.json", [](json& j) {
        j["pre_tokenizer"] = {
            {"type", "Sequence"},
            {"pretokenizers", {{{"type", "CharDelimiterSplit"}, {"delimiter", "x"}}}}};
    });
    expect_error([&] { Tokenizer::from_files(pre); }, ErrorKind::unsupported,
                 {"pre_tokenizer", "CharDelimiterSplit"});
    const auto dec = with("dec.json", [](json& j) { j["decoder"] = {{"type", "CTC"}}; });
    expect_error([&] { Tokenizer::from_files(dec); }, ErrorKind::unsupported, {"decoder", "CTC"});
    const auto merge = with("merge.json", [](json& j) { j["model"]["merges"].push_back("a zz"); });
    expect_error([&] { Tokenizer::from_files(merge); }, ErrorKind::format, {"merges[3]", "zz"});
    const auto merge_form =
        with("merge_form.json", [](json& j) { j["model"]["merges"].push_back("ab"); });
    expect_error([&] { Tokenizer::from_files(merge_form); }, ErrorKind::format, {"merges[3]"});
    const auto vocab = with("vocab.json", [](json& j) { j["model"]["vocab"]["x"] = "seven"; });
    expect_error([&] { Tokenizer::from_files(vocab); }, ErrorKind::format, {"vocab", "'x'"});
    const auto regex = with("regex.json", [](json& j) {
        j["pre_tokenizer"] = {{"type", "Split"},
                              {"pattern", {{"Regex", "(unclosed"}}},
                              {"behavior", "Isolated"},
                              {"invert", false}};
    });
    expect_error([&] { Tokenizer::from_files(regex); }, ErrorKind::format,
                 {"(unclosed", "pre_tokenizer"});
    const auto no_model = with("no_model.json", [](json& j) { j.erase("model"); });
    expect_error([&] { Tokenizer::from_files(no_model); }, ErrorKind::format, {"model"});
    const auto unk = with("unk.json", [](json& j) { j["model"]["unk_token"] = "<nope>"; });
    expect_error([&] { Tokenizer::from_files(unk); }, ErrorKind::format, {"<nope>"});

    const auto good = write_file(tmp_, "good.json", sentencepiece_json().dump());
    const auto bad_cfg = write_file(tmp_, "bad_config.json", "{\"bos_token\": ");
    expect_error([&] { Tokenizer::from_files(good, bad_cfg); }, ErrorKind::format,
                 {bad_cfg.string()});
    const auto bad_bos =
        write_file(tmp_, "bad_bos.json", "{\"bos_token\": \"<nope>\", \"add_bos_token\": true}");
    expect_error([&] { Tokenizer::from_files(good, bad_bos); }, ErrorKind::format,
                 {bad_bos.string(), "<nope>"});
    const auto typed = write_file(tmp_, "typed.json", "{\"add_bos_token\": \"yes\"}");
    expect_error([&] { Tokenizer::from_files(good, typed); }, ErrorKind::format, {"add_bos_token"});
}

QTEST_APPLESS_MAIN(TestTokenizer)
