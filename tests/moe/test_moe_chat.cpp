// Chat with any Mixtral variant: the tiny-mixtral base and its math/code/qa variants imported
// into a catalog with domains and example prompts (the first 200 lines of the stories260K-experts
// held-out sets), the domain router trained on the base's hidden states, held-out prompts (the
// last 100 lines) routed to the right variant, and the routed variant's answer — served by
// meswitch::Engine from its full weights, as the Studio's chat backend and `meswitch chat` serve
// an uncompressed expert — equal to the variant loaded directly (tokens and logits). Compressing
// a Mixtral expert is refused with Error(unsupported) naming the model.
#include <QtTest>

#include <fstream>
#include <mutex>

#include "meswitch/catalog.h"
#include "meswitch/compress.h"
#include "meswitch/engine.h"
#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/import.h"
#include "meswitch/model.h"
#include "meswitch/router.h"
#include "meswitch/tokenizer.h"
#include "test_support.h"

using namespace meswitch;
namespace fs = std::filesystem;

namespace {

const char* const kDomains[] = {"math", "code", "qa"};
constexpr std::size_t kExamples = 200;  // per domain, for the router; the rest is held out

std::vector<std::string> read_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// A line of the domain sets as a chat prompt, without its answer: "Q: 3+4=? A: 7" ->
// "Q: 3+4=? A:", "if n > 17: print(x)" -> "if n > 17:", "items = [1, 2]" -> "items =".
std::string prompt_of(const std::string& line) {
    if (const auto at = line.rfind(" A: "); at != std::string::npos) return line.substr(0, at + 3);
    if (const auto at = line.find(": "); at != std::string::npos) return line.substr(0, at + 1);
    if (const auto at = line.find(" = "); at != std::string::npos) return line.substr(0, at + 2);
    return line;
}

GenerateOptions greedy(int max_tokens) {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling.temperature = 0.0f;
    o.stop_on_bos = true;
    return o;
}

// The chat path's choice of weights for a routed record: an expert without a compressed delta
// answers with its own full weights (cmd_chat.cpp, EngineChatBackend::targetFor).
fs::path served_folder(Catalog& cat, const ModelRecord& m) {
    if (m.role == ModelRole::expert && !cat.delta_artifacts(m.id).empty())
        throw Error(ErrorKind::invalid_argument, "expected an uncompressed expert: " + m.name);
    return m.path;
}

// Generates through an Engine whose resident model is `folder` (the base "" answers).
GenerateResult engine_generate(const fs::path& folder, const std::vector<std::int32_t>& ids,
                               int max_tokens) {
    EngineOptions eo;
    eo.base = folder;
    eo.device = "cpu";
    eo.threads = 1;
    Engine engine(eo);
    engine.wait_ready();
    GenerateRequest r;
    r.prompt_ids = ids;
    r.expert = "";
    r.options = greedy(max_tokens);
    std::mutex mutex;
    RequestOutcome outcome;
    RequestCallbacks cb;
    cb.on_finished = [&](const RequestOutcome& o) {
        std::lock_guard lock(mutex);
        outcome = o;
    };
    engine.generate(r, cb);
    engine.wait_idle();
    std::lock_guard lock(mutex);
    if (!outcome.ok) throw Error(outcome.error_kind, "engine request failed: " + outcome.error);
    return outcome.generation;
}

std::vector<float> all_logits(Model& model, const std::vector<std::int32_t>& ids) {
    KvCache cache(model.config(), static_cast<std::int64_t>(ids.size()));
    ForwardOptions fo;
    fo.all_positions = true;
    return model.forward(ids, cache, fo);
}

}  // namespace

class TestMoeChat : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    fs::path m_mix, m_evals;
    std::optional<Catalog> m_cat;

    // Imports base + variants once (each test then uses the catalog).
    bool prepare() {
        if (m_cat) return true;
        auto mix = test::fixture("tiny-mixtral");
        auto experts = test::fixture("stories260K-experts");
        if (!mix || !experts) return false;
        m_mix = *mix;
        m_evals = *experts / "eval";
        m_cat.emplace(fs::path(m_tmp.path().toStdString()) / "catalog.sqlite");
        ImportOptions bo;
        bo.name = "mix-base";
        import_model(*m_cat, m_mix / "base", bo);
        for (const char* d : kDomains) {
            auto lines = read_lines(m_evals / (std::string(d) + ".txt"));
            if (lines.size() <= kExamples)
                throw Error(ErrorKind::format, "too few lines in " + std::string(d) + ".txt");
            ImportOptions o;
            o.name = std::string("mix-") + d;
            o.base = "mix-base";
            o.domain = d;
            o.domain_description = std::string("synthetic ") + d + " prompts";
            for (std::size_t i = 0; i < kExamples; ++i) o.examples.push_back(prompt_of(lines[i]));
            import_model(*m_cat, m_mix / d, o);
        }
        return true;
    }

private slots:
    void variants_import_as_experts_with_domains() {
        MESWITCH_REQUIRE_FIXTURE(mix, "tiny-mixtral");
        MESWITCH_REQUIRE_FIXTURE(experts, "stories260K-experts");
        QVERIFY(prepare());
        const auto base = m_cat->find_model("mix-base");
        QVERIFY(base);
        QCOMPARE(base->role, ModelRole::base);
        QCOMPARE(base->architecture, std::string("MixtralForCausalLM"));
        for (const char* d : kDomains) {
            const auto m = m_cat->find_model(std::string("mix-") + d);
            QVERIFY(m);
            QCOMPARE(m->role, ModelRole::expert);
            QCOMPARE(m->base_model_id, std::optional<std::int64_t>(base->id));
            QVERIFY(m->content_hash != base->content_hash);
            const auto domains = m_cat->domains_of(m->id);
            QCOMPARE(domains.size(), std::size_t(1));
            QCOMPARE(domains[0].name, std::string(d));
            QCOMPARE(domains[0].examples.size(), kExamples);
        }
    }

    void held_out_prompts_route_to_their_variant() {
        MESWITCH_REQUIRE_FIXTURE(mix, "tiny-mixtral");
        MESWITCH_REQUIRE_FIXTURE(experts, "stories260K-experts");
        QVERIFY(prepare());
        RouterOptions ro;
        ro.threads = 1;
        Router router = Router::open(*m_cat, ro);
        QCOMPARE(router.info().base_name, std::string("mix-base"));
        QCOMPARE(router.info().router, std::string("feature"));
        QCOMPARE(router.info().domains.size(), std::size_t(3));

        std::vector<LabeledPrompt> held;
        for (const char* d : kDomains) {
            const auto lines = read_lines(m_evals / (std::string(d) + ".txt"));
            for (std::size_t i = kExamples; i < lines.size(); ++i)
                held.push_back({d, prompt_of(lines[i])});
        }
        const RoutingEvaluation ev = evaluate_routing(router, held);
        QString per;
        for (const auto& [name, s] : ev.per_domain)
            per += QStringLiteral(" %1 recall %2").arg(QString::fromStdString(name)).arg(s.recall);
        qInfo("routing %d held-out prompts: accuracy %.3f (%d correct),%s; %d below threshold",
              ev.total, ev.accuracy, ev.correct, qPrintable(per), ev.below_threshold);
        QCOMPARE(ev.total, static_cast<int>(held.size()));
        QVERIFY2(ev.accuracy >= 0.95, qPrintable(QStringLiteral("accuracy %1").arg(ev.accuracy)));

        // Each routed expert is the variant of the prompt's domain.
        for (const char* d : kDomains) {
            const auto lines = read_lines(m_evals / (std::string(d) + ".txt"));
            const RouteResult r = router.route(prompt_of(lines.back()));
            QVERIFY(r.expert_id);
            QCOMPARE(r.expert_name, std::string("mix-") + d);
            QCOMPARE(r.domain, std::string(d));
        }
    }

    void routed_variant_answers_with_its_own_weights() {
        MESWITCH_REQUIRE_FIXTURE(mix, "tiny-mixtral");
        MESWITCH_REQUIRE_FIXTURE(experts, "stories260K-experts");
        QVERIFY(prepare());
        RouterOptions ro;
        ro.threads = 1;
        Router router = Router::open(*m_cat, ro);
        QVERIFY(!router.info().trained);  // stored by the previous test, opened again
        const Tokenizer tok = Tokenizer::from_folder(m_mix / "base");
        Model base = Model::load(m_mix / "base", ModelOptions{1});
        int differs_from_base = 0;
        for (const char* d : kDomains) {
            const auto lines = read_lines(m_evals / (std::string(d) + ".txt"));
            const std::string prompt = prompt_of(lines[kExamples]);
            const RouteResult r = router.route(prompt);
            QVERIFY2(r.expert_id, prompt.c_str());
            const auto rec = m_cat->model(*r.expert_id);
            QVERIFY(rec);
            QCOMPARE(rec->name, std::string("mix-") + d);
            const fs::path folder = served_folder(*m_cat, *rec);

            const auto ids = tok.encode(prompt, true);
            const GenerateResult served = engine_generate(folder, ids, 16);
            Model direct = Model::load(m_mix / d, ModelOptions{1});
            const GenerateResult expect = generate(direct, tok, ids, greedy(16));
            qInfo("%s: '%s' -> '%s'", d, prompt.c_str(), served.text.c_str());
            QVERIFY(!served.tokens.empty());
            QCOMPARE(served.tokens, expect.tokens);
            QCOMPARE(served.text, expect.text);

            // The answer's logits, prompt + answer through the served weights, equal the
            // variant's, bit for bit; the base's differ.
            std::vector<std::int32_t> seq = ids;
            seq.insert(seq.end(), served.tokens.begin(), served.tokens.end());
            Model served_model = Model::load(folder, ModelOptions{1});
            const auto got = all_logits(served_model, seq);
            const auto want = all_logits(direct, seq);
            QCOMPARE(got.size(), want.size());
            QVERIFY(got == want);
            const auto base_logits = all_logits(base, seq);
            float max_diff = 0;
            for (std::size_t i = 0; i < got.size(); ++i)
                max_diff = std::max(max_diff, std::abs(got[i] - base_logits[i]));
            QVERIFY2(max_diff > 0.1f, qPrintable(QStringLiteral("base max diff %1").arg(max_diff)));
            if (generate(base, tok, ids, greedy(16)).tokens != served.tokens) ++differs_from_base;
        }
        QVERIFY(differs_from_base >= 2);  // fine-tuned answers, not the base's stories
    }

    void compressing_a_mixtral_variant_is_unsupported() {
        MESWITCH_REQUIRE_FIXTURE(mix, "tiny-mixtral");
        MESWITCH_REQUIRE_FIXTURE(experts, "stories260K-experts");
        QVERIFY(prepare());
        const fs::path home = fs::path(m_tmp.path().toStdString()) / "home";
        CompressOptions o;
        try {
            compress_catalog_expert(*m_cat, "mix-math", home, o);
            QFAIL("compressing a Mixtral expert did not fail");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::unsupported);
            const std::string msg = e.what();
            QVERIFY2(msg.find("MixtralForCausalLM") != std::string::npos, msg.c_str());
            QVERIFY2(msg.find("tiny-mixtral/math") != std::string::npos, msg.c_str());
        }
        QVERIFY(m_cat->delta_artifacts(m_cat->find_model("mix-math")->id).empty());
    }
};

QTEST_GUILESS_MAIN(TestMoeChat)
#include "test_moe_chat.moc"
