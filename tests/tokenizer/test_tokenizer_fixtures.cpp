// Real tokenizers from shared/fixtures (GPT-2 byte-level BPE, Mistral-7B SentencePiece BPE with
// byte fallback, stories260K) against reference ids and decodes made by @huggingface/tokenizers.
// The references live in data/expected_<name>.json; to regenerate them:
//   cd tests/tokenizer/tools && npm install --ignore-scripts && node make_expected.mjs
// (see the header of make_expected.mjs for the conventions). Each tokenizer's rows are skipped
// when its fixture is absent.
#include <QtTest>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "meswitch/tokenizer.h"
#include "test_support.h"
#include "test_tokenizer.h"

using meswitch::Tokenizer;
using Ids = std::vector<std::int32_t>;
using nlohmann::json;
using namespace tokenizer_test;

namespace {

json load_expected(const QString& name) {
    const std::string path =
        std::string(MESWITCH_TOKENIZER_DATA) + "/expected_" + name.toStdString() + ".json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return json::parse(in);
}

void add_fixture_rows() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("fixture");
    QTest::newRow("gpt2") << "gpt2"
                          << "tokenizers/gpt2";
    QTest::newRow("mistral-7b") << "mistral-7b"
                                << "tokenizers/mistral-7b";
    QTest::newRow("stories260K") << "stories260K"
                                 << "stories260K-hf";
}

std::string shown(const std::string& s) {
    return json(s).dump();
}

}  // namespace

void TestTokenizer::referenceIds_data() {
    add_fixture_rows();
}

void TestTokenizer::referenceIds() {
    QFETCH(QString, name);
    QFETCH(QString, fixture);
    const QByteArray sub = fixture.toUtf8();
    MESWITCH_REQUIRE_FIXTURE(dir, sub.constData());
    const Tokenizer t = Tokenizer::from_folder(dir);
    const json expected = load_expected(name);
    QVERIFY(expected["cases"].size() >= 120);
    int round_trips = 0;
    for (const json& c : expected["cases"]) {
        const std::string text = c["text"].get<std::string>();
        const Ids ids = c["ids"].get<Ids>();
        const std::string context = "text " + shown(text);
        QVERIFY2(
            ids_to_string(t.encode(text)) == ids_to_string(ids),
            qPrintable(QString::fromStdString(context + ": got " + ids_to_string(t.encode(text)) +
                                              ", expected " + ids_to_string(ids))));
        QVERIFY2(t.encode(text, false) == c["ids_no_special"].get<Ids>(),
                 qPrintable(QString::fromStdString(context)));
        const std::string decoded = t.decode(ids);
        QVERIFY2(decoded == c["decode"].get<std::string>(),
                 qPrintable(QString::fromStdString(context + ": decoded " + shown(decoded))));
        QVERIFY2(t.decode(ids, false) == c["decode_keep_special"].get<std::string>(),
                 qPrintable(QString::fromStdString(context)));
        if (c["round_trip"].get<bool>()) {
            QCOMPARE(decoded, text);
            ++round_trips;
        }
    }
    QVERIFY(round_trips >= 100);
}

void TestTokenizer::streamDecodeMatchesDecode_data() {
    add_fixture_rows();
}

// Pushing one id at a time never yields invalid UTF-8 (so never half a character), and the
// pieces concatenate to decode(all ids) — for every reference string, with and without
// special tokens skipped.
void TestTokenizer::streamDecodeMatchesDecode() {
    QFETCH(QString, name);
    QFETCH(QString, fixture);
    const QByteArray sub = fixture.toUtf8();
    MESWITCH_REQUIRE_FIXTURE(dir, sub.constData());
    const Tokenizer t = Tokenizer::from_folder(dir);
    const json expected = load_expected(name);
    int held_back = 0;  // pushes that returned nothing although the id carried bytes
    for (const json& c : expected["cases"]) {
        const Ids ids = c["ids"].get<Ids>();
        for (bool skip : {true, false}) {
            Tokenizer::StreamDecoder stream(t, skip);
            std::string all;
            for (std::int32_t id : ids) {
                const std::string piece = stream.push(id);
                QVERIFY2(valid_utf8(piece),
                         qPrintable(QString::fromStdString("text " + shown(c["text"]))));
                if (piece.empty() && !t.is_special(id)) ++held_back;
                all += piece;
            }
            all += stream.flush();
            QVERIFY2(all == t.decode(ids, skip),
                     qPrintable(QString::fromStdString("text " + shown(c["text"]) + ": streamed " +
                                                       shown(all))));
            // The second half streamed after the first as context (a generation after its
            // prompt) reads as it does in the whole decode, wherever the first half ends in a
            // complete character.
            const std::size_t k = ids.size() / 2;
            const Ids head(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k));
            const std::string head_text = t.decode(head, skip);
            const std::string whole = t.decode(ids, skip);
            if (k == 0 || whole.rfind(head_text, 0) != 0 ||
                head_text.find("\ufffd") != std::string::npos)
                continue;
            Tokenizer::StreamDecoder after(t, head, skip);
            std::string rest;
            for (std::size_t i = k; i < ids.size(); ++i) rest += after.push(ids[i]);
            rest += after.flush();
            QVERIFY2(head_text + rest == whole,
                     qPrintable(QString::fromStdString("text " + shown(c["text"]) +
                                                       ": after its first half, streamed " +
                                                       shown(rest))));
        }
    }
    // Multi-byte characters split over ids (byte fallback, byte-level pieces) were exercised.
    QVERIFY(held_back > 0);
}

void TestTokenizer::fixtureProperties() {
    if (const auto gpt2 = meswitch::test::fixture("tokenizers/gpt2")) {
        const Tokenizer t = Tokenizer::from_folder(*gpt2);
        QCOMPARE(t.vocab_size(), std::size_t{50257});
        QCOMPARE(t.bos_id(), std::optional<std::int32_t>(50256));
        QCOMPARE(t.eos_id(), std::optional<std::int32_t>(50256));
        QCOMPARE(t.id_to_token(50256), std::string("<|endoftext|>"));
        QCOMPARE(t.token_to_id("\u0120the"), std::optional<std::int32_t>(262));
        QVERIFY(t.is_special(50256));
        // No template and no add_bos_token: nothing is added.
        QCOMPARE(t.encode("Hello"), t.encode("Hello", false));
    }
    if (const auto mistral = meswitch::test::fixture("tokenizers/mistral-7b")) {
        const Tokenizer t = Tokenizer::from_folder(*mistral);
        QCOMPARE(t.vocab_size(), std::size_t{32000});
        QCOMPARE(t.bos_id(), std::optional<std::int32_t>(1));
        QCOMPARE(t.eos_id(), std::optional<std::int32_t>(2));
        QCOMPARE(t.bos_token(), std::string("<s>"));
        QCOMPARE(t.eos_token(), std::string("</s>"));
        QCOMPARE(t.id_to_token(13), std::string("<0x0A>"));
        QVERIFY(t.is_special(0) && t.is_special(1) && t.is_special(2) && !t.is_special(3));
    }
    if (const auto stories = meswitch::test::fixture("stories260K-hf")) {
        const Tokenizer t = Tokenizer::from_folder(*stories);
        QCOMPARE(t.vocab_size(), std::size_t{512});
        QCOMPARE(t.bos_id(), std::optional<std::int32_t>(1));
        QCOMPARE(t.eos_id(), std::optional<std::int32_t>(2));
        QCOMPARE(t.chat_template(), std::string());
    }
    if (!meswitch::test::fixture("tokenizers/gpt2") && !meswitch::test::fixture("stories260K-hf"))
        QSKIP(
            "fixtures shared/fixtures/tokenizers and stories260K-hf not found (see "
            "shared/fixtures/README.md)");
}

// README: tokenizer.json reproduces llama2.c run.c's encode(); run.c's reference prompt ids
// for "Once upon a time" are in stories260K/ref_ids_once_upon_a_time.txt.
void TestTokenizer::stories260KMatchesRunC() {
    MESWITCH_REQUIRE_FIXTURE(hf, "stories260K-hf");
    MESWITCH_REQUIRE_FIXTURE(upstream, "stories260K");
    std::ifstream in(upstream / "ref_ids_once_upon_a_time.txt");
    QVERIFY(in.good());
    Ids prompt, sequence;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string label;
        words >> label;
        Ids* target = label == "prompt_ids:"     ? &prompt
                      : label == "sequence_fed:" ? &sequence
                                                 : nullptr;
        for (std::int32_t id; target && words >> id;) target->push_back(id);
    }
    QVERIFY(!prompt.empty() && sequence.size() == 64);
    const Tokenizer t = Tokenizer::from_folder(hf);
    QCOMPARE(ids_to_string(t.encode("Once upon a time")), ids_to_string(prompt));
    const std::string story = t.decode(sequence);
    QVERIFY(story.starts_with("Once upon a time"));
    // The 64 ids are the start of run.c's greedy generation: same text as its stdout.
    std::ifstream runc_file(upstream / "expected_runc_t0_n200.txt", std::ios::binary);
    const std::string runc((std::istreambuf_iterator<char>(runc_file)),
                           std::istreambuf_iterator<char>());
    QVERIFY2(runc.starts_with(story), qPrintable(QString::fromStdString(shown(story))));
    QCOMPARE(ids_to_string(t.encode(story)), ids_to_string(sequence));
}

// ByteFallback decoding of byte runs that are not valid UTF-8 (a model can emit them).
void TestTokenizer::byteFallbackInvalidBytes() {
    MESWITCH_REQUIRE_FIXTURE(dir, "tokenizers/mistral-7b");
    const Tokenizer t = Tokenizer::from_folder(dir);
    const auto byte = [&](int b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        return *t.token_to_id(name);
    };
    const std::int32_t hello = *t.token_to_id("\u2581Hello");
    QCOMPARE(t.decode(Ids{hello, byte(0xE4), byte(0xB8), byte(0xAD)}), std::string("Hello\u4e2d"));
    QCOMPARE(t.decode(Ids{hello, byte(0xE4), byte(0xB8)}), std::string("Hello\ufffd\ufffd"));
    QCOMPARE(t.decode(Ids{hello, byte(0xFF), byte(0x41)}), std::string("Hello\ufffdA"));
    QCOMPARE(t.decode(Ids{byte(0xE4), byte(0xB8), byte(0xAD), byte(0xE4), hello}),
             std::string("\u4e2d\ufffd Hello"));
}
