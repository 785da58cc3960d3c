// test_tokenizer: one Qt Test class, its slots spread over three files:
// test_tokenizer.cpp (a tokenizer.json written by the test: runs on a clean machine),
// test_tokenizer_fixtures.cpp (real tokenizers from shared/fixtures against reference ids),
// test_tokenizer_parts.cpp (pipeline components: split behaviours, regexes, added tokens, UTF-8).
#pragma once

#include <QObject>
#include <QTemporaryDir>

#include <filesystem>
#include <string>
#include <vector>

class TestTokenizer : public QObject {
    Q_OBJECT

private slots:
    // test_tokenizer.cpp
    void selfContainedEncode();
    void selfContainedDecode();
    void selfContainedByteFallbackAndUnk();
    void selfContainedMergesAsPairs();
    void selfContainedIgnoreMerges();
    void selfContainedByteLevel();
    void selfContainedNfc();
    void selfContainedConfig();
    void streamDecoderHoldsPartialCharacters();
    void invalidUtf8Input();
    void errors();

    // test_tokenizer_fixtures.cpp
    void referenceIds_data();
    void referenceIds();
    void streamDecodeMatchesDecode_data();
    void streamDecodeMatchesDecode();
    void fixtureProperties();
    void stories260KMatchesRunC();
    void byteFallbackInvalidBytes();

    // test_tokenizer_parts.cpp
    void splitBehaviors();
    void llama3AndQwen2Patterns();
    void gpt2Pattern();
    void preTokenizers();
    void addedTokenMatching();
    void utf8Repair();
    void decoders();
    void unicodeNormalization();

private:
    QTemporaryDir tmp_;
};

namespace tokenizer_test {

// Writes `text` to `name` inside `dir` and returns the path.
std::filesystem::path write_file(const QTemporaryDir& dir, const std::string& name,
                                 const std::string& text);

// True when `s` is well-formed UTF-8.
bool valid_utf8(const std::string& s);

std::string ids_to_string(const std::vector<std::int32_t>& ids);

}  // namespace tokenizer_test
