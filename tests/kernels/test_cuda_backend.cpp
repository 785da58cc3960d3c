// serve::DeviceBackend on CUDA (engine/src/serve/cuda_backend.cpp) against the CPU backend,
// with one in-memory expert (packed linears + a dense norm delta) on tiny generated bases:
//  - 1,000 random activations (merged, separate, none) leave every base weight
//    bit-identical;
//  - merged and separate logits match the CPU backend's within the dtype bound of
//    test_cuda_model (NMSE ≤ 1e-8 f32, ≤ 1e-3 bf16).
// Without a GPU, open_backend("cuda") must fail with Error(device) saying why.
#include <QtTest>

#include <random>

#include "gpu_test_util.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "serve/device_backend.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace gpu_test;
using meswitch::DType;
namespace serve = meswitch::serve;

Q_DECLARE_METATYPE(meswitch::DType)

namespace {

std::filesystem::path tiny_base(DType dtype) {
    meswitch::test::TinyModelSpec spec;
    spec.dtype = dtype;
    const auto dir = meswitch::test::output_dir("cuda_backend") /
                     (std::string("llama-") + meswitch::dtype_name(dtype));
    meswitch::test::write_tiny_model(dir, spec);
    return dir;
}

serve::HostDelta random_host_delta(const meswitch::Model& m, int seed) {
    serve::HostDelta h;
    h.name = "expert" + std::to_string(seed);
    for (std::int64_t l = 0; l < m.config().num_hidden_layers; ++l)
        for (auto kind : {meswitch::LinearKind::k_proj, meswitch::LinearKind::o_proj,
                          meswitch::LinearKind::gate_proj}) {
            const std::string name = meswitch::linear_weight_name({l, kind});
            const auto v = m.weight(name);
            DeltaSpec s;
            s.rows = v.shape[0];
            s.cols = v.shape[1];
            s.salient = 1;
            s.scale = 0.004f;
            s.seed = static_cast<std::uint64_t>(seed * 100 + l * 10 + static_cast<int>(kind));
            h.linears.push_back({name.substr(0, name.size() - 7), random_delta(s)});
        }
    meswitch::delta::DenseDelta d;
    d.name = "model.norm.weight";
    d.dtype = DType::f32;
    d.shape = m.weight(d.name).shape;
    d.f32 = random_vector(static_cast<std::size_t>(d.shape[0]), seed, -0.05f, 0.05f);
    h.dense.push_back(d);
    return h;
}

std::vector<float> logits_of(serve::DeviceBackend& b) {
    const std::vector<std::int32_t> ids = {1, 40, 41, 42, 100, 7, 250, 3, 99};
    auto cache = b.make_cache(16);
    return b.forward(ids, *cache, true);
}

}  // namespace

class TestCudaBackend : public QObject {
    Q_OBJECT

private slots:
    void no_device_is_a_clear_error() {
        const std::string reason = meswitch::cuda::no_device_reason();
        if (reason.empty())
            QSKIP("a CUDA device is present: the no-device error cannot be shown here");
        auto model = meswitch::Model::load(tiny_base(DType::f32));
        try {
            serve::open_backend("cuda", std::move(model));
            QFAIL("open_backend(\"cuda\") succeeded without a device");
        } catch (const meswitch::Error& e) {
            QCOMPARE(e.kind(), meswitch::ErrorKind::device);
            QVERIFY2(QString(e.what()).contains("cuda"), e.what());
        }
    }

    void matches_cpu_backend_and_restores_exactly_data() {
        QTest::addColumn<DType>("dtype");
        QTest::newRow("f32") << DType::f32;
        QTest::newRow("bf16") << DType::bf16;
    }
    void matches_cpu_backend_and_restores_exactly() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        QFETCH(DType, dtype);
        const double bound = dtype == DType::f32 ? 1e-8 : 1e-3;
        const auto dir = tiny_base(dtype);
        auto host = meswitch::Model::load(dir);
        std::vector<serve::HostDelta> experts;
        for (int e = 1; e <= 3; ++e) experts.push_back(random_host_delta(host, e));
        auto cpu = serve::make_cpu_backend(meswitch::Model::load(dir));
        auto gpu = serve::open_backend("cuda", meswitch::Model::load(dir));
        QCOMPARE(QString::fromStdString(gpu->kind()), QString("cuda"));
        std::vector<std::unique_ptr<serve::DeviceDelta>> cd, gd;
        for (const auto& h : experts) {
            cd.push_back(cpu->upload(h));
            gd.push_back(gpu->upload(h));
        }
        std::map<std::string, std::vector<std::byte>> original;
        for (const std::string& n : host.weight_names()) original[n] = gpu->read_weight(n);

        for (auto mode : {meswitch::DeltaMode::merged, meswitch::DeltaMode::separate}) {
            cpu->activate(cd[1].get(), mode);
            gpu->activate(gd[1].get(), mode);
            const double err = nmse(logits_of(*gpu), logits_of(*cpu));
            QVERIFY2(err <= bound, qPrintable(QString("mode %1 NMSE %2").arg(int(mode)).arg(err)));
        }
        std::mt19937 rng(5);
        for (int i = 0; i < 1000; ++i) {
            const int e = static_cast<int>(rng() % 4);
            const auto mode =
                rng() % 2 ? meswitch::DeltaMode::merged : meswitch::DeltaMode::separate;
            gpu->activate(e == 3 ? nullptr : gd[e].get(), mode);
        }
        gpu->activate(nullptr, meswitch::DeltaMode::merged);
        for (const auto& [n, bytes] : original) QVERIFY2(gpu->read_weight(n) == bytes, n.c_str());
        cpu->activate(nullptr, meswitch::DeltaMode::merged);
        const double err = nmse(logits_of(*gpu), logits_of(*cpu));
        QVERIFY2(err <= bound, qPrintable(QString("base NMSE %1").arg(err)));
    }
};

QTEST_GUILESS_MAIN(TestCudaBackend)
#include "test_cuda_backend.moc"
