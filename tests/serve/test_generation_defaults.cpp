// A model's generation_config.json defaults (issue #19): parsed strictly (a bad value names the
// file and the key), stored in the catalog at import, and used wherever the model answers —
// the base, an expert with its own defaults — under the caller's explicit choices, which win.
#include <QtTest>

#include <fstream>
#include <future>

#include "meswitch/catalog.h"
#include "meswitch/engine.h"
#include "meswitch/error.h"
#include "meswitch/generation_defaults.h"
#include "meswitch/import.h"
#include "tiny_model.h"

using namespace meswitch;
namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
}

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

RequestOutcome answer(Engine& engine, GenerateRequest r) {
    std::promise<RequestOutcome> done;
    RequestCallbacks cb;
    cb.on_finished = [&done](const RequestOutcome& o) { done.set_value(o); };
    engine.generate(r, std::move(cb));
    return done.get_future().get();
}

GenerateRequest request(const std::string& expert, bool defaults) {
    GenerateRequest r;
    r.prompt = "Once upon a time";
    r.expert = expert;
    r.options.max_tokens = 12;
    r.options.sampling.temperature = 0.0f;
    r.options.stop_on_eos = false;  // random weights: every answer runs to its token limit
    r.use_model_defaults = defaults;
    return r;
}

}  // namespace

class TestGenerationDefaults : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    fs::path path(const std::string& sub) const {
        return fs::path(m_dir.path().toStdString()) / sub;
    }

private slots:
    void parses_hugging_face_files() {
        const GenerationDefaults d = GenerationDefaults::parse(
            R"({"_from_model_config": true, "bos_token_id": 1, "do_sample": true,
                "temperature": 0.6, "top_p": 0.9, "top_k": 40, "repetition_penalty": 1.1,
                "max_new_tokens": 64, "eos_token_id": [2, 32007], "transformers_version": "4.44"})",
            "generation_config.json");
        QCOMPARE(d.temperature.value(), 0.6f);
        QCOMPARE(d.top_p.value(), 0.9f);
        QCOMPARE(d.top_k.value(), 40);
        QCOMPARE(d.repetition_penalty.value(), 1.1f);
        QCOMPARE(d.max_new_tokens.value(), 64);
        QCOMPARE(d.eos_token_ids, (std::vector<std::int32_t>{2, 32007}));
        QCOMPARE(d.describe(), std::string("temperature 0.6, top_p 0.9, top_k 40, repetition "
                                           "penalty 1.1, at most 64 new tokens, stops at 2 32007"));
        // The stored form reads back the same.
        const GenerationDefaults back = GenerationDefaults::parse(d.to_json(), "stored");
        QCOMPARE(back.to_json(), d.to_json());
        QCOMPARE(back.describe(), d.describe());

        // do_sample false is greedy whatever the temperature says (as transformers does).
        const GenerationDefaults greedy =
            GenerationDefaults::parse(R"({"do_sample": false, "temperature": 0.9})", "g");
        QCOMPARE(greedy.temperature.value(), 0.0f);
        QVERIFY(GenerationDefaults::parse(R"({"eos_token_id": 2})", "e").eos_token_ids ==
                std::vector<std::int32_t>{2});
        QVERIFY(GenerationDefaults::parse("{}", "empty").empty());
        QCOMPARE(GenerationDefaults{}.to_json(), std::string());
        QCOMPARE(GenerationDefaults{}.describe(), std::string("none"));

        struct Bad {
            const char* text;
            const char* says;
        };
        for (const Bad& b :
             {Bad{R"({"temperature": "hot"})", "'temperature' must be a number"},
              Bad{R"({"temperature": -1})", "'temperature' is -1, outside"},
              Bad{R"({"top_p": 0})", "'top_p' is 0, outside (0, 1]"},
              Bad{R"({"top_k": 2.5})", "'top_k' must be a whole number"},
              Bad{R"({"max_new_tokens": 0})", "'max_new_tokens' is 0, outside"},
              Bad{R"({"do_sample": "yes"})", "'do_sample' must be true or false"},
              Bad{R"({"eos_token_id": [2, -3]})", "'eos_token_id' must be a token id"},
              Bad{R"({"top_p": 0.9, "top_p": 0.5})", "appears twice"},
              Bad{R"([1, 2])", "not a JSON object"}, Bad{R"({"temperature": )", "invalid JSON"}}) {
            const std::string e = error_of(
                [&] { GenerationDefaults::parse(b.text, "/models/x/generation_config.json"); });
            QVERIFY2(e.find("/models/x/generation_config.json") != std::string::npos,
                     (std::string(b.text) + " -> " + e).c_str());
            QVERIFY2(e.find(b.says) != std::string::npos,
                     (std::string(b.text) + " -> " + e).c_str());
        }
    }

    // The caller's explicit choices win over the model's defaults, which win over the front
    // end's own values; without defaults only the choices apply.
    void explicit_choices_win() {
        GenerateOptions base;
        base.max_tokens = 256;
        base.sampling.temperature = 0.7f;
        base.sampling.top_p = 0.95f;
        GenerationDefaults d;
        d.temperature = 0.0f;
        d.max_new_tokens = 32;
        d.eos_token_ids = {7};
        SamplingChoice none, chosen;
        chosen.temperature = 1.2f;
        GenerateOptions o = resolve_sampling(base, d, none);
        QCOMPARE(o.sampling.temperature, 0.0f);
        QCOMPARE(o.max_tokens, 32);
        QCOMPARE(o.sampling.top_p, 0.95f);  // the model says nothing about top_p
        QCOMPARE(o.stop_ids, std::vector<std::int32_t>{7});
        o = resolve_sampling(o, d, none);  // resolving twice changes nothing
        QCOMPARE(o.stop_ids, std::vector<std::int32_t>{7});
        o = resolve_sampling(base, d, chosen);
        QCOMPARE(o.sampling.temperature, 1.2f);
        QCOMPARE(o.max_tokens, 32);
        o = resolve_sampling(base, {}, chosen);  // defaults not used
        QCOMPARE(o.sampling.temperature, 1.2f);
        QCOMPARE(o.max_tokens, 256);
        QVERIFY(o.stop_ids.empty());
        QCOMPARE(describe_sampling(base),
                 std::string("temperature 0.7, top_p 0.95, at most 256 tokens"));
    }

    // Import stores the defaults; the engine answers the base and each expert with their own,
    // under the request's explicit choices; a hostile file refuses the import, naming it.
    void import_stores_and_the_engine_uses_them() {
        QVERIFY(m_dir.isValid());
        test::TinyModelSpec spec;
        spec.seed = 4;
        const fs::path base = path("base"), expert = path("expert"), bad = path("bad");
        test::write_tiny_model(base, spec);
        test::write_expert_of(base, expert, 0.02, 5);
        test::write_expert_of(base, bad, 0.02, 6);
        write_text(base / "generation_config.json",
                   R"({"bos_token_id": 1, "do_sample": false, "max_new_tokens": 5})");
        write_text(expert / "generation_config.json",
                   R"({"do_sample": true, "temperature": 0.0, "max_new_tokens": 3, "top_k": 1})");
        write_text(bad / "generation_config.json", R"({"max_new_tokens": "many"})");

        const fs::path db = path("catalog.sqlite");
        {
            Catalog cat(db);
            ImportOptions bo;
            bo.name = "tiny-base";
            const ModelRecord b = import_model(cat, base, bo);
            QCOMPARE(generation_defaults_of(b).max_new_tokens.value(), 5);
            QCOMPARE(generation_defaults_of(*cat.find_model("tiny-base")).describe(),
                     std::string("temperature 0 (greedy), at most 5 new tokens"));
            ImportOptions eo;
            eo.name = "tiny-expert";
            eo.base = "tiny-base";
            import_model(cat, expert, eo);
            QCOMPARE(generation_defaults_of(*cat.find_model("tiny-expert")).max_new_tokens.value(),
                     3);

            const ModelInspection insp = inspect_model(bad);
            QCOMPARE(insp.problems.size(), std::size_t(1));
            QVERIFY2(insp.problems[0].find((bad / "generation_config.json").string()) !=
                             std::string::npos &&
                         insp.problems[0].find("'max_new_tokens' must be a whole number") !=
                             std::string::npos,
                     insp.problems[0].c_str());
            QCOMPARE(inspect_model(expert).generation.describe(),
                     std::string("temperature 0 (greedy), top_k 1, at most 3 new tokens"));
            ImportOptions xo;
            xo.name = "tiny-bad";
            xo.base = "tiny-base";
            const std::string e = error_of([&] { import_model(cat, bad, xo); });
            QVERIFY2(e.find("max_new_tokens") != std::string::npos, e.c_str());
            QVERIFY(!cat.find_model("tiny-bad"));  // nothing half-imported
        }

        EngineOptions eo;
        eo.base = base;
        eo.catalog = db;
        eo.device = "cpu";
        eo.threads = 1;
        Engine engine(eo);
        engine.wait_ready();
        RequestOutcome o = answer(engine, request("", true));
        QVERIFY2(o.ok, o.error.c_str());
        QCOMPARE(o.generation.tokens.size(), std::size_t(5));  // the base's max_new_tokens
        QCOMPARE(o.model_defaults, std::string("temperature 0 (greedy), at most 5 new tokens"));
        QCOMPARE(o.sampling, std::string("temperature 0 (greedy), at most 5 tokens"));
        o = answer(engine, request("tiny-expert", true));  // full weights: not compressed
        QVERIFY2(o.ok, o.error.c_str());
        QCOMPARE(o.generation.tokens.size(), std::size_t(3));  // the expert's own
        QVERIFY2(o.sampling.find("top_k 1") != std::string::npos, o.sampling.c_str());

        GenerateRequest chosen = request("tiny-expert", true);
        chosen.chosen.max_tokens = 7;  // the user's explicit choice wins
        o = answer(engine, chosen);
        QVERIFY2(o.ok, o.error.c_str());
        QCOMPARE(o.generation.tokens.size(), std::size_t(7));

        o = answer(engine, request("tiny-expert", false));  // defaults off: the request's own
        QVERIFY2(o.ok, o.error.c_str());
        QCOMPARE(o.generation.tokens.size(), std::size_t(12));
        QVERIFY2(o.model_defaults.empty(), o.model_defaults.c_str());
        QCOMPARE(o.sampling, std::string("temperature 0 (greedy), at most 12 tokens"));

        // Without a catalog, the base folder's file.
        EngineOptions plain = eo;
        plain.catalog.clear();
        Engine alone(plain);
        alone.wait_ready();
        o = answer(alone, request("", true));
        QVERIFY2(o.ok, o.error.c_str());
        QCOMPARE(o.generation.tokens.size(), std::size_t(5));
    }
};

QTEST_GUILESS_MAIN(TestGenerationDefaults)
#include "test_generation_defaults.moc"
