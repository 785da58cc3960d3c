// CUDA kernels vs the CPU backend ("test-backend-ops"): same inputs, compare outputs by
// normalised mean squared error NMSE = Σ(gpu − cpu)² / Σ cpu².
#include <cuda_runtime.h>

#include <QtTest>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/ops.h"
#include "rmsnorm.cuh"

namespace {

double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double d = double(got[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    return den > 0 ? num / den : num;
}

std::vector<float> random_vector(std::size_t n, std::uint64_t seed, float lo = -2.f, float hi = 2.f) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

// RAII device buffer for tests.
struct DeviceBuffer {
    float* ptr = nullptr;
    explicit DeviceBuffer(const std::vector<float>& host) {
        if (cudaMalloc(&ptr, host.size() * sizeof(float)) == cudaSuccess)
            cudaMemcpy(ptr, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice);
    }
    explicit DeviceBuffer(std::size_t n) { cudaMalloc(&ptr, n * sizeof(float)); }
    ~DeviceBuffer() { cudaFree(ptr); }
    std::vector<float> download(std::size_t n) const {
        std::vector<float> out(n);
        cudaMemcpy(out.data(), ptr, n * sizeof(float), cudaMemcpyDeviceToHost);
        return out;
    }
};

}  // namespace

class TestKernels : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        int count = 0;
        const cudaError_t err = cudaGetDeviceCount(&count);
        if (err != cudaSuccess || count == 0)
            QSKIP(qPrintable(QStringLiteral("no CUDA device present (%1): GPU kernel tests skipped")
                                 .arg(err != cudaSuccess ? cudaGetErrorString(err) : "0 devices")));
    }

    void rmsnorm_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::newRow("decode 4096") << 1 << 4096;
        QTest::newRow("prefill 7x64") << 7 << 64;
        QTest::newRow("odd 3x1000") << 3 << 1000;
        QTest::newRow("wide 2x14336") << 2 << 14336;
    }

    // Bound: NMSE ≤ 1e-10 (float32 sums in a different order).
    void rmsnorm() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        const auto x = random_vector(std::size_t(rows) * cols, 1);
        const auto w = random_vector(cols, 2, 0.5f, 1.5f);
        std::vector<float> ref(x.size());
        meswitch::cpu::rmsnorm(x.data(), w.data(), ref.data(), rows, cols, 1e-5f);

        DeviceBuffer dx(x), dw(w), dy(x.size());
        QCOMPARE(meswitch::kernels::rmsnorm_f32(dx.ptr, dw.ptr, dy.ptr, rows, cols, 1e-5f, nullptr),
                 cudaSuccess);
        QCOMPARE(cudaDeviceSynchronize(), cudaSuccess);
        const double err = nmse(dy.download(x.size()), ref);
        QVERIFY2(err <= 1e-10, qPrintable(QString("NMSE %1").arg(err)));
    }
};

QTEST_GUILESS_MAIN(TestKernels)
#include "test_kernels.moc"
