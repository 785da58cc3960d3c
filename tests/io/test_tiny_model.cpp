// The tiny model generator: complete, consistent HF folders (config, weights, tokenizer)
// that the engine's own readers accept, deterministic per seed; experts with known deltas.

#include <QtTest>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "io_test_util.h"
#include "meswitch/tokenizer.h"
#include "tiny_model.h"

using namespace meswitch;
using namespace meswitch::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json read_json(const fs::path& file) {
    return json::parse(read_bytes(file));
}

std::vector<float> widened(const io::Checkpoint& c, const std::string& name) {
    const TensorView v = c.view(name);
    std::vector<float> out(std::size_t(v.numel()));
    convert_to_f32(v.dtype, v.data, out.data(), out.size());
    return out;
}

}  // namespace

class TestTinyModel : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    fs::path dir(const std::string& sub) {
        fs::path p = fs::path(m_tmp.path().toStdString()) / sub;
        fs::remove_all(p);
        return p;
    }

private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void configPerArchitecture_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<QString>("architecture");
        QTest::newRow("llama") << "llama"
                               << "LlamaForCausalLM";
        QTest::newRow("mistral") << "mistral"
                                 << "MistralForCausalLM";
        QTest::newRow("qwen2") << "qwen2"
                               << "Qwen2ForCausalLM";
    }

    void configPerArchitecture() {
        QFETCH(QString, arch);
        QFETCH(QString, architecture);
        TinyModelSpec spec;
        spec.arch = arch.toStdString();
        spec.hidden = 48;
        spec.heads = 6;
        spec.kv_heads = 3;
        spec.layers = 3;
        spec.dtype = DType::f16;
        const fs::path folder = dir("config-" + spec.arch);
        write_tiny_model(folder, spec);
        const json c = read_json(folder / "config.json");
        QCOMPARE(QString::fromStdString(c["architectures"][0]), architecture);
        QCOMPARE(c["model_type"], spec.arch);
        QCOMPARE(c["hidden_size"], 48);
        QCOMPARE(c["intermediate_size"], 64);
        QCOMPARE(c["num_hidden_layers"], 3);
        QCOMPARE(c["num_attention_heads"], 6);
        QCOMPARE(c["num_key_value_heads"], 3);
        QCOMPARE(c["head_dim"], 8);
        QCOMPARE(c["vocab_size"], 300);
        QCOMPARE(c["rms_norm_eps"].get<double>(), 1e-5);
        QCOMPARE(c["rope_theta"].get<double>(), 10000.0);
        QCOMPARE(c["max_position_embeddings"], 256);
        QCOMPARE(c["tie_word_embeddings"], false);
        QCOMPARE(c["bos_token_id"], 1);
        QCOMPARE(c["eos_token_id"], 2);
        QCOMPARE(c["torch_dtype"], "float16");
        QCOMPARE(c.contains("sliding_window"), spec.arch != "llama");
        if (spec.arch == "mistral") QCOMPARE(c["sliding_window"], 64);

        const io::Checkpoint ckpt(folder);
        const std::size_t per_layer = spec.arch == "qwen2" ? 12 : 9;
        QCOMPARE(ckpt.tensor_names().size(), 3 + 3 * per_layer);
        QCOMPARE(ckpt.info("model.layers.2.self_attn.k_proj.weight").shape,
                 (std::vector<std::int64_t>{24, 48}));
        QCOMPARE(ckpt.info("model.layers.0.self_attn.o_proj.weight").shape,
                 (std::vector<std::int64_t>{48, 48}));
        QCOMPARE(ckpt.info("model.layers.1.mlp.down_proj.weight").shape,
                 (std::vector<std::int64_t>{48, 64}));
        QCOMPARE(ckpt.info("lm_head.weight").shape, (std::vector<std::int64_t>{300, 48}));
        if (spec.arch == "qwen2")
            QCOMPARE(ckpt.info("model.layers.1.self_attn.v_proj.bias").shape,
                     std::vector<std::int64_t>{24});
    }

    void valuesAreInRangeAndDeterministic() {
        TinyModelSpec spec;
        spec.tie_embeddings = true;
        const auto a = tiny_model_tensors(spec);
        const auto b = tiny_model_tensors(spec);
        spec.seed = 2;
        const auto c = tiny_model_tensors(spec);
        QCOMPARE(a.size(), c.size());
        bool any_differs = false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].values, b[i].values);
            any_differs = any_differs || a[i].values != c[i].values;
            const bool norm = a[i].name.find("norm") != std::string::npos;
            double sum = 0;
            for (float x : a[i].values) {
                if (norm)
                    QVERIFY(x >= 0.95f && x <= 1.05f);
                else
                    QVERIFY(x >= -0.1f && x <= 0.1f);
                sum += x;
            }
            const double mean = sum / double(a[i].values.size());
            QVERIFY2(std::fabs(mean - (norm ? 1.0 : 0.0)) < 0.03, a[i].name.c_str());
        }
        QVERIFY(any_differs);
        QCOMPARE(a.back().name, std::string("model.norm.weight"));  // tied: no lm_head

        // Same spec, same bytes on disk, file by file.
        spec.seed = 1;
        spec.shards = 2;
        const fs::path one = dir("det-1"), two = dir("det-2");
        write_tiny_model(one, spec);
        write_tiny_model(two, spec);
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(one))
            names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        QCOMPARE(names,
                 (std::vector<std::string>{
                     "config.json", "generation_config.json", "model-00001-of-00002.safetensors",
                     "model-00002-of-00002.safetensors", "model.safetensors.index.json",
                     "tokenizer.json", "tokenizer_config.json"}));
        for (const auto& n : names) QVERIFY2(read_bytes(one / n) == read_bytes(two / n), n.c_str());
        const json index = read_json(one / "model.safetensors.index.json");
        QVERIFY(index["metadata"]["total_size"].get<std::uint64_t>() > 0);
        QCOMPARE(index["weight_map"].size(), a.size());
    }

    void tokenizerIsConsistent_data() {
        QTest::addColumn<int>("vocab");
        QTest::newRow("300") << 300;
        QTest::newRow("259-bytes-only") << 259;
        QTest::newRow("2000") << 2000;
    }

    // The vocabulary has the SentencePiece layout and every merge builds a later token.
    void tokenizerIsConsistent() {
        QFETCH(int, vocab);
        TinyModelSpec spec;
        spec.vocab = vocab;
        const fs::path folder = dir("tok-" + std::to_string(vocab));
        write_tiny_model(folder, spec);
        const json t = read_json(folder / "tokenizer.json");
        const json& model = t["model"];
        QCOMPARE(model["type"], "BPE");
        QCOMPARE(model["byte_fallback"], true);
        QCOMPARE(t["normalizer"]["normalizers"][0]["type"], "Prepend");
        QCOMPARE(t["normalizer"]["normalizers"][0]["prepend"], "\xE2\x96\x81");
        const json& v = model["vocab"];
        QCOMPARE(int(v.size()), vocab);
        std::set<int> ids;
        for (const auto& [piece, id] : v.items()) ids.insert(id.get<int>());
        QCOMPARE(int(ids.size()), vocab);
        QCOMPARE(*ids.begin(), 0);
        QCOMPARE(*ids.rbegin(), vocab - 1);
        QCOMPARE(v["<unk>"], 0);
        QCOMPARE(v["<s>"], 1);
        QCOMPARE(v["</s>"], 2);
        QCOMPARE(v["<0x00>"], 3);
        QCOMPARE(v["<0x41>"], 3 + 0x41);
        QCOMPARE(v["<0xFF>"], 258);
        for (const auto& m : model["merges"]) {
            const std::string merge = m;
            const auto space = merge.find(' ');
            QVERIFY(space != std::string::npos && merge.find(' ', space + 1) == std::string::npos);
            const std::string left = merge.substr(0, space), right = merge.substr(space + 1);
            QVERIFY2(v.contains(left) && v.contains(right) && v.contains(left + right),
                     merge.c_str());
            QVERIFY(v[left + right] > v[left] && v[left + right] > v[right]);
        }
        if (vocab > 300) QVERIFY(model["merges"].size() > 1000);
        const json cfg = read_json(folder / "tokenizer_config.json");
        QCOMPARE(cfg["bos_token"], "<s>");
        QCOMPARE(cfg["eos_token"], "</s>");
        QCOMPARE(cfg["add_bos_token"], true);
    }

    // The engine's own tokenizer loads it and uses the merged pieces.
    void engineTokenizerReadsIt() {
        const fs::path folder = dir("tok-engine");
        write_tiny_model(folder, TinyModelSpec{});
        const Tokenizer tok = Tokenizer::from_folder(folder);
        QCOMPARE(tok.vocab_size(), std::size_t(300));
        QVERIFY(tok.bos_id() == 1);
        QVERIFY(tok.eos_id() == 2);
        const auto ids = tok.encode("the day was one");
        const auto piece = [&](const char* p) { return *tok.token_to_id(p); };
        QCOMPARE(ids,
                 (std::vector<std::int32_t>{1, piece("\xE2\x96\x81the"),
                                            piece("\xE2\x96\x81"
                                                  "day"),
                                            piece("\xE2\x96\x81was"), piece("\xE2\x96\x81one")}));
        for (const char* text : {"the day was one", "Zebra 42! \xC3\xA9t\xC3\xA9 \xE4\xB8\xAD", ""})
            QCOMPARE(QString::fromStdString(tok.decode(tok.encode(text))), QString(text));
        const auto q = tok.encode("Q");      // not in the vocabulary: byte fallback
        QCOMPARE(q.size(), std::size_t(3));  // <s> ▁ <0x51>
        QCOMPARE(q[2], 3 + 0x51);
    }

    void expertsHaveTheRequestedDelta() {
        TinyModelSpec spec;
        spec.shards = 3;
        spec.hidden = 64;
        spec.intermediate = 128;
        const fs::path base = dir("expert-base"), expert = dir("expert-a"), again = dir("expert-b");
        write_tiny_model(base, spec);
        write_expert_of(base, expert, 0.01, 5);
        write_expert_of(base, again, 0.01, 5);

        for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json",
                              "model.safetensors.index.json"})
            QVERIFY2(read_bytes(base / f) == read_bytes(expert / f), f);
        for (const auto& f : tiny_model_weight_files(spec))
            QVERIFY(read_bytes(expert / f) == read_bytes(again / f));  // same seed, same bytes

        const io::Checkpoint b(base), e(expert);
        QCOMPARE(e.tensor_names(), b.tensor_names());
        double sum = 0, sum_sq = 0;
        std::size_t n = 0;
        for (const auto& name : b.tensor_names()) {
            QCOMPARE(e.info(name).shape, b.info(name).shape);
            QCOMPARE(e.info(name).dtype, b.info(name).dtype);
            QCOMPARE(e.file_of(name).path().filename(), b.file_of(name).path().filename());
            const auto wb = widened(b, name), we = widened(e, name);
            for (std::size_t i = 0; i < wb.size(); ++i) {
                const double d = double(we[i]) - double(wb[i]);
                sum += d;
                sum_sq += d * d;
            }
            n += wb.size();
        }
        const double mean = sum / double(n), stddev = std::sqrt(sum_sq / double(n) - mean * mean);
        qInfo("expert delta over %zu weights: mean %.2e, std %.5f (requested 0.01)", n, mean,
              stddev);
        QVERIFY(std::fabs(mean) < 1e-3);
        QVERIFY(std::fabs(stddev - 0.01) < 0.001);

        const fs::path other = dir("expert-c");
        write_expert_of(base, other, 0.01, 6);
        QVERIFY(read_bytes(other / tiny_model_weight_files(spec)[0]) !=
                read_bytes(expert / tiny_model_weight_files(spec)[0]));
        EXPECT_ERROR(write_expert_of(base, base, 0.01, 1), ErrorKind::invalid_argument,
                     {"base folder"});
    }

    void badSpecsAreRefused() {
        TinyModelSpec spec;
        spec.arch = "gpt2";
        EXPECT_ERROR(tiny_model_tensors(spec), ErrorKind::invalid_argument, {"gpt2"});
        spec = {};
        spec.heads = 5;
        EXPECT_ERROR(tiny_model_tensors(spec), ErrorKind::invalid_argument, {"heads"});
        spec = {};
        spec.vocab = 100;
        EXPECT_ERROR(tiny_model_tensors(spec), ErrorKind::invalid_argument, {"vocab"});
        spec = {};
        spec.dtype = DType::i8;
        EXPECT_ERROR(tiny_model_tensors(spec), ErrorKind::invalid_argument, {"dtype"});
        spec = {};
        spec.shards = 100;
        EXPECT_ERROR(write_tiny_model(dir("too-many-shards"), spec), ErrorKind::invalid_argument,
                     {"shards"});
    }
};

QTEST_GUILESS_MAIN(TestTinyModel)
#include "test_tiny_model.moc"
