// The forward pass: stories260K against llama2.c run.c's logits and greedy text, seeded
// random tiny Llama / Mistral / Qwen2 models against a double-precision reference forward
// written out below, prefill = decode, loading from safetensors, and the expert-switching
// hooks (replaced weights, delta provider, hidden states).
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <numbers>
#include <random>
#include <sstream>

#include "backend/cpu/ops.h"
#include "io/safetensors.h"
#include "meswitch/error.h"
#include "meswitch/generate.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"
#include "model/synthetic.h"
#include "test_support.h"

using namespace meswitch;

namespace {

using Tensors = std::map<std::string, HostTensor>;

std::vector<float> widened(const HostTensor& t) {
    std::vector<float> out(t.data.size() / dtype_size(t.dtype));
    cpu::widen_to_f32(t.dtype, t.data.data(), out.data(), out.size());
    return out;
}

// Straightforward Hugging Face forward in double precision over the same (widened) weights.
std::vector<double> reference_forward(const ModelConfig& c, const Tensors& w,
                                      const std::vector<std::int32_t>& ids) {
    auto get = [&](const std::string& n) { return widened(w.at(n)); };
    const std::int64_t T = static_cast<std::int64_t>(ids.size()), H = c.hidden_size, d = c.head_dim,
                       qd = c.q_dim(), kvd = c.kv_dim(), I = c.intermediate_size;
    auto linear = [&](const std::vector<double>& x, const std::string& name, std::int64_t out,
                      std::int64_t in, bool bias) {
        const auto W = get(name + ".weight");
        std::vector<float> B;
        if (bias) B = get(name + ".bias");
        std::vector<double> y(static_cast<std::size_t>(T * out));
        for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t o = 0; o < out; ++o) {
                double s = bias ? B[o] : 0.0;
                for (std::int64_t i = 0; i < in; ++i) s += x[t * in + i] * W[o * in + i];
                y[t * out + o] = s;
            }
        return y;
    };
    auto norm = [&](const std::vector<double>& x, const std::string& name) {
        const auto g = get(name);
        std::vector<double> y(x.size());
        for (std::int64_t t = 0; t < T; ++t) {
            double ss = 0;
            for (std::int64_t i = 0; i < H; ++i) ss += x[t * H + i] * x[t * H + i];
            const double r = 1.0 / std::sqrt(ss / H + c.rms_norm_eps);
            for (std::int64_t i = 0; i < H; ++i) y[t * H + i] = x[t * H + i] * r * g[i];
        }
        return y;
    };
    std::vector<double> inv(static_cast<std::size_t>(d / 2));
    for (std::int64_t i = 0; i < d / 2; ++i) {
        double f = std::pow(c.rope_theta, -2.0 * i / d);
        const RopeScaling& s = c.rope_scaling;
        if (s.type == RopeScaling::Type::linear) f /= s.factor;
        if (s.type == RopeScaling::Type::llama3) {
            const double wl = 2 * std::numbers::pi / f,
                         old = double(s.original_max_position_embeddings);
            if (wl > old / s.low_freq_factor) {
                f /= s.factor;
            } else if (wl >= old / s.high_freq_factor) {
                const double sm =
                    (old / wl - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
                f = (1 - sm) * f / s.factor + sm * f;
            }
        }
        inv[i] = f;
    }
    auto rope = [&](std::vector<double>& x, std::int64_t heads) {
        for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t h = 0; h < heads; ++h)
                for (std::int64_t i = 0; i < d / 2; ++i) {
                    double* v = &x[(t * heads + h) * d];
                    const double a = v[i], b = v[i + d / 2], th = t * inv[i];
                    v[i] = a * std::cos(th) - b * std::sin(th);
                    v[i + d / 2] = b * std::cos(th) + a * std::sin(th);
                }
    };
    const auto E = get("model.embed_tokens.weight");
    std::vector<double> x(static_cast<std::size_t>(T * H));
    for (std::int64_t t = 0; t < T; ++t)
        for (std::int64_t i = 0; i < H; ++i) x[t * H + i] = E[ids[t] * H + i];
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        auto xn = norm(x, p + "input_layernorm.weight");
        auto q = linear(xn, p + "self_attn.q_proj", qd, H, c.attention_qkv_bias);
        auto k = linear(xn, p + "self_attn.k_proj", kvd, H, c.attention_qkv_bias);
        auto v = linear(xn, p + "self_attn.v_proj", kvd, H, c.attention_qkv_bias);
        rope(q, c.num_attention_heads);
        rope(k, c.num_key_value_heads);
        std::vector<double> att(static_cast<std::size_t>(T * qd), 0.0);
        const auto window = c.window_for_layer(l);
        for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t h = 0; h < c.num_attention_heads; ++h) {
                const std::int64_t kh = h / (c.num_attention_heads / c.num_key_value_heads);
                std::vector<double> s(static_cast<std::size_t>(t + 1), -INFINITY);
                for (std::int64_t j = 0; j <= t; ++j) {
                    if (window && t - j >= *window) continue;
                    double dot = 0;
                    for (std::int64_t i = 0; i < d; ++i)
                        dot += q[t * qd + h * d + i] * k[j * kvd + kh * d + i];
                    s[j] = dot / std::sqrt(double(d));
                }
                double mx = *std::max_element(s.begin(), s.end()), sum = 0;
                for (double& e : s) sum += (e = std::exp(e - mx));
                for (std::int64_t j = 0; j <= t; ++j)
                    for (std::int64_t i = 0; i < d; ++i)
                        att[t * qd + h * d + i] += s[j] / sum * v[j * kvd + kh * d + i];
            }
        auto o = linear(att, p + "self_attn.o_proj", H, qd, c.attention_out_bias);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] += o[i];
        xn = norm(x, p + "post_attention_layernorm.weight");
        auto g = linear(xn, p + "mlp.gate_proj", I, H, c.mlp_bias);
        auto u = linear(xn, p + "mlp.up_proj", I, H, c.mlp_bias);
        for (std::size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
        auto dn = linear(g, p + "mlp.down_proj", H, I, c.mlp_bias);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] += dn[i];
    }
    const auto xn = norm(x, "model.norm.weight");
    return linear(xn, c.tie_word_embeddings ? "model.embed_tokens" : "lm_head", c.vocab_size, H,
                  false);
}

ModelConfig tiny_config(ModelArch arch) {
    ModelConfig c;
    c.arch = arch;
    c.hidden_size = 32;
    c.intermediate_size = 48;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 8;
    c.vocab_size = 64;
    c.max_position_embeddings = 128;
    c.rms_norm_eps = 1e-5;
    c.bos_token_id = 1;
    c.eos_token_ids = {2};
    if (arch == ModelArch::qwen2) {
        c.attention_qkv_bias = true;
        c.num_key_value_heads = 1;
        c.rope_theta = 1000000.0;
        c.tie_word_embeddings = true;
    }
    if (arch == ModelArch::mistral) c.sliding_window = 3;
    return c;
}

std::vector<std::int32_t> token_ids(int n, std::int64_t vocab, int seed = 0) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        ids[i] = static_cast<std::int32_t>((i * 37 + seed * 11 + 5) % vocab);
    return ids;
}

double max_diff(const std::vector<float>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}
double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Writes config.json and model.safetensors for `tensors` into `dir`.
void write_model_folder(const std::filesystem::path& dir, const std::string& config_json,
                        const Tensors& tensors) {
    std::ofstream(dir / "config.json") << config_json;
    std::vector<io::TensorToWrite> out;
    for (const auto& [name, t] : tensors)
        out.push_back({name, t.dtype, t.shape, t.data.data(), {}});
    io::write_safetensors(dir / "model.safetensors", out);
}

const char* tiny_llama_json = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 32,
  "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 2, "vocab_size": 64, "max_position_embeddings": 128,
  "rms_norm_eps": 1e-5, "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": false})";

}  // namespace

class TestModel : public QObject {
    Q_OBJECT

private slots:
    // ------------------------------------------------------------------ stories260K fixture
    void stories_logits_match_runc() {
        MESWITCH_REQUIRE_FIXTURE(model_dir, "stories260K-hf");
        MESWITCH_REQUIRE_FIXTURE(ref_dir, "stories260K");
        std::vector<std::int32_t> ids;
        {
            std::istringstream lines(read_text(ref_dir / "ref_ids_once_upon_a_time.txt"));
            std::string line;
            while (std::getline(lines, line))
                if (line.rfind("sequence_fed:", 0) == 0) {
                    std::istringstream nums(line.substr(13));
                    for (int v; nums >> v;) ids.push_back(v);
                }
        }
        QCOMPARE(ids.size(), std::size_t(64));
        const std::string bin = read_text(ref_dir / "ref_logits_once_upon_a_time_64x512_f32le.bin");
        QCOMPARE(bin.size(), std::size_t(64 * 512 * 4));
        std::vector<float> ref(64 * 512);
        std::memcpy(ref.data(), bin.data(), bin.size());

        Model model = Model::load(model_dir);
        QCOMPARE(model.config().vocab_size, 512);
        // batched prefill of all 64 positions
        KvCache cache = model.make_cache();
        ForwardOptions all;
        all.all_positions = true;
        const std::vector<float> logits = model.forward(ids, cache, all);
        QCOMPARE(logits.size(), ref.size());
        const double prefill_diff = max_diff(logits, ref);
        QVERIFY2(prefill_diff <= 1e-4,
                 qPrintable(QString("prefill max |diff| %1").arg(prefill_diff)));
        QCOMPARE(cache.size(), 64);
        // token by token
        KvCache cache2 = model.make_cache(64);
        double decode_diff = 0;
        for (std::size_t t = 0; t < ids.size(); ++t) {
            const auto l = model.forward(std::span(ids).subspan(t, 1), cache2);
            const std::vector<float> row(ref.begin() + t * 512, ref.begin() + (t + 1) * 512);
            decode_diff = std::max(decode_diff, max_diff(l, row));
        }
        QVERIFY2(decode_diff <= 1e-4, qPrintable(QString("decode max |diff| %1").arg(decode_diff)));
        qInfo("stories260K vs run.c logits: max |diff| prefill %.3g, decode %.3g", prefill_diff,
              decode_diff);
        // the cache is now full
        QVERIFY_THROWS_EXCEPTION(Error, model.forward(std::span(ids).subspan(0, 1), cache2));
    }

    void stories_greedy_200_matches_runc() {
        MESWITCH_REQUIRE_FIXTURE(model_dir, "stories260K-hf");
        MESWITCH_REQUIRE_FIXTURE(ref_dir, "stories260K");
        std::string expected = read_text(ref_dir / "expected_runc_t0_n200.txt");
        QVERIFY(!expected.empty() && expected.back() == '\n');
        expected.pop_back();
        Model model = Model::load(model_dir);
        const Tokenizer tok = Tokenizer::from_folder(model_dir);
        GenerateOptions opt;
        opt.max_tokens = 200;
        opt.sampling.temperature = 0.0f;
        opt.stop_on_bos = true;
        std::string streamed;
        const std::int32_t bos[1] = {1};
        const GenerateResult r =
            generate(model, tok, bos, opt, [&](std::string_view piece) { streamed += piece; });
        QCOMPARE(r.text, expected);
        QCOMPARE(streamed, expected);
        QCOMPARE(r.tokens.size(), std::size_t(200));
        QCOMPARE(r.stop_reason, std::string("max_tokens"));
        QCOMPARE(r.prompt_tokens, 1);
    }

    void stories_expert_weights_load() {
        MESWITCH_REQUIRE_FIXTURE(base_dir, "stories260K-hf");
        MESWITCH_REQUIRE_FIXTURE(math_dir, "stories260K-experts/math");
        Model base = Model::load(base_dir);
        Model math = Model::load(math_dir);
        const auto ids = token_ids(8, 512);
        KvCache c1 = base.make_cache(), c2 = math.make_cache();
        const auto a = base.forward(ids, c1), b = math.forward(ids, c2);
        QVERIFY(max_diff(a, b) > 0.1);  // a fine-tune really changes the output
        // Swap every expert tensor into the base: it now computes the expert.
        for (const std::string& name : math.weight_names()) {
            const TensorView v = math.weight(name);
            HostTensor t;
            t.dtype = v.dtype;
            t.shape = v.shape;
            t.data.assign(v.data, v.data + v.nbytes);
            base.replace_weight(name, std::move(t));
        }
        c1.clear();
        QCOMPARE(max_diff(base.forward(ids, c1), b), 0.0);
    }

    // --------------------------------------------------------- random tiny models vs reference
    void tiny_models_match_reference_data() {
        QTest::addColumn<int>("variant");
        QTest::addColumn<int>("dtype");
        const char* names[] = {"llama gqa",   "llama tied",  "llama head_dim 16 + biases",
                               "llama3 rope", "linear rope", "mistral window 3",
                               "qwen2 biases"};
        for (int v = 0; v < 7; ++v)
            for (DType dt : {DType::f32, DType::bf16, DType::f16})
                QTest::newRow(qPrintable(QString("%1 %2").arg(names[v], dtype_name(dt))))
                    << v << static_cast<int>(dt);
    }
    void tiny_models_match_reference() {
        QFETCH(int, variant);
        QFETCH(int, dtype);
        ModelConfig c = tiny_config(variant == 6   ? ModelArch::qwen2
                                    : variant == 5 ? ModelArch::mistral
                                                   : ModelArch::llama);
        if (variant == 1) c.tie_word_embeddings = true;
        if (variant == 2) {
            c.head_dim = 16;  // q_dim 64 != hidden 32
            c.attention_qkv_bias = c.attention_out_bias = c.mlp_bias = true;
        }
        if (variant == 3) c.rope_scaling = {RopeScaling::Type::llama3, 8.0, 1.0, 4.0, 16};
        if (variant == 4) c.rope_scaling = {RopeScaling::Type::linear, 4.0, 1.0, 4.0, 8192};
        const Tensors w = model::random_weights(c, static_cast<DType>(dtype), 42 + variant);
        Model model = Model::from_tensors(c, w, {2});
        const auto ids = token_ids(11, c.vocab_size, variant);
        const auto ref = reference_forward(c, w, ids);

        KvCache cache = model.make_cache();
        ForwardOptions all;
        all.all_positions = true;
        const auto prefill = model.forward(ids, cache, all);
        QVERIFY2(max_diff(prefill, ref) < 1e-4,
                 qPrintable(QString::number(max_diff(prefill, ref))));

        // token by token, and in uneven chunks continuing the cache
        KvCache c1 = model.make_cache(), c2 = model.make_cache();
        double step_diff = 0, chunk_diff = 0;
        for (std::size_t t = 0; t < ids.size(); ++t) {
            const auto l = model.forward(std::span(ids).subspan(t, 1), c1);
            step_diff =
                std::max(step_diff,
                         max_diff(l, std::vector<float>(prefill.begin() + t * c.vocab_size,
                                                        prefill.begin() + (t + 1) * c.vocab_size)));
        }
        std::size_t at = 0;
        for (std::size_t len : {5u, 1u, 5u}) {
            const auto l = model.forward(std::span(ids).subspan(at, len), c2, all);
            at += len;
            const std::vector<float> want(prefill.begin() + (at - len) * c.vocab_size,
                                          prefill.begin() + at * c.vocab_size);
            chunk_diff = std::max(chunk_diff, max_diff(l, want));
        }
        QVERIFY2(step_diff < 1e-4, qPrintable(QString::number(step_diff)));
        QVERIFY2(chunk_diff < 1e-4, qPrintable(QString::number(chunk_diff)));
    }

    void sliding_window_limits_what_one_layer_sees() {
        // One layer: with window W the last position depends only on the last W tokens, and
        // RoPE is relative, so running just those W tokens from position 0 gives its logits.
        ModelConfig c = tiny_config(ModelArch::mistral);
        c.num_hidden_layers = 1;
        c.sliding_window = 4;
        Model model = Model::from_tensors(c, model::random_weights(c, DType::f32, 7), {1});
        const auto ids = token_ids(12, c.vocab_size);
        KvCache full = model.make_cache(), tail = model.make_cache();
        const auto a = model.forward(ids, full);
        const auto b = model.forward(std::span(ids).subspan(8), tail);
        QVERIFY2(max_diff(a, b) < 1e-4, qPrintable(QString::number(max_diff(a, b))));
        c.sliding_window.reset();  // without the window the earlier tokens matter
        Model no_window = Model::from_tensors(c, model::random_weights(c, DType::f32, 7), {1});
        full.clear();
        QVERIFY(max_diff(no_window.forward(ids, full), b) > 1e-3);
    }

    // ------------------------------------------------------------------------ loading
    void load_from_safetensors_folder() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const std::filesystem::path dir = tmp.path().toStdString();
        const ModelConfig c = parse_model_config_text(tiny_llama_json);
        const Tensors w = model::random_weights(c, DType::bf16, 3);
        write_model_folder(dir, tiny_llama_json, w);
        Model loaded = Model::load(dir);
        Model memory = Model::from_tensors(c, w);
        QCOMPARE(loaded.weight("model.layers.1.mlp.up_proj.weight").dtype,
                 DType::bf16);  // not widened
        const auto ids = token_ids(9, c.vocab_size);
        KvCache c1 = loaded.make_cache(), c2 = memory.make_cache();
        QVERIFY(max_diff(loaded.forward(ids, c1), memory.forward(ids, c2)) < 1e-6);
        QCOMPARE(loaded.weight_bytes_per_token(),
                 std::uint64_t(2 * (2 * (32 * 32 * 2 + 16 * 32 * 2 + 48 * 32 * 3) + 64 * 32 + 32)));
    }

    void load_rejects_mismatched_weights() {
        QTemporaryDir tmp;
        const std::filesystem::path dir = tmp.path().toStdString();
        const ModelConfig c = parse_model_config_text(tiny_llama_json);
        Tensors w = model::random_weights(c, DType::f32, 3);
        w.erase("model.layers.1.mlp.gate_proj.weight");
        w["model.layers.0.self_attn.v_proj.weight"] =
            HostTensor::from_f32({8, 32}, std::vector<float>(256, 0.0f));
        write_model_folder(dir, tiny_llama_json, w);
        try {
            Model::load(dir);
            QFAIL("loaded a mismatched checkpoint");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::format);
            const std::string msg = e.what();
            QVERIFY2(msg.find("model.layers.0.self_attn.v_proj.weight") != std::string::npos,
                     e.what());
            QVERIFY2(msg.find("[8, 32]") != std::string::npos, e.what());
            QVERIFY2(msg.find("missing tensor 'model.layers.1.mlp.gate_proj.weight'") !=
                         std::string::npos,
                     e.what());
        }
        // i32 weights are refused by name
        Tensors ints = model::random_weights(c, DType::f32, 3);
        ints["model.norm.weight"].dtype = DType::i32;
        write_model_folder(dir, tiny_llama_json, ints);
        try {
            Model::load(dir);
            QFAIL("loaded i32 weights");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::unsupported);
            QVERIFY(std::string(e.what()).find("model.norm.weight") != std::string::npos);
        }
    }

    void bad_inputs_give_errors() {
        const ModelConfig c = tiny_config(ModelArch::llama);
        Model model = Model::from_tensors(c, model::random_weights(c, DType::f32, 1), {1});
        KvCache cache = model.make_cache(4);
        const std::int32_t bad[2] = {3, 64};
        QVERIFY_THROWS_EXCEPTION(Error, model.forward(bad, cache));
        QCOMPARE(cache.size(), 0);  // a failed forward leaves the cache as it was
        const std::int32_t five[5] = {1, 2, 3, 4, 5};
        QVERIFY_THROWS_EXCEPTION(Error, model.forward(five, cache));  // capacity 4
        QVERIFY_THROWS_EXCEPTION(Error, model.forward(std::span<const std::int32_t>(), cache));
        QVERIFY_THROWS_EXCEPTION(Error, model.weight("no.such.weight"));
        QVERIFY_THROWS_EXCEPTION(
            Error, model.replace_weight("model.norm.weight",
                                        HostTensor::from_f32({31}, std::vector<float>(31))));
        ModelConfig other = c;
        other.num_key_value_heads = 4;
        KvCache wrong(other, 8);
        QVERIFY_THROWS_EXCEPTION(Error, model.forward(std::span(five, 1), wrong));
    }

    // ------------------------------------------------------------- expert-switching hooks
    void delta_provider_equals_replaced_weight() {
        const ModelConfig c = tiny_config(ModelArch::llama);
        const Tensors w = model::random_weights(c, DType::bf16, 9);
        const auto ids = token_ids(7, c.vocab_size);
        // Δ for two linears
        struct Delta {
            LinearRef ref;
            std::vector<float> values;  // out × in
            std::int64_t out, in;
        };
        std::vector<Delta> deltas;
        std::mt19937 rng(5);
        std::uniform_real_distribution<float> u(-0.05f, 0.05f);
        for (LinearRef ref :
             {LinearRef{0, LinearKind::q_proj}, LinearRef{1, LinearKind::down_proj}}) {
            const auto& t = w.at(linear_weight_name(ref));
            Delta d{ref, {}, t.shape[0], t.shape[1]};
            d.values.resize(static_cast<std::size_t>(d.out * d.in));
            for (float& v : d.values) v = u(rng);
            deltas.push_back(d);
        }
        Model base = Model::from_tensors(c, w, {2});
        KvCache cache = base.make_cache();
        const auto base_logits = base.forward(ids, cache);

        // (a) working copy W + Δ in f32
        Model swapped = Model::from_tensors(c, w, {2});
        for (const Delta& d : deltas) {
            auto values = widened(w.at(linear_weight_name(d.ref)));
            for (std::size_t i = 0; i < values.size(); ++i) values[i] += d.values[i];
            swapped.replace_weight(linear_weight_name(d.ref),
                                   HostTensor::from_f32({d.out, d.in}, values));
        }
        cache.clear();
        const auto swapped_logits = swapped.forward(ids, cache);
        QVERIFY(max_diff(swapped_logits, base_logits) > 1e-3);

        // (b) separate term x·Δᵀ
        struct Provider : DeltaProvider {
            std::vector<Delta>* deltas;
            int calls = 0;
            void add_delta(LinearRef ref, const float* x, std::int64_t rows, std::int64_t in,
                           float* y, std::int64_t out) override {
                ++calls;
                for (const Delta& d : *deltas) {
                    if (d.ref.layer != ref.layer || d.ref.kind != ref.kind) continue;
                    for (std::int64_t t = 0; t < rows; ++t)
                        for (std::int64_t o = 0; o < out; ++o) {
                            double s = 0;
                            for (std::int64_t i = 0; i < in; ++i)
                                s += double(x[t * in + i]) * d.values[o * in + i];
                            y[t * out + o] += static_cast<float>(s);
                        }
                }
            }
        } provider;
        provider.deltas = &deltas;
        base.set_delta_provider(&provider);
        cache.clear();
        const auto provided = base.forward(ids, cache);
        QCOMPARE(provider.calls, 2 * 7);  // every linear of every layer, once for the prefill
        QVERIFY2(max_diff(provided, swapped_logits) < 1e-4,
                 qPrintable(QString::number(max_diff(provided, swapped_logits))));
        base.set_delta_provider(nullptr);

        // restoring gives the base back exactly
        for (const Delta& d : deltas) swapped.restore_weight(linear_weight_name(d.ref));
        cache.clear();
        QCOMPARE(max_diff(swapped.forward(ids, cache), base_logits), 0.0);
        // norms can be swapped too (1-D tensors)
        swapped.replace_weight("model.norm.weight",
                               HostTensor::from_f32({32}, std::vector<float>(32, 2.0f)));
        cache.clear();
        QVERIFY(max_diff(swapped.forward(ids, cache), base_logits) > 1e-3);
    }

    void hidden_states_reach_the_callback() {
        const ModelConfig c = tiny_config(ModelArch::llama);
        const Tensors w = model::random_weights(c, DType::f32, 11);
        Model model = Model::from_tensors(c, w);
        const auto ids = token_ids(5, c.vocab_size);
        std::vector<std::int64_t> layers;
        std::vector<float> final_states;
        ForwardOptions opt;
        opt.on_hidden = [&](std::int64_t layer, const float* s, std::int64_t rows,
                            std::int64_t hidden) {
            layers.push_back(layer);
            QCOMPARE(rows, 5);
            QCOMPARE(hidden, 32);
            if (layer == c.num_hidden_layers) final_states.assign(s, s + rows * hidden);
        };
        KvCache cache = model.make_cache();
        const auto logits = model.forward(ids, cache, opt);
        QCOMPARE(layers, (std::vector<std::int64_t>{0, 1, 2}));
        // logits = head · final-norm state of the last position
        const auto head = widened(w.at("lm_head.weight"));
        for (std::int64_t v = 0; v < c.vocab_size; ++v) {
            double s = 0;
            for (int i = 0; i < 32; ++i) s += double(final_states[4 * 32 + i]) * head[v * 32 + i];
            QVERIFY(std::fabs(s - logits[v]) < 1e-4);
        }
        // hidden states only, no logits
        opt.compute_logits = false;
        cache.clear();
        QVERIFY(model.forward(ids, cache, opt).empty());
        QCOMPARE(cache.size(), 5);
    }

    void bench_decode_reports_consistent_figures() {
        ModelConfig c = tiny_config(ModelArch::llama);
        c.hidden_size = 64;
        c.intermediate_size = 128;
        c.num_attention_heads = 8;
        c.num_key_value_heads = 4;
        const BenchDecodeResult r = bench_decode(c, DType::bf16, 8, 4, 2);
        QCOMPARE(r.threads, 2);
        QVERIFY(r.prefill_tokens_per_second > 0 && r.decode_tokens_per_second > 0);
        QVERIFY(r.memory_bandwidth_gbps > 0);
        QCOMPARE(
            r.weight_bytes_per_token,
            std::uint64_t(2 * (2 * (64 * 64 * 2 + 32 * 64 * 2 + 128 * 64 * 3) + 64 * 64 + 64)));
        QVERIFY(std::fabs(r.fraction_of_bound * r.bandwidth_bound_tokens_per_second -
                          r.decode_tokens_per_second) < 1e-6 * r.decode_tokens_per_second);
        QVERIFY_THROWS_EXCEPTION(Error, bench_decode(c, DType::bf16, 0, 4, 1));
    }
};

QTEST_GUILESS_MAIN(TestModel)
#include "test_model.moc"
