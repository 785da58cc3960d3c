// Fuzz target: encode and decode arbitrary text (or arbitrary ids) with fixed, real
// tokenizers: the fixtures' stories260K (SentencePiece BPE, byte fallback), GPT-2 (byte-level
// BPE) and Mistral-7B (Metaspace, byte fallback) when shared/fixtures is present, and the
// tiny tokenizers committed in seeds/tokenizer_json/ always.
//
// Input: byte 0 chooses the tokenizer (bits 0-3, modulo the number loaded) and the mode
// (bit 4: also stream-decode; bit 5: skip special tokens when decoding; bit 6: add special
// tokens when encoding; bit 7: the rest is little-endian int32 ids to decode instead of
// text); the rest is the text or the ids.
// Beyond tokenizer_checks.h, byte-level BPE without a normalizer is lossless, so for those
// tokenizers decode(encode(text)) must give back any valid UTF-8 text.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "meswitch/error.h"
#include "tokenizer_checks.h"

using namespace meswitch;
namespace fs = std::filesystem;

namespace {

struct Loaded {
    Tokenizer tokenizer;
    bool lossless;  // byte-level BPE, no normalizer: decode(encode(s)) == s for valid UTF-8
};

std::vector<Loaded> load_all() {
    std::vector<Loaded> out;
    auto add = [&out](const fs::path& json, bool lossless) {
        try {
            out.push_back({Tokenizer::from_files(json), lossless});
        } catch (const Error& e) {
            std::fprintf(stderr, "fuzz_tokenizer_encode: cannot load %s: %s\n", json.c_str(),
                         e.what());
            std::abort();
        }
    };
    const fs::path seeds = fs::path(MESWITCH_FUZZ_SEEDS_DIR) / "tokenizer_json";
    add(seeds / "tiny-sentencepiece.json", false);
    add(seeds / "tiny-bytelevel.json", true);
    add(seeds / "tiny-split-regex.json", false);
    add(seeds / "tiny-metaspace.json", false);
    if (auto f = fuzz::fixture("stories260K-hf/tokenizer.json")) add(*f, false);
    if (auto f = fuzz::fixture("tokenizers/gpt2/tokenizer.json")) add(*f, true);
    if (auto f = fuzz::fixture("tokenizers/mistral-7b/tokenizer.json")) add(*f, false);
    std::fprintf(stderr, "fuzz_tokenizer_encode: %zu tokenizers loaded%s\n", out.size(),
                 out.size() < 7 ? " (shared/fixtures absent: tiny ones only)" : "");
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::vector<Loaded> tokenizers = load_all();
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    const Loaded& t = tokenizers[(mode & 0x0F) % tokenizers.size()];
    const bool stream = mode & 0x10, skip_special = mode & 0x20, add_special = mode & 0x40,
               ids_mode = mode & 0x80;
    ++data, --size;
    try {
        if (ids_mode) {
            std::vector<std::int32_t> ids(size / 4);
            if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * 4);
            fuzz::check_decode(t.tokenizer, ids, skip_special, stream);
            return 0;
        }
        const std::string_view text(reinterpret_cast<const char*>(data), size);
        const auto ids = fuzz::check_encode(t.tokenizer, text, add_special, skip_special, stream);
        if (t.lossless && !add_special && !skip_special && fuzz::is_valid_utf8(text))
            FUZZ_CHECK(t.tokenizer.decode(ids, false) == text);
    } catch (const Error& e) {
        // encode/decode of any text or ids is documented never to fail.
        std::fprintf(stderr, "encode/decode threw: %s\n", e.what());
        FUZZ_CHECK(!"Tokenizer::encode/decode threw on input");
    }
    return 0;
}
