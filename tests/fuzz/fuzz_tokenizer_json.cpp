// Fuzz target: a tokenizer.json file loaded by Tokenizer::from_files (every model, normalizer,
// pre-tokenizer, post-processor, decoder and added-token setting it reads), then a few fixed
// texts encoded and decoded through it (tokenizer_checks.h).
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "meswitch/error.h"
#include "tokenizer_checks.h"

using namespace meswitch;

namespace {

// Short texts that reach the interesting paths: prefix spaces, special-token text, digits,
// newlines, several scripts, emoji, invalid UTF-8.
constexpr std::string_view texts[] = {
    "",
    "Hello world",
    "  two  spaces\tand tab\r\nnew line",
    "<s>special</s><unk><|endoftext|>[INST]",
    "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xd8\xa7\xd9\x84 \xf0\x9f\x99\x82 \xe2\x96\x81x",
    "12345 don't I'll",
    "bad \xff\xfe \xe4\xb8 \xc0\xaf",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto file = fuzz::scratch() / "tokenizer.json";
    fuzz::write_file(file, data, size);
    try {
        const Tokenizer tok = Tokenizer::from_files(file);
        fuzz::check_vocabulary(tok);
        bool flag = false;
        for (std::string_view text : texts) {
            // Stream-decode the longest, most varied text only (the scripts and emoji one).
            fuzz::check_encode(tok, text, flag, !flag, text == texts[4]);
            flag = !flag;
        }
        // Ids around the vocabulary's edges, and past it (skipped by decode).
        const auto n = static_cast<std::int32_t>(std::min<std::size_t>(tok.vocab_size(), 1 << 20));
        const std::int32_t ids[] = {0, 1, 2, 3, n / 2, n - 1, n, -1, INT32_MAX, 0};
        fuzz::check_decode(tok, ids, true);
        fuzz::check_decode(tok, ids, false);
    } catch (const Error&) {
        // Refusing a malformed or unsupported tokenizer with a message is the expected outcome.
    }
    return 0;
}
