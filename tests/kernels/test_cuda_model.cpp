// The whole model on the GPU vs the CPU, and expert switching on the GPU. Logits are
// compared by NMSE = Σ(gpu − cpu)² / Σ cpu²; bounds per weight dtype: f32 ≤ 1e-8, f16
// ≤ 1e-5, bf16 ≤ 1e-3 (cuBLAS multiplies activations rounded to the weights' type; the CPU
// keeps them in f32). Switching: after many random in-place switches the base weights are
// bit-identical to the loaded ones, and both policies (in place, separate) give the logits
// of the CPU model running the same reconstructed expert. Tests that need a GPU skip with
// "no CUDA device: <reason>"; without one, the backend's error is checked instead.
#include <QtTest>

#include <cstring>
#include <map>
#include <random>

#include "backend/cpu/ops.h"
#include "backend/cuda/cuda_model.h"
#include "backend/cuda/device_delta.h"
#include "delta/pipeline/apply.h"
#include "gpu_test_util.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace gpu_test;
using meswitch::DType;
using meswitch::LinearKind;
using meswitch::LinearRef;
namespace cuda = meswitch::cuda;
namespace delta = meswitch::delta;

Q_DECLARE_METATYPE(meswitch::DType)

namespace {

double bound_for(DType d) {
    return d == DType::f32 ? 1e-8 : d == DType::f16 ? 1e-5 : 1e-3;
}

std::filesystem::path tiny_model(const std::string& arch, DType dtype, bool tie = false) {
    meswitch::test::TinyModelSpec spec;
    spec.arch = arch;
    spec.dtype = dtype;
    spec.tie_embeddings = tie;
    spec.sliding_window = 6;  // mistral: shorter than the prompts below
    const auto dir = meswitch::test::output_dir("cuda_model") /
                     (arch + "-" + meswitch::dtype_name(dtype) + (tie ? "-tied" : ""));
    meswitch::test::write_tiny_model(dir, spec);
    return dir;
}

std::vector<std::int32_t> prompt_ids(std::int64_t vocab, int n, int seed) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        ids[i] = static_cast<std::int32_t>((i * 131 + seed * 17 + 1) % vocab);
    return ids;
}

// CPU vs GPU: a prefill (all positions) and a few decode steps.
void compare_forward(meswitch::Model& model, cuda::CudaModel& gpu, double bound, int prompt = 11) {
    auto cache = model.make_cache(64);
    gpu.clear_cache();
    const auto ids = prompt_ids(model.config().vocab_size, prompt, 3);
    meswitch::ForwardOptions all;
    all.all_positions = true;
    const auto ref = model.forward(ids, cache, all);
    const auto got = gpu.forward(ids, all);
    double err = nmse(got, ref);
    QVERIFY2(err <= bound, qPrintable(QString("prefill NMSE %1 > %2").arg(err).arg(bound)));
    std::int32_t next = 5;
    for (int step = 0; step < 4; ++step) {
        const std::int32_t one[1] = {next};
        const auto r = model.forward(one, cache);
        const auto g = gpu.forward(one);
        err = nmse(g, r);
        QVERIFY2(err <= bound,
                 qPrintable(QString("decode step %1 NMSE %2 > %3").arg(step).arg(err).arg(bound)));
        next = static_cast<std::int32_t>(std::max_element(r.begin(), r.end()) - r.begin());
    }
    QCOMPARE(gpu.cache_size(), cache.size());
}

// Random deltas for a few linears of every layer (an "expert").
std::map<std::string, delta::CompressedLinear> random_expert(const meswitch::Model& m, int seed) {
    std::map<std::string, delta::CompressedLinear> out;
    for (std::int64_t l = 0; l < m.config().num_hidden_layers; ++l)
        for (LinearKind kind :
             {LinearKind::q_proj, LinearKind::v_proj, LinearKind::up_proj, LinearKind::down_proj}) {
            const std::string name = meswitch::linear_weight_name({l, kind});
            const auto v = m.weight(name);
            DeltaSpec s;
            s.rows = v.shape[0];
            s.cols = v.shape[1];
            s.salient = 2;
            s.scale = 0.004f;
            s.seed = static_cast<std::uint64_t>(seed * 1000 + l * 10 + static_cast<int>(kind));
            out[name] = random_delta(s);
        }
    return out;
}

std::vector<std::byte> bytes_of(const meswitch::TensorView& v) {
    return std::vector<std::byte>(v.data, v.data + v.nbytes);
}

}  // namespace

class TestCudaModel : public QObject {
    Q_OBJECT

private slots:
    void no_device_is_a_clear_error() {
        const std::string reason = cuda::no_device_reason();
        if (reason.empty())
            QSKIP("a CUDA device is present: the no-device error cannot be shown here");
        auto model = meswitch::Model::load(tiny_model("llama", DType::f32));
        try {
            cuda::CudaModel gpu(model);
            QFAIL("CudaModel was built without a device");
        } catch (const meswitch::Error& e) {
            QCOMPARE(e.kind(), meswitch::ErrorKind::device);
            QVERIFY2(QString(e.what()).startsWith("no CUDA device: "), e.what());
        }
    }

    void stories260k_matches_cpu() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        MESWITCH_REQUIRE_FIXTURE(dir, "stories260K-hf");
        auto model = meswitch::Model::load(dir);
        cuda::CudaModel gpu(model);
        compare_forward(model, gpu, 1e-8, 40);
        // Greedy generation on the device picks what the CPU picks.
        auto cache = model.make_cache(64);
        const std::vector<std::int32_t> bos = {1};
        auto logits = model.forward(bos, cache);
        std::vector<std::int32_t> cpu_tokens;
        for (int i = 0; i < 12; ++i) {
            const auto next = static_cast<std::int32_t>(
                std::max_element(logits.begin(), logits.end()) - logits.begin());
            cpu_tokens.push_back(next);
            const std::int32_t one[1] = {next};
            logits = model.forward(one, cache);
        }
        gpu.clear_cache();
        QCOMPARE(gpu.generate_greedy(bos, 12), cpu_tokens);
    }

    // Mixtral: routing on the host from the GPU's float32 router logits, experts through
    // cuBLAS; the logits match the CPU within the f32 bound of the dense models.
    void tiny_mixtral_matches_cpu() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral/base");
        auto model = meswitch::Model::load(dir);
        QVERIFY(model.config().arch == meswitch::ModelArch::mixtral);
        cuda::CudaModel gpu(model);
        QCOMPARE(gpu.weight_bytes_per_token(), model.weight_bytes_per_token());
        compare_forward(model, gpu, bound_for(DType::f32), 40);
        // Greedy generation on the device (one routed token per step) picks what the CPU picks.
        auto cache = model.make_cache(64);
        const std::vector<std::int32_t> bos = {1};
        auto logits = model.forward(bos, cache);
        std::vector<std::int32_t> cpu_tokens;
        for (int i = 0; i < 12; ++i) {
            const auto next = static_cast<std::int32_t>(
                std::max_element(logits.begin(), logits.end()) - logits.begin());
            cpu_tokens.push_back(next);
            const std::int32_t one[1] = {next};
            logits = model.forward(one, cache);
        }
        gpu.clear_cache();
        QCOMPARE(gpu.generate_greedy(bos, 12), cpu_tokens);
    }

    void tiny_models_match_cpu_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<DType>("dtype");
        QTest::addColumn<bool>("tied");
        QTest::newRow("llama f32") << "llama" << DType::f32 << false;
        QTest::newRow("llama bf16 tied") << "llama" << DType::bf16 << true;
        QTest::newRow("mistral f16 sliding window") << "mistral" << DType::f16 << false;
        QTest::newRow("qwen2 bf16 biases") << "qwen2" << DType::bf16 << false;
    }
    void tiny_models_match_cpu() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        QFETCH(QString, arch);
        QFETCH(DType, dtype);
        QFETCH(bool, tied);
        auto model = meswitch::Model::load(tiny_model(arch.toStdString(), dtype, tied));
        cuda::CudaModel gpu(model);
        compare_forward(model, gpu, bound_for(dtype));
    }

    void switching_keeps_base_exact_data() {
        QTest::addColumn<DType>("dtype");
        QTest::addColumn<bool>("host_copy");
        QTest::newRow("bf16 device copy") << DType::bf16 << false;
        QTest::newRow("f16 host copy") << DType::f16 << true;
        QTest::newRow("f32 device copy") << DType::f32 << false;
    }
    void switching_keeps_base_exact() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        QFETCH(DType, dtype);
        QFETCH(bool, host_copy);
        auto model = meswitch::Model::load(tiny_model("llama", dtype));
        cuda::CudaModelOptions opt;
        opt.restore = host_copy ? cuda::RestoreMode::host_copy : cuda::RestoreMode::device_copy;
        cuda::CudaModel gpu(model, opt);
        std::vector<std::map<std::string, delta::CompressedLinear>> experts;
        std::vector<std::map<std::string, std::unique_ptr<cuda::LinearDelta>>> device_experts(3);
        for (int e = 0; e < 3; ++e) {
            experts.push_back(random_expert(model, e + 1));
            for (const auto& [name, c] : experts.back())
                device_experts[e][name] =
                    std::make_unique<cuda::LinearDelta>(gpu.allocator(), c, name);
        }
        std::mt19937 rng(42);
        for (int i = 0; i < 1000; ++i) {
            const int e = static_cast<int>(rng() % 4);  // 3: back to the base
            if (e == 3) {
                gpu.restore_all();
                continue;
            }
            for (const auto& [name, d] : device_experts[e]) gpu.apply_delta(name, *d);
        }
        // The active expert's weights are exactly the CPU merge of the base.
        gpu.restore_all();
        for (const auto& [name, d] : device_experts[1]) gpu.apply_delta(name, *d);
        for (const auto& [name, c] : experts[1]) {
            const auto base = bytes_of(model.weight(name));
            std::vector<std::byte> ref(base.size());
            meswitch::cpu::apply_delta(c, dtype, base.data(), ref.data());
            QVERIFY2(gpu.read_weight(name) == ref, name.c_str());
        }
        gpu.restore_all();
        for (const std::string& name : gpu.weight_names())
            QVERIFY2(gpu.read_weight(name) == bytes_of(model.weight(name)), name.c_str());
        QCOMPARE(gpu.restore_overhead_bytes() > 0, !host_copy);
        gpu.release_base_copies();
        QCOMPARE(gpu.restore_overhead_bytes(), std::uint64_t(0));
    }

    void both_policies_match_reconstructed_expert() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        const DType dtype = DType::bf16;
        auto model = meswitch::Model::load(tiny_model("llama", dtype));
        cuda::CudaModel gpu(model);
        const auto expert = random_expert(model, 9);
        std::map<std::string, std::unique_ptr<cuda::LinearDelta>> dev;
        for (const auto& [name, c] : expert)
            dev[name] = std::make_unique<cuda::LinearDelta>(gpu.allocator(), c, name);

        // In place vs the CPU model with the merged weights swapped in.
        for (const auto& [name, c] : expert) {
            const auto v = model.weight(name);
            const auto base = bytes_of(v);
            meswitch::HostTensor t;
            t.dtype = dtype;
            t.shape = v.shape;
            t.data.resize(base.size());
            meswitch::cpu::apply_delta(c, dtype, base.data(), t.data.data());
            model.replace_weight(name, std::move(t));
            gpu.apply_delta(name, *dev.at(name));
        }
        compare_forward(model, gpu, bound_for(dtype));
        for (const auto& [name, c] : expert) model.restore_weight(name);
        gpu.restore_all();

        // Separate computation vs the CPU's separate computation.
        delta::CompressedDeltaProvider provider;
        for (const auto& [name, c] : expert) {
            const auto ref = delta::parse_linear_prefix(name.substr(0, name.size() - 7));
            QVERIFY(ref.has_value());
            provider.set(*ref, c);
            gpu.set_separate_delta(*ref, dev.at(name).get());
        }
        model.set_delta_provider(&provider);
        compare_forward(model, gpu, bound_for(dtype));
        model.set_delta_provider(nullptr);
        gpu.clear_separate_deltas();
    }

    void bad_input_is_an_error() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        auto model = meswitch::Model::load(tiny_model("llama", DType::f32));
        cuda::CudaModelOptions opt;
        opt.cache_capacity = 8;
        cuda::CudaModel gpu(model, opt);
        const std::vector<std::int32_t> bad = {1, 100000};
        QVERIFY_THROWS_EXCEPTION(meswitch::Error, gpu.forward(bad));
        const auto nine = prompt_ids(model.config().vocab_size, 9, 1);
        QVERIFY_THROWS_EXCEPTION(meswitch::Error, gpu.forward(nine));
        QCOMPARE(gpu.cache_size(), std::int64_t(0));
        DeltaSpec s;  // wrong shape for q_proj
        const auto c = random_delta(s);
        cuda::LinearDelta d(gpu.allocator(), c, "wrong");
        QVERIFY_THROWS_EXCEPTION(meswitch::Error,
                                 gpu.apply_delta("model.layers.0.self_attn.q_proj.weight", d));
        QVERIFY_THROWS_EXCEPTION(meswitch::Error, gpu.apply_delta("no.such.weight", d));
    }
};

QTEST_GUILESS_MAIN(TestCudaModel)
#include "test_cuda_model.moc"
