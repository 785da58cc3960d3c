// Mixtral inference: the tiny-mixtral fixture's four models against their reference logits
// (HF semantics, float64 numpy forward), prefill = token-by-token decode through the KV
// cache, greedy generation, top-k routing details, and sharing memory with bind_weight.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"
#include "model/moe_block.h"
#include "model/synthetic.h"
#include "test_support.h"

using namespace meswitch;

namespace {

// The "sequence_fed:" line of ref_ids_once_upon_a_time.txt.
std::vector<std::int32_t> read_ids(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::vector<std::int32_t> ids;
    for (std::string line; std::getline(in, line);)
        if (line.rfind("sequence_fed:", 0) == 0) {
            std::istringstream nums(line.substr(13));
            for (std::int32_t v; nums >> v;) ids.push_back(v);
        }
    return ids;
}

std::vector<float> read_f32(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    std::vector<float> out(bytes.size() / sizeof(float));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
    return out;
}

ModelConfig tiny_mixtral_config() {
    ModelConfig c;
    c.arch = ModelArch::mixtral;
    c.model_type = "mixtral";
    c.hidden_size = 16;
    c.intermediate_size = 24;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 4;
    c.vocab_size = 32;
    c.max_position_embeddings = 64;
    c.rms_norm_eps = 1e-5;
    c.num_local_experts = 4;
    c.num_experts_per_tok = 2;
    c.tie_word_embeddings = true;
    c.bos_token_id = 1;
    return c;
}

}  // namespace

class TestMixtral : public QObject {
    Q_OBJECT

private slots:
    void reference_logits_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"base", "math", "code", "qa"}) QTest::newRow(n) << QString(n);
    }

    void reference_logits() {
        QFETCH(QString, name);
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral");
        MESWITCH_REQUIRE_FIXTURE(ids_file, "stories260K/ref_ids_once_upon_a_time.txt");
        const auto ids = read_ids(ids_file);
        QCOMPARE(ids.size(), std::size_t(64));
        const auto ref =
            read_f32(dir / "eval" /
                     ("ref_logits_" + name.toStdString() + "_once_upon_a_time_64x512_f32le.bin"));
        QCOMPARE(ref.size(), std::size_t(64 * 512));
        Model model = Model::load(dir / name.toStdString(), ModelOptions{1});
        QCOMPARE(model.config().arch, ModelArch::mixtral);
        KvCache cache = model.make_cache(64);
        ForwardOptions all;
        all.all_positions = true;
        const auto logits = model.forward(ids, cache, all);
        QCOMPARE(logits.size(), ref.size());
        double worst = 0;
        int argmax_agree = 0;
        for (std::size_t t = 0; t < 64; ++t) {
            std::size_t a = 0, b = 0;
            for (std::size_t v = 0; v < 512; ++v) {
                worst = std::max(worst, double(std::fabs(logits[t * 512 + v] - ref[t * 512 + v])));
                if (logits[t * 512 + v] > logits[t * 512 + a]) a = v;
                if (ref[t * 512 + v] > ref[t * 512 + b]) b = v;
            }
            argmax_agree += a == b;
        }
        qInfo("%s: max |logit - reference| = %.3g, argmax agrees at %d/64 positions",
              qPrintable(name), worst, argmax_agree);
        QVERIFY2(worst <= 1e-4, qPrintable(QString("max diff %1").arg(worst)));
        QCOMPARE(argmax_agree, 64);

        // Token-by-token decode through the KV cache gives the same last logits.
        KvCache step = model.make_cache(64);
        std::vector<float> last;
        for (std::int32_t id : ids) last = model.forward(std::span(&id, 1), step);
        double step_diff = 0;
        for (std::size_t v = 0; v < 512; ++v)
            step_diff = std::max(step_diff, double(std::fabs(last[v] - ref[63 * 512 + v])));
        QVERIFY2(step_diff <= 1e-4, qPrintable(QString("decode diff %1").arg(step_diff)));
    }

    void greedy_generation() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral/base");
        Model model = Model::load(dir, ModelOptions{1});
        const Tokenizer tok = Tokenizer::from_folder(dir);
        GenerateOptions opt;
        opt.max_tokens = 40;
        opt.sampling.temperature = 0;
        opt.stop_on_bos = true;
        const std::vector<std::int32_t> bos{1};
        const GenerateResult r = generate(model, tok, bos, opt);
        // The fixture README's greedy 64 tokens from BOS begin like this.
        QVERIFY2(r.text.starts_with("Once upon a time, there was a little girl named Lily."),
                 r.text.c_str());
    }

    void routing_picks_top_k_and_renormalises() {
        const float logits[4] = {0.5f, 2.0f, -1.0f, 2.0f};
        std::int32_t ids[2];
        float w[2];
        model::route_top_k(logits, 4, 2, ids, w);
        QCOMPARE(ids[0], 1);  // tie between 1 and 3 goes to the lower id first
        QCOMPARE(ids[1], 3);
        QCOMPARE(w[0], 0.5f);
        QCOMPARE(w[1], 0.5f);
        const float l2[3] = {1.0f, 0.0f, 3.0f};
        model::route_top_k(l2, 3, 2, ids, w);
        QCOMPARE(ids[0], 2);
        QCOMPARE(ids[1], 0);
        QVERIFY(std::fabs(w[0] - float(1 / (1 + std::exp(-2.0)))) < 1e-6f);
        QVERIFY(std::fabs(w[0] + w[1] - 1.0f) < 1e-6f);
    }

    void synthetic_prefill_matches_decode() {
        const ModelConfig c = tiny_mixtral_config();
        Model m = Model::from_tensors(c, model::random_weights(c, DType::f32, 11), ModelOptions{1});
        const std::vector<std::int32_t> ids{1, 5, 9, 3, 30, 7, 7, 2};
        KvCache a = m.make_cache(16);
        const auto batched = m.forward(ids, a);
        KvCache b = m.make_cache(16);
        std::vector<float> last;
        for (std::int32_t id : ids) last = m.forward(std::span(&id, 1), b);
        for (std::size_t v = 0; v < last.size(); ++v)
            QVERIFY(std::fabs(last[v] - batched[v]) < 1e-4f);
        QVERIFY(m.weight_bytes_per_token() > 0);
    }

    void missing_expert_is_a_clear_error() {
        const ModelConfig c = tiny_mixtral_config();
        auto w = model::random_weights(c, DType::f32, 3);
        w.erase("model.layers.1.block_sparse_moe.experts.2.w3.weight");
        try {
            Model::from_tensors(c, std::move(w));
            QFAIL("a model without an expert tensor loaded");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("experts.2.w3") != std::string::npos);
        }
    }

    void bind_weight_shares_memory_without_copying() {
        const ModelConfig c = tiny_mixtral_config();
        auto w = model::random_weights(c, DType::f32, 5);
        const std::string name = "model.layers.0.block_sparse_moe.experts.1.w2.weight";
        HostTensor shared = w.at(name);
        for (std::size_t i = 0; i < shared.data.size(); i += 4) shared.data[i] = std::byte{0};
        Model a = Model::from_tensors(c, w, ModelOptions{1});
        Model b = Model::from_tensors(c, w, ModelOptions{1});
        a.bind_weight(name, shared.view());
        b.bind_weight(name, shared.view());
        QCOMPARE(a.weight(name).data, shared.view().data);
        QCOMPARE(b.weight(name).data, shared.view().data);
        HostTensor wrong = w.at("model.layers.0.block_sparse_moe.experts.1.w1.weight");
        QVERIFY_THROWS_EXCEPTION(Error, a.bind_weight(name, wrong.view()));
        a.restore_weight(name);
        QVERIFY(a.weight(name).data != shared.view().data);
    }
};

QTEST_GUILESS_MAIN(TestMixtral)
#include "test_mixtral.moc"
