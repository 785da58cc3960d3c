// The generation loop as a user sees it: streamed text equals the result, stop strings cut
// the text and never leak, cancellation between tokens, EOS / BOS / token-limit / context
// stops, seeded sampling reproducible, continuing a cache.
#include <QtTest>

#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/model.h"
#include "meswitch/progress.h"
#include "meswitch/tokenizer.h"
#include "model/synthetic.h"
#include "test_support.h"

using namespace meswitch;

namespace {

struct Run {
    GenerateResult result;
    std::string streamed;
    std::vector<std::string> pieces;
};

Run run(Model& model, const Tokenizer& tok, std::vector<std::int32_t> prompt,
        const GenerateOptions& opt, const std::function<void(Run&)>& after_piece = {}) {
    Run r;
    r.result = generate(model, tok, prompt, opt, [&](std::string_view piece) {
        r.streamed += piece;
        r.pieces.emplace_back(piece);
        if (after_piece) after_piece(r);
    });
    return r;
}

}  // namespace

class TestGenerate : public QObject {
    Q_OBJECT

private slots:
    void stop_string_cuts_and_never_leaks() {
        MESWITCH_REQUIRE_FIXTURE(dir, "stories260K-hf");
        Model model = Model::load(dir);
        const Tokenizer tok = Tokenizer::from_folder(dir);
        GenerateOptions opt;
        opt.max_tokens = 60;
        opt.sampling.temperature = 0.0f;
        const Run full = run(model, tok, {1}, opt);
        QCOMPARE(full.streamed, full.result.text);
        const std::string stop = "girl na";  // spans tokens
        const auto at = full.result.text.find(stop);
        QVERIFY2(at != std::string::npos, full.result.text.c_str());

        opt.stop_strings = {"no such stop", stop};
        bool leaked = false;
        const Run cut = run(model, tok, {1}, opt, [&](Run& r) {
            if (r.streamed.find("girl") != std::string::npos) leaked = true;
        });
        QCOMPARE(cut.result.stop_reason, std::string("stop_string"));
        QCOMPARE(cut.result.text, full.result.text.substr(0, at));
        QCOMPARE(cut.streamed, cut.result.text);
        QVERIFY(!leaked);
        QVERIFY(cut.result.tokens.size() < full.result.tokens.size());
    }

    // A continuation reads exactly as the prompt and continuation decoded together: "Tom went
    // to the store and" + " saw a big box", not "saw" (issue #19). A chat answer
    // (continues_prompt false) starts its message without the space.
    void continuation_keeps_its_leading_space() {
        MESWITCH_REQUIRE_FIXTURE(dir, "stories260K-hf");
        Model model = Model::load(dir);
        const Tokenizer tok = Tokenizer::from_folder(dir);
        GenerateOptions opt;
        opt.max_tokens = 12;
        opt.sampling.temperature = 0.0f;
        const std::string prompt = "Tom went to the store and";
        const auto ids = tok.encode(prompt);
        const Run r = run(model, tok, ids, opt);
        QCOMPARE(r.streamed, r.result.text);
        QVERIFY2(r.result.text.size() > 1 && r.result.text[0] == ' ', r.result.text.c_str());
        std::vector<std::int32_t> all = ids;
        all.insert(all.end(), r.result.tokens.begin(), r.result.tokens.end());
        QCOMPARE(tok.decode(ids) + r.result.text, tok.decode(all));
        QCOMPARE(tok.decode(ids), prompt);

        opt.continues_prompt = false;
        const Run answer = run(model, tok, ids, opt);
        QCOMPARE(answer.result.tokens, r.result.tokens);
        QCOMPARE(" " + answer.result.text, r.result.text);
    }

    void cancellation_between_tokens() {
        MESWITCH_REQUIRE_FIXTURE(dir, "stories260K-hf");
        Model model = Model::load(dir);
        const Tokenizer tok = Tokenizer::from_folder(dir);
        CancelToken cancel;
        GenerateOptions opt;
        opt.max_tokens = 100;
        opt.sampling.temperature = 0.0f;
        opt.cancel = &cancel;
        const Run r = run(model, tok, {1}, opt, [&](Run& run) {
            if (run.pieces.size() == 3) cancel.cancel();
        });
        QCOMPARE(r.result.stop_reason, std::string("cancelled"));
        QCOMPARE(r.pieces.size(), std::size_t(3));
        QCOMPARE(r.result.tokens.size(), std::size_t(3));
        QCOMPARE(r.streamed, r.result.text);
        // already cancelled: nothing runs
        const Run none = run(model, tok, {1}, opt);
        QCOMPARE(none.result.stop_reason, std::string("cancelled"));
        QVERIFY(none.result.tokens.empty());
    }

    void limits_seeds_and_cache_continuation() {
        MESWITCH_REQUIRE_FIXTURE(dir, "stories260K-hf");
        Model model = Model::load(dir);
        const Tokenizer tok = Tokenizer::from_folder(dir);
        GenerateOptions opt;
        opt.max_tokens = 5;
        opt.sampling.temperature = 0.9f;
        opt.sampling.top_p = 0.9f;
        opt.sampling.seed = 42;
        const auto prompt = tok.encode("Once upon a time");
        const Run a = run(model, tok, prompt, opt), b = run(model, tok, prompt, opt);
        QCOMPARE(a.result.stop_reason, std::string("max_tokens"));
        QCOMPARE(a.result.tokens.size(), std::size_t(5));
        QCOMPARE(a.result.tokens, b.result.tokens);  // same seed, same story
        QCOMPARE(a.result.prompt_tokens, static_cast<int>(prompt.size()));
        QVERIFY(a.result.prefill_ms >= 0 && a.result.decode_ms >= 0);

        // context full: capacity 4, prompt 2 → two decode steps fit, the third token ends it
        KvCache small = model.make_cache(4);
        opt.max_tokens = 10;
        opt.sampling = {};
        opt.sampling.temperature = 0.0f;
        const std::vector<std::int32_t> two{1, 403};
        const GenerateResult r = generate(model, tok, small, two, opt);
        QCOMPARE(r.stop_reason, std::string("context_full"));
        QCOMPARE(r.tokens.size(), std::size_t(3));
        QCOMPARE(small.size(), 4);

        // continuing a cache equals one generation over the joined prompt
        opt.max_tokens = 6;
        KvCache cache = model.make_cache(64);
        const GenerateResult first =
            generate(model, tok, cache, std::vector<std::int32_t>{1, 403, 407}, opt);
        const std::vector<std::int32_t> next{first.tokens.back()};
        const GenerateResult second = generate(model, tok, cache, next, opt);
        std::vector<std::int32_t> joined{1, 403, 407};
        joined.insert(joined.end(), first.tokens.begin(), first.tokens.end());
        opt.max_tokens = 6;
        const GenerateResult direct = generate(model, tok, joined, opt);
        QCOMPARE(second.tokens, direct.tokens);

        QVERIFY_THROWS_EXCEPTION(Error, generate(model, tok, std::vector<std::int32_t>{}, opt));
        opt.max_tokens = -1;
        QVERIFY_THROWS_EXCEPTION(Error, generate(model, tok, two, opt));
    }

    void eos_and_bos_stop() {
        MESWITCH_REQUIRE_FIXTURE(dir, "stories260K-hf");
        const Tokenizer tok = Tokenizer::from_folder(dir);
        for (std::int32_t favourite : {2, 1}) {
            // A model that always predicts `favourite`: every embedding row is all ones and
            // o_proj / down_proj are zero, so the final state is a positive constant vector;
            // the head's `favourite` row is all ones, the others zero.
            ModelConfig c;
            c.hidden_size = 16;
            c.intermediate_size = 32;
            c.num_hidden_layers = 1;
            c.num_attention_heads = 2;
            c.num_key_value_heads = 1;
            c.head_dim = 8;
            c.vocab_size = 512;
            c.max_position_embeddings = 64;
            c.bos_token_id = 1;
            c.eos_token_ids = {2};
            auto w = model::random_weights(c, DType::f32, 5);
            w.at("model.embed_tokens.weight") =
                HostTensor::from_f32({512, 16}, std::vector<float>(512 * 16, 1.0f));
            w.at("model.norm.weight") = HostTensor::from_f32({16}, std::vector<float>(16, 1.0f));
            w.at("model.layers.0.self_attn.o_proj.weight") =
                HostTensor::from_f32({16, 16}, std::vector<float>(256, 0.0f));
            w.at("model.layers.0.mlp.down_proj.weight") =
                HostTensor::from_f32({16, 32}, std::vector<float>(512, 0.0f));
            std::vector<float> head(512 * 16, 0.0f);
            for (int i = 0; i < 16; ++i) head[favourite * 16 + i] = 1.0f;
            w.at("lm_head.weight") = HostTensor::from_f32({512, 16}, head);
            Model model = Model::from_tensors(c, std::move(w), {1});
            const std::vector<std::int32_t> prompt{1, 300};
            GenerateOptions opt;
            opt.max_tokens = 8;
            opt.sampling.temperature = 0.0f;
            opt.stop_on_bos = true;
            const Run r = run(model, tok, prompt, opt);
            QCOMPARE(r.result.stop_reason, std::string(favourite == 2 ? "eos" : "bos"));
            QVERIFY(r.result.tokens.empty());
            QVERIFY(r.result.text.empty());
            // without the stop flags the same token is simply generated (and not shown)
            opt.stop_on_bos = false;
            opt.stop_on_eos = false;
            const Run all = run(model, tok, prompt, opt);
            QCOMPARE(all.result.stop_reason, std::string("max_tokens"));
            QCOMPARE(all.result.tokens, std::vector<std::int32_t>(8, favourite));
        }
    }
};

QTEST_GUILESS_MAIN(TestGenerate)
#include "test_generate.moc"
