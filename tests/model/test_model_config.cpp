// config.json parsing for Llama, Mistral, Qwen2 and Mixtral, RoPE scaling, validation
// errors, and the tensor names and shapes a config implies.
#include <QtTest>

#include <cmath>
#include <numbers>

#include "backend/cpu/ops.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "test_support.h"

using namespace meswitch;

namespace {

const char* llama_json = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
  "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
  "num_attention_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096,
  "rms_norm_eps": 1e-5, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16"
})";

const char* mistral_json = R"({
  "architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_act": "silu",
  "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
  "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
  "sliding_window": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "bos_token_id": 1, "eos_token_id": 2
})";

const char* qwen2_json = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
  "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
  "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
  "sliding_window": 32768, "use_sliding_window": false, "max_window_layers": 21,
  "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "bos_token_id": 151643, "eos_token_id": [151645, 151643]
})";

const char* mixtral_json = R"({
  "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_act": "silu",
  "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
  "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-5, "rope_theta": 1000000.0,
  "sliding_window": null, "num_local_experts": 8, "num_experts_per_tok": 2,
  "router_aux_loss_coef": 0.02, "router_jitter_noise": 0.0, "output_router_logits": false
})";

std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    if (at == std::string::npos) return "(test bug: '" + from + "' not found)";
    return s.replace(at, from.size(), to);
}

std::string with(const char* base, const std::string& extra_fields) {
    std::string s(base);
    const auto close = s.rfind('}');
    return s.substr(0, close) + ", " + extra_fields + "}";
}

// Throws from parse_model_config_text, checks the kind and that the message contains each
// of `parts`.
void expect_error(const std::string& json, ErrorKind kind,
                  std::initializer_list<const char*> parts) {
    try {
        parse_model_config_text(json, "config.json");
    } catch (const Error& e) {
        QCOMPARE(static_cast<int>(e.kind()), static_cast<int>(kind));
        for (const char* p : parts)
            QVERIFY2(std::string(e.what()).find(p) != std::string::npos,
                     qPrintable(QString("'%1' not in '%2'").arg(p, e.what())));
        return;
    }
    QFAIL(qPrintable(QString::fromStdString("no error for " + json)));
}

}  // namespace

class TestModelConfig : public QObject {
    Q_OBJECT

private slots:
    void llama_defaults() {
        const ModelConfig c = parse_model_config_text(llama_json);
        QCOMPARE(c.arch, ModelArch::llama);
        QCOMPARE(c.hidden_size, 4096);
        QCOMPARE(c.num_key_value_heads, 32);  // defaults to the head count
        QCOMPARE(c.head_dim, 128);            // hidden / heads
        QCOMPARE(c.tie_word_embeddings, false);
        QCOMPARE(c.rope_theta, 10000.0);
        QCOMPARE(c.rope_scaling.type, RopeScaling::Type::none);
        QVERIFY(!c.sliding_window);
        QCOMPARE(*c.bos_token_id, 1);
        QCOMPARE(c.eos_token_ids, std::vector<std::int32_t>{2});
        QCOMPARE(c.torch_dtype, std::string("float16"));
        QVERIFY(!c.attention_qkv_bias && !c.mlp_bias);
    }

    void stories_fixture() {
        MESWITCH_REQUIRE_FIXTURE(dir, "stories260K-hf");
        const ModelConfig c = parse_model_config(dir / "config.json");
        QCOMPARE(c.hidden_size, 64);
        QCOMPARE(c.num_key_value_heads, 4);
        QCOMPARE(c.head_dim, 8);
        QCOMPARE(c.tie_word_embeddings, true);
        QCOMPARE(expected_tensors(c).size(), std::size_t(47));
    }

    void mistral_window() {
        ModelConfig c = parse_model_config_text(mistral_json);
        QCOMPARE(c.arch, ModelArch::mistral);
        QCOMPARE(*c.sliding_window, 4096);
        QCOMPARE(*c.window_for_layer(0), 4096);
        QCOMPARE(c.kv_dim(), 1024);
        // null: no window (Mistral v0.2+); absent: the HF default 4096
        QVERIFY(!parse_model_config_text(
                     replace(mistral_json, "\"sliding_window\": 4096", "\"sliding_window\": null"))
                     .sliding_window);
        QCOMPARE(*parse_model_config_text(replace(mistral_json, "\"sliding_window\": 4096,", ""))
                      .sliding_window,
                 4096);
    }

    void qwen2_biases_and_window() {
        ModelConfig c = parse_model_config_text(qwen2_json);
        QCOMPARE(c.arch, ModelArch::qwen2);
        QVERIFY(c.attention_qkv_bias);
        QVERIFY(!c.attention_out_bias);
        QVERIFY(!c.sliding_window);  // use_sliding_window false
        QCOMPARE(c.head_dim, 64);
        QCOMPARE(c.eos_token_ids, (std::vector<std::int32_t>{151645, 151643}));
        const auto tensors = expected_tensors(c);
        auto find = [&](const std::string& n) {
            for (const auto& t : tensors)
                if (t.name == n) return t.shape;
            return std::vector<std::int64_t>{};
        };
        QCOMPARE(find("model.layers.0.self_attn.q_proj.bias"), std::vector<std::int64_t>{896});
        QCOMPARE(find("model.layers.0.self_attn.k_proj.bias"), std::vector<std::int64_t>{128});
        QVERIFY(find("model.layers.0.self_attn.o_proj.bias").empty());
        QVERIFY(find("lm_head.weight").empty());  // tied

        c = parse_model_config_text(
            replace(qwen2_json, "\"use_sliding_window\": false", "\"use_sliding_window\": true"));
        QVERIFY(!c.window_for_layer(20));
        QCOMPARE(*c.window_for_layer(21), 32768);
    }

    void llama_attention_bias() {
        const ModelConfig c = parse_model_config_text(
            with(llama_json, R"("attention_bias": true, "mlp_bias": true)"));
        QVERIFY(c.attention_qkv_bias && c.attention_out_bias && c.mlp_bias);
        int biases = 0;
        for (const auto& t : expected_tensors(c)) biases += t.name.ends_with(".bias");
        QCOMPARE(biases, 32 * 7);
    }

    void mixtral_parses() {
        const ModelConfig c = parse_model_config_text(mixtral_json);
        QCOMPARE(c.arch, ModelArch::mixtral);
        QCOMPARE(c.num_local_experts, 8);
        QCOMPARE(c.num_experts_per_tok, 2);
        QCOMPARE(c.router_aux_loss_coef, 0.02);
        QVERIFY(!c.sliding_window);
        const auto tensors = expected_tensors(c);
        bool gate = false, w2 = false;
        for (const auto& t : tensors) {
            if (t.name == "model.layers.31.block_sparse_moe.gate.weight") {
                gate = true;
                QCOMPARE(t.shape, (std::vector<std::int64_t>{8, 4096}));
            }
            if (t.name == "model.layers.0.block_sparse_moe.experts.7.w2.weight") {
                w2 = true;
                QCOMPARE(t.shape, (std::vector<std::int64_t>{4096, 14336}));
            }
            QVERIFY(t.name.find("mlp.") == std::string::npos);
        }
        QVERIFY(gate && w2);
        expect_error(
            replace(mixtral_json, "\"num_experts_per_tok\": 2", "\"num_experts_per_tok\": 9"),
            ErrorKind::format, {"config.json", "num_experts_per_tok"});
    }

    void mixtral_missing_tensors_named() {
        ModelConfig c = parse_model_config_text(mixtral_json);
        c.hidden_size = 8;
        c.intermediate_size = 8;
        c.num_hidden_layers = 1;
        c.num_attention_heads = 2;
        c.num_key_value_heads = 1;
        c.head_dim = 4;
        c.vocab_size = 4;
        try {
            Model::from_tensors(c, {});
            QFAIL("a Mixtral model without tensors loaded");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::format);
            QVERIFY2(std::string(e.what()).find("tensor") != std::string::npos, e.what());
        }
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral/base");
        QCOMPARE(parse_model_config(dir / "config.json").num_local_experts, 4);
        const Model m = Model::load(dir);
        QCOMPARE(m.config().num_local_experts, 4);
        QCOMPARE(m.config().arch, ModelArch::mixtral);
    }

    void rope_linear() {
        const ModelConfig c = parse_model_config_text(
            with(llama_json, R"("rope_scaling": {"type": "linear", "factor": 4.0})"));
        QCOMPARE(c.rope_scaling.type, RopeScaling::Type::linear);
        QCOMPARE(c.rope_scaling.factor, 4.0);
        const auto plain = cpu::rope_inv_freq(128, 10000.0, {});
        const auto scaled = cpu::rope_inv_freq(128, 10000.0, c.rope_scaling);
        for (std::size_t i = 0; i < plain.size(); ++i)
            QVERIFY(std::fabs(scaled[i] - plain[i] / 4.0f) <= 1e-7f * plain[i]);
        // "rope_type" spelling, and "default" = none
        QCOMPARE(parse_model_config_text(
                     with(llama_json, R"("rope_scaling": {"rope_type": "linear", "factor": 2})"))
                     .rope_scaling.factor,
                 2.0);
        QCOMPARE(
            parse_model_config_text(with(llama_json, R"("rope_scaling": {"rope_type": "default"})"))
                .rope_scaling.type,
            RopeScaling::Type::none);
    }

    void rope_llama3() {
        const ModelConfig c = parse_model_config_text(
            with(llama_json,
                 R"("rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
               "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})"));
        QCOMPARE(c.rope_scaling.type, RopeScaling::Type::llama3);
        const auto inv = cpu::rope_inv_freq(128, 500000.0, c.rope_scaling);
        // transformers' _compute_llama3_parameters, in double
        int low = 0, mid = 0, high = 0;
        for (int i = 0; i < 64; ++i) {
            const double f = 1.0 / std::pow(500000.0, 2.0 * i / 128.0);
            const double wavelen = 2 * std::numbers::pi / f;
            double expect;
            if (wavelen < 8192.0 / 4.0) {
                expect = f;
                ++high;
            } else if (wavelen > 8192.0 / 1.0) {
                expect = f / 8.0;
                ++low;
            } else {
                const double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
                expect = (1 - smooth) * f / 8.0 + smooth * f;
                ++mid;
            }
            QVERIFY2(std::fabs(inv[i] - expect) <= 2e-6 * expect, qPrintable(QString::number(i)));
        }
        QVERIFY(low > 0 && mid > 0 && high > 0);  // all three branches exercised
    }

    void rope_unsupported() {
        expect_error(with(llama_json, R"("rope_scaling": {"type": "yarn", "factor": 4.0})"),
                     ErrorKind::unsupported,
                     {"config.json: rope_scaling type 'yarn' is not supported"});
        expect_error(with(llama_json, R"("rope_scaling": {"rope_type": "dynamic", "factor": 2.0})"),
                     ErrorKind::unsupported, {"'dynamic'"});
        expect_error(with(llama_json, R"("rope_scaling": {"type": "linear"})"), ErrorKind::format,
                     {"config.json", "factor"});
    }

    void invalid_configs() {
        expect_error(replace(llama_json, "\"hidden_size\": 4096", "\"hidden_size\": -1"),
                     ErrorKind::format, {"config.json", "hidden_size"});
        expect_error(replace(llama_json, "\"hidden_size\": 4096", "\"hidden_size\": \"big\""),
                     ErrorKind::format, {"config.json", "hidden_size", "integer"});
        expect_error(replace(llama_json, "\"vocab_size\": 32000,", ""), ErrorKind::format,
                     {"config.json", "vocab_size", "missing"});
        expect_error(
            replace(llama_json, "\"num_attention_heads\": 32", "\"num_attention_heads\": 30"),
            ErrorKind::format, {"config.json", "num_attention_heads", "hidden_size"});
        expect_error(with(llama_json, R"("num_key_value_heads": 5)"), ErrorKind::format,
                     {"config.json", "num_key_value_heads"});
        expect_error(replace(llama_json, "\"silu\"", "\"gelu\""), ErrorKind::unsupported,
                     {"config.json", "hidden_act", "gelu"});
        expect_error(replace(llama_json, "LlamaForCausalLM", "GPT2LMHeadModel"),
                     ErrorKind::unsupported, {"config.json", "GPT2LMHeadModel"});
        expect_error(with(llama_json, R"("head_dim": 7)"), ErrorKind::format,
                     {"config.json", "head_dim"});
        expect_error(replace(llama_json, "\"rms_norm_eps\": 1e-5", "\"rms_norm_eps\": 0"),
                     ErrorKind::format, {"rms_norm_eps"});
        expect_error(replace(llama_json, "\"eos_token_id\": 2", "\"eos_token_id\": 99999"),
                     ErrorKind::format, {"eos_token_id"});
        expect_error(replace(llama_json, "\"float16\"", "\"int8\""), ErrorKind::unsupported,
                     {"torch_dtype"});
        expect_error("{\"hidden_size\": 1,", ErrorKind::format, {"config.json", "JSON"});
        expect_error("[1, 2]", ErrorKind::format, {"config.json"});
        QVERIFY_THROWS_EXCEPTION(Error, parse_model_config("/nonexistent/config.json"));
    }

    void tensor_shape_check() {
        const ModelConfig c = parse_model_config_text(llama_json);
        std::map<std::string, std::vector<std::int64_t>> shapes;
        for (const auto& t : expected_tensors(c)) shapes[t.name] = t.shape;
        auto lookup = [&](const std::string& n) -> std::optional<std::vector<std::int64_t>> {
            auto it = shapes.find(n);
            if (it == shapes.end()) return std::nullopt;
            return it->second;
        };
        QVERIFY(check_tensor_shapes(c, lookup).empty());
        QCOMPARE(shapes.at("lm_head.weight"), (std::vector<std::int64_t>{32000, 4096}));
        QCOMPARE(shapes.at("model.layers.3.mlp.down_proj.weight"),
                 (std::vector<std::int64_t>{4096, 11008}));
        shapes.erase("model.layers.3.mlp.up_proj.weight");
        shapes["model.layers.0.self_attn.k_proj.weight"] = {4096, 4097};
        shapes["extra.tensor"] = {1};
        const auto problems = check_tensor_shapes(c, lookup);
        QCOMPARE(problems.size(), std::size_t(2));
        QVERIFY(problems[0].find("k_proj") != std::string::npos &&
                problems[0].find("[4096, 4097]") != std::string::npos);
        QVERIFY(problems[1].find("missing tensor 'model.layers.3.mlp.up_proj.weight'") !=
                std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestModelConfig)
#include "test_model_config.moc"
