// CPU backend operators against straightforward double-precision references: GEMV / matmul
// in f32, bf16 and f16, RMSNorm, RoPE, softmax, grouped-query attention with a causal mask
// and a sliding window, SwiGLU, embedding lookup, and the thread pool.
#include <QtTest>

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>

#include "backend/cpu/gemv_amx.h"
#include "backend/cpu/ops.h"
#include "core/thread_pool.h"
#include "meswitch/error.h"

using namespace meswitch;

namespace {

std::vector<float> randoms(std::size_t n, std::uint64_t seed, float scale = 1.0f) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

// A weight matrix stored in `dtype`, plus the exact f32 values it holds.
struct StoredMatrix {
    HostTensor tensor;
    std::vector<float> widened;
    cpu::Matrix matrix() const {
        return {tensor.dtype, tensor.shape[0], tensor.shape[1], tensor.data.data()};
    }
};

StoredMatrix make_matrix(std::int64_t rows, std::int64_t cols, DType dtype, std::uint64_t seed) {
    StoredMatrix m;
    m.tensor = HostTensor::from_f32({rows, cols},
                                    randoms(static_cast<std::size_t>(rows * cols), seed), dtype);
    m.widened.resize(static_cast<std::size_t>(rows * cols));
    for (std::size_t i = 0; i < m.widened.size(); ++i) {
        std::uint16_t bits;
        switch (dtype) {
            case DType::f32:
                std::memcpy(&m.widened[i], m.tensor.data.data() + 4 * i, 4);
                break;
            case DType::bf16:
                std::memcpy(&bits, m.tensor.data.data() + 2 * i, 2);
                m.widened[i] = bf16_to_f32(bits);
                break;
            default:
                std::memcpy(&bits, m.tensor.data.data() + 2 * i, 2);
                m.widened[i] = f16_to_f32(bits);
        }
    }
    return m;
}

std::vector<double> reference_matmul(const std::vector<float>& x, std::int64_t rows,
                                     const std::vector<float>& w, std::int64_t out,
                                     std::int64_t in) {
    std::vector<double> y(static_cast<std::size_t>(rows * out));
    for (std::int64_t t = 0; t < rows; ++t)
        for (std::int64_t o = 0; o < out; ++o) {
            double s = 0;
            for (std::int64_t i = 0; i < in; ++i) s += double(x[t * in + i]) * w[o * in + i];
            y[t * out + o] = s;
        }
    return y;
}

// Reference attention in double: causal, GQA, optional window.
std::vector<double> reference_attention(const std::vector<float>& q, std::int64_t rows,
                                        std::int64_t pos0, const std::vector<float>& k,
                                        const std::vector<float>& v, const cpu::AttentionShape& s) {
    const std::int64_t d = s.head_dim, kvd = s.kv_heads * d, qd = s.heads * d;
    std::vector<double> out(static_cast<std::size_t>(rows * qd), 0.0);
    for (std::int64_t t = 0; t < rows; ++t)
        for (std::int64_t h = 0; h < s.heads; ++h) {
            const std::int64_t kvh = h / (s.heads / s.kv_heads), pos = pos0 + t;
            std::vector<double> w;
            std::vector<std::int64_t> js;
            for (std::int64_t j = 0; j <= pos; ++j) {
                if (s.window && pos - j >= *s.window) continue;
                double dot = 0;
                for (std::int64_t i = 0; i < d; ++i)
                    dot += double(q[t * qd + h * d + i]) * k[j * kvd + kvh * d + i];
                w.push_back(dot / std::sqrt(double(d)));
                js.push_back(j);
            }
            double mx = *std::max_element(w.begin(), w.end()), sum = 0;
            for (double& x : w) sum += (x = std::exp(x - mx));
            for (std::size_t n = 0; n < js.size(); ++n)
                for (std::int64_t i = 0; i < d; ++i)
                    out[t * qd + h * d + i] += w[n] / sum * v[js[n] * kvd + kvh * d + i];
        }
    return out;
}

}  // namespace

class TestCpuOps : public QObject {
    Q_OBJECT

private slots:
    void gemv_f32_matches_reference_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::newRow("tiny") << 1 << 1;
        QTest::newRow("odd") << 7 << 13;
        QTest::newRow("rows%4") << 9 << 64;
        QTest::newRow("wide") << 33 << 1027;
        QTest::newRow("stories") << 172 << 64;
    }
    void gemv_f32_matches_reference() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        ThreadPool pool(2);
        const StoredMatrix w = make_matrix(rows, cols, DType::f32, 1);
        const auto x = randoms(static_cast<std::size_t>(cols), 2);
        std::vector<float> y(static_cast<std::size_t>(rows)), y1(y.size());
        cpu::gemv(w.matrix(), x.data(), y.data(), pool);
        cpu::gemv_rows(w.matrix(), x.data(), y1.data(), 0, rows);
        const auto ref = reference_matmul(x, 1, w.widened, rows, cols);
        QVERIFY2(max_abs_diff(y, ref) < 1e-5 * std::sqrt(double(cols)),
                 qPrintable(QString::number(max_abs_diff(y, ref))));
        QCOMPARE(max_abs_diff(y, y1), 0.0);  // threads split rows, never change the sums
    }

    void gemv_half_precision_matches_widened_f32_data() { gemv_f32_matches_reference_data(); }
    void gemv_half_precision_matches_widened_f32() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        ThreadPool pool(2);
        for (DType dt : {DType::bf16, DType::f16}) {
            const StoredMatrix w = make_matrix(rows, cols, dt, 3);
            // The same values stored as f32: the half kernels must agree with the f32 kernel.
            const HostTensor as_f32 = HostTensor::from_f32({rows, cols}, w.widened, DType::f32);
            const cpu::Matrix wf{DType::f32, rows, cols, as_f32.data.data()};
            const auto x = randoms(static_cast<std::size_t>(cols), 4);
            std::vector<float> y(static_cast<std::size_t>(rows)), yf(y.size());
            cpu::gemv(w.matrix(), x.data(), y.data(), pool);
            cpu::gemv(wf, x.data(), yf.data(), pool);
            const auto ref = reference_matmul(x, 1, w.widened, rows, cols);
            QVERIFY2(max_abs_diff(y, yf) < 1e-5 * std::sqrt(double(cols)), dtype_name(dt));
            QVERIFY2(max_abs_diff(y, ref) < 1e-5 * std::sqrt(double(cols)), dtype_name(dt));
        }
    }

    void matmul_batched_all_dtypes() {
        ThreadPool pool(2);
        for (DType dt : {DType::f32, DType::bf16, DType::f16}) {
            for (int rows : {1, 3, 4, 17}) {
                const std::int64_t out = 70, in = 45;
                const StoredMatrix w = make_matrix(out, in, dt, 5);
                const auto x = randoms(static_cast<std::size_t>(rows * in), 6);
                std::vector<float> y(static_cast<std::size_t>(rows * out));
                cpu::matmul(x.data(), rows, w.matrix(), y.data(), pool);
                const auto ref = reference_matmul(x, rows, w.widened, out, in);
                QVERIFY2(max_abs_diff(y, ref) < 1e-4,
                         qPrintable(QString("%1 rows=%2").arg(dtype_name(dt)).arg(rows)));
            }
        }
    }

    void gemm_blocks_and_tails() {
        // every remainder: rows 1…9 (blocks of 4), out 13 (blocks of 4 + 1), odd in
        ThreadPool pool(2);
        for (DType dt : {DType::f32, DType::bf16, DType::f16}) {
            for (std::int64_t in : {1, 31, 64, 67}) {
                const std::int64_t out = 13;
                const StoredMatrix w = make_matrix(out, in, dt, 15 + in);
                for (int rows = 1; rows <= 9; ++rows) {
                    const auto x = randoms(static_cast<std::size_t>(rows * in), 16);
                    std::vector<float> y(static_cast<std::size_t>(rows * out), -7.0f);
                    cpu::gemm(x.data(), rows, w.matrix(), y.data(), pool);
                    const auto ref = reference_matmul(x, rows, w.widened, out, in);
                    QVERIFY2(
                        max_abs_diff(y, ref) < 1e-5 * std::sqrt(double(in)),
                        qPrintable(
                            QString("%1 in=%2 rows=%3").arg(dtype_name(dt)).arg(in).arg(rows)));
                }
            }
        }
        // 70 activation rows cross the 64-row chunk
        const StoredMatrix w = make_matrix(9, 40, DType::bf16, 17);
        const auto x = randoms(70 * 40, 18);
        std::vector<float> y(70 * 9);
        cpu::gemm(x.data(), 70, w.matrix(), y.data(), pool);
        QVERIFY(max_abs_diff(y, reference_matmul(x, 70, w.widened, 9, 40)) < 1e-4);
    }

    void gemm_packed_chunks_and_k_blocks_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        // rows: 1…4 vectors of rows per chunk, a partial vector, several 64-row chunks;
        // out: not a multiple of any micro-tile height (6, 8, 12, 16) nor of the per-thread
        // block; in: inside, exactly at and past the 384-column K-block, odd tails.
        QTest::newRow("one vector") << 16 << 50 << 100;
        QTest::newRow("two vectors, partial") << 29 << 37 << 385;
        QTest::newRow("three vectors") << 48 << 101 << 384;
        QTest::newRow("prompt 64") << 64 << 200 << 777;
        QTest::newRow("chunks 64+6") << 70 << 97 << 131;
        QTest::newRow("chunks 64+64+1") << 129 << 23 << 800;
        QTest::newRow("wide in") << 33 << 7 << 1537;
    }
    void gemm_packed_chunks_and_k_blocks() {
        QFETCH(int, rows);
        QFETCH(int, out);
        QFETCH(int, in);
        const auto x = randoms(static_cast<std::size_t>(rows * in), 21);
        for (DType dt : {DType::f32, DType::bf16, DType::f16}) {
            const StoredMatrix w = make_matrix(out, in, dt, 22);
            const auto ref = reference_matmul(x, rows, w.widened, out, in);
            std::vector<float> first;
            for (int threads : {1, 2, 3}) {
                ThreadPool pool(threads);
                std::vector<float> y(static_cast<std::size_t>(rows * out), -7.0f);
                cpu::gemm(x.data(), rows, w.matrix(), y.data(), pool);
                QVERIFY2(max_abs_diff(y, ref) < 1e-5 * std::sqrt(double(in)),
                         qPrintable(QString("%1 threads=%2 err=%3")
                                        .arg(dtype_name(dt))
                                        .arg(threads)
                                        .arg(max_abs_diff(y, ref))));
                // threads split the outputs, never the sums: the result is the same
                if (first.empty())
                    first = y;
                else
                    QCOMPARE(max_abs_diff(y, first), 0.0);
            }
        }
    }

    void widen_matches_scalar_conversions() {
        std::vector<std::uint16_t> bits(1000);
        std::mt19937 rng(7);
        for (auto& b : bits) b = static_cast<std::uint16_t>(rng() & 0x7BFF);  // finite halves
        std::vector<float> out(bits.size());
        cpu::widen_to_f32(DType::bf16, bits.data(), out.data(), bits.size());
        for (std::size_t i = 0; i < bits.size(); ++i) QCOMPARE(out[i], bf16_to_f32(bits[i]));
        cpu::widen_to_f32(DType::f16, bits.data(), out.data(), bits.size());
        for (std::size_t i = 0; i < bits.size(); ++i) QCOMPARE(out[i], f16_to_f32(bits[i]));
        QVERIFY_THROWS_EXCEPTION(Error, cpu::widen_to_f32(DType::i8, bits.data(), out.data(), 4));
        const cpu::Matrix bad{DType::i32, 1, 1, reinterpret_cast<const std::byte*>(bits.data())};
        QVERIFY_THROWS_EXCEPTION(Error, cpu::gemv_rows(bad, out.data(), out.data(), 0, 1));
    }

    void rmsnorm_matches_reference() {
        const std::int64_t rows = 3, n = 67;
        const auto x = randoms(rows * n, 8, 3.0f);
        const auto w = randoms(n, 9);
        std::vector<float> y(x.size());
        cpu::rmsnorm(x.data(), w.data(), y.data(), rows, n, 1e-5f);
        std::vector<double> ref(x.size());
        for (std::int64_t t = 0; t < rows; ++t) {
            double ss = 0;
            for (std::int64_t i = 0; i < n; ++i) ss += double(x[t * n + i]) * x[t * n + i];
            const double r = 1.0 / std::sqrt(ss / n + 1e-5);
            for (std::int64_t i = 0; i < n; ++i) ref[t * n + i] = x[t * n + i] * r * w[i];
        }
        QVERIFY(max_abs_diff(y, ref) < 1e-5);
    }

    void rope_matches_reference() {
        const std::int64_t rows = 4, heads = 3, d = 16, pos0 = 37;
        auto x = randoms(rows * heads * d, 10);
        const auto orig = x;
        const auto inv = cpu::rope_inv_freq(d, 10000.0, {});
        cpu::rope(x.data(), rows, heads, d, pos0, inv);
        std::vector<double> ref(x.size());
        for (std::int64_t t = 0; t < rows; ++t)
            for (std::int64_t h = 0; h < heads; ++h)
                for (std::int64_t i = 0; i < d / 2; ++i) {
                    const double theta = (pos0 + t) * std::pow(10000.0, -2.0 * i / d);
                    const std::int64_t b = (t * heads + h) * d;
                    const double a = orig[b + i], c = orig[b + i + d / 2];
                    ref[b + i] = a * std::cos(theta) - c * std::sin(theta);
                    ref[b + i + d / 2] = c * std::cos(theta) + a * std::sin(theta);
                }
        QVERIFY2(max_abs_diff(x, ref) < 2e-5, qPrintable(QString::number(max_abs_diff(x, ref))));
        // position 0 is the identity
        auto y = orig;
        cpu::rope(y.data(), 1, heads, d, 0, inv);
        for (std::int64_t i = 0; i < heads * d; ++i) QCOMPARE(y[i], orig[i]);
    }

    void softmax_is_stable() {
        std::vector<float> v{1000.0f, 1001.0f, 999.0f, -1e30f};
        cpu::softmax(v.data(), 4);
        double sum = 0;
        for (float p : v) {
            QVERIFY(std::isfinite(p));
            sum += p;
        }
        QVERIFY(std::fabs(sum - 1.0) < 1e-6);
        QVERIFY(std::fabs(v[1] - 1.0 / (1 + std::exp(-1.0) + std::exp(-2.0))) < 1e-6);
        QCOMPARE(v[3], 0.0f);
    }

    void attention_gqa_causal_window_data() {
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kv_heads");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("pos0");
        QTest::addColumn<int>("window");  // 0: none
        QTest::addColumn<int>("head_dim");
        QTest::newRow("mha prefill") << 4 << 4 << 9 << 0 << 0 << 8;
        QTest::newRow("gqa prefill") << 8 << 2 << 9 << 0 << 0 << 8;
        QTest::newRow("gqa decode") << 8 << 2 << 1 << 20 << 0 << 8;
        QTest::newRow("gqa chunk after cache") << 6 << 3 << 5 << 11 << 0 << 8;
        QTest::newRow("window prefill") << 4 << 2 << 12 << 0 << 4 << 8;
        QTest::newRow("window decode") << 4 << 1 << 1 << 30 << 7 << 8;
        QTest::newRow("window 1") << 2 << 1 << 6 << 2 << 1 << 8;
        // whole vectors of head_dim, and vectors plus a tail
        QTest::newRow("d64 gqa prefill") << 8 << 2 << 21 << 0 << 0 << 64;
        QTest::newRow("d72 mqa decode") << 4 << 1 << 1 << 40 << 0 << 72;
        QTest::newRow("d40 window chunk") << 6 << 2 << 13 << 7 << 5 << 40;
    }
    void attention_gqa_causal_window() {
        QFETCH(int, heads);
        QFETCH(int, kv_heads);
        QFETCH(int, rows);
        QFETCH(int, pos0);
        QFETCH(int, window);
        QFETCH(int, head_dim);
        const std::int64_t d = head_dim, total = pos0 + rows;
        cpu::AttentionShape s{heads, kv_heads, d, std::nullopt};
        if (window) s.window = window;
        const auto q = randoms(static_cast<std::size_t>(rows * heads * d), 11, 2.0f);
        const auto k = randoms(static_cast<std::size_t>(total * kv_heads * d), 12, 2.0f);
        const auto v = randoms(static_cast<std::size_t>(total * kv_heads * d), 13);
        const auto ref = reference_attention(q, rows, pos0, k, v, s);
        std::vector<float> out(q.size());
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::fill(out.begin(), out.end(), -7.0f);
            cpu::attention(q.data(), rows, pos0, k.data(), v.data(), kv_heads * d, s, out.data(),
                           pool);
            QVERIFY2(
                max_abs_diff(out, ref) < 1e-5,
                qPrintable(QString("threads=%1 err=%2").arg(threads).arg(max_abs_diff(out, ref))));
        }
        if (window == 1) {  // each query sees only itself: output = its own value row
            for (int t = 0; t < rows; ++t)
                for (int i = 0; i < heads * d; ++i) {
                    const int h = i / d, kvh = h / (heads / kv_heads);
                    QCOMPARE(out[t * heads * d + i],
                             v[(pos0 + t) * kv_heads * d + kvh * d + i % d]);
                }
        }
    }

    void swiglu_vectors_tails_and_extremes() {
        // 103 values: whole vectors plus a tail; large |g| where e^-g overflows float
        auto g = randoms(103, 23, 12.0f);
        const auto u = randoms(103, 24, 2.0f);
        g[0] = -100.0f, g[1] = -89.0f, g[2] = 89.0f, g[3] = 100.0f, g[4] = 0.0f, g[102] = -95.0f;
        std::vector<double> ref(g.size());
        for (std::size_t i = 0; i < g.size(); ++i)
            ref[i] = g[i] / (1 + std::exp(-double(g[i]))) * u[i];
        std::vector<float> o(g.size());
        cpu::swiglu(g.data(), u.data(), o.data(), g.size());
        for (std::size_t i = 0; i < g.size(); ++i)
            QVERIFY2(
                std::isfinite(o[i]) && std::fabs(o[i] - ref[i]) <= 1e-6 * (1 + std::fabs(ref[i])),
                qPrintable(QString("g=%1 got %2 want %3").arg(g[i]).arg(o[i]).arg(ref[i])));
        auto in_place = g;  // the forward pass writes over the gate
        cpu::swiglu(in_place.data(), u.data(), in_place.data(), g.size());
        QCOMPARE(max_abs_diff(in_place, o), 0.0);
    }

    void swiglu_and_embedding() {
        std::vector<float> g{-2.0f, 0.0f, 3.0f}, u{1.0f, 5.0f, 0.5f}, o(3);
        cpu::swiglu(g.data(), u.data(), o.data(), 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(std::fabs(o[i] - g[i] / (1 + std::exp(-double(g[i]))) * u[i]) < 1e-6);
        const StoredMatrix table = make_matrix(10, 6, DType::bf16, 14);
        std::vector<float> out(12);
        const std::int32_t ids[2] = {9, 0};
        cpu::embedding(table.matrix(), ids, out.data());
        for (int i = 0; i < 6; ++i) {
            QCOMPARE(out[i], table.widened[9 * 6 + i]);
            QCOMPARE(out[6 + i], table.widened[i]);
        }
        const std::int32_t bad[1] = {10};
        try {
            cpu::embedding(table.matrix(), bad, out.data());
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::invalid_argument);
            QVERIFY(std::string(e.what()).find("token id 10") != std::string::npos);
        }
    }

    // Each vector of a decode batch gets exactly what gemv gives it alone (the batched
    // kernels keep every (row, vector) accumulation in gemv's order), for every batch size the
    // kernels specialise, odd shapes and the three weight types.
    void gemv_batch_equals_gemv_bit_for_bit() {
        ThreadPool pool(2);
        const std::pair<int, int> shapes[] = {{7, 33}, {1023, 517}, {64, 1024}, {130, 3584}};
        for (DType dt : {DType::f32, DType::bf16, DType::f16}) {
            for (const auto& [rows, cols] : shapes) {
                const StoredMatrix w = make_matrix(rows, cols, dt, 11);
                for (int count : {1, 2, 3, 4, 5, 6, 7, 8, 9, 13}) {
                    std::vector<std::vector<float>> x, y, alone;
                    std::vector<const float*> xs;
                    std::vector<float*> ys;
                    for (int b = 0; b < count; ++b) {
                        x.push_back(randoms(static_cast<std::size_t>(cols), 100 + b));
                        y.emplace_back(static_cast<std::size_t>(rows), -1.0f);
                        alone.emplace_back(static_cast<std::size_t>(rows));
                        cpu::gemv(w.matrix(), x.back().data(), alone.back().data(), pool);
                    }
                    for (int b = 0; b < count; ++b) {
                        xs.push_back(x[b].data());
                        ys.push_back(y[b].data());
                    }
                    cpu::gemv_batch(w.matrix(), xs, ys, pool);
                    for (int b = 0; b < count; ++b) {
                        const QByteArray what =
                            QByteArray(dtype_name(dt)) + " " + QByteArray::number(rows) + "x" +
                            QByteArray::number(cols) + ", vector " + QByteArray::number(b) +
                            " of " + QByteArray::number(count);
                        QVERIFY2(std::memcmp(y[b].data(), alone[b].data(),
                                             sizeof(float) * static_cast<std::size_t>(rows)) == 0,
                                 what.constData());
                    }
                }
            }
        }
    }

    // The AMX path (Sapphire Rapids and later): f32 accuracy, every row computed the same
    // wherever the matrix lies in memory (weights in a safetensors file sit where the file puts
    // them), whichever rows share its call or its tile, and however many vectors are in the
    // batch; partial tiles and the staging of unaligned rows included.
    void gemv_bf16_amx_is_exact_and_address_independent() {
        if (!cpu::amx::available())
            QSKIP(
                "this CPU has no AMX-BF16 (or the kernel did not grant its tile state): the "
                "AMX path does not run here, the FMA kernels are tested above");
        ThreadPool pool(2);
        const std::pair<int, int> shapes[] = {{16, 32},   {32, 64},    {33, 64},
                                              {17, 4096}, {100, 2048}, {1000, 1024}};
        for (const auto& [rows, cols] : shapes) {
            const StoredMatrix w = make_matrix(rows, cols, DType::bf16, 21);
            const std::size_t bytes = w.tensor.data.size();
            // The same weights at several offsets from a 64-byte boundary (in elements).
            std::vector<std::byte> storage(bytes + 256);
            std::byte* base =
                storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64) % 64;
            std::vector<std::vector<float>> first;  // per vector, at offset 0
            for (int offset : {0, 1, 8, 24}) {
                std::memcpy(base + 2 * offset, w.tensor.data.data(), bytes);
                const cpu::Matrix m{DType::bf16, rows, cols, base + 2 * offset};
                QVERIFY(cpu::amx::usable(m));
                const int count = 13;  // two packed groups: 10 + 3
                std::vector<std::vector<float>> x, y, alone;
                std::vector<const float*> xs;
                std::vector<float*> ys;
                for (int b = 0; b < count; ++b) {
                    x.push_back(randoms(static_cast<std::size_t>(cols), 300 + b));
                    y.emplace_back(static_cast<std::size_t>(rows), -1.0f);
                    alone.emplace_back(static_cast<std::size_t>(rows));
                    cpu::gemv(m, x.back().data(), alone.back().data(), pool);
                }
                for (int b = 0; b < count; ++b) {
                    xs.push_back(x[b].data());
                    ys.push_back(y[b].data());
                }
                cpu::gemv_batch(m, xs, ys, pool);
                const QByteArray what = QByteArray::number(rows) + "x" + QByteArray::number(cols) +
                                        " at +" + QByteArray::number(offset);
                for (int b = 0; b < count; ++b) {
                    QVERIFY2(y[b] == alone[b], (what + ", batch vs alone").constData());
                    if (offset == 0)
                        first.push_back(alone[b]);
                    else
                        QVERIFY2(alone[b] == first[b], (what + " vs +0").constData());
                    // f32 accuracy: the error is within a few ulp of the sum of |products|.
                    const std::vector<float> one(x[b]);
                    const auto ref = reference_matmul(one, 1, w.widened, rows, cols);
                    for (int r = 0; r < rows; ++r) {
                        double mag = 0;
                        for (int k = 0; k < cols; ++k)
                            mag += std::fabs(double(w.widened[std::size_t(r) * cols + k]) * one[k]);
                        QVERIFY2(std::fabs(alone[b][r] - ref[r]) <= 1e-6 * mag + 1e-30,
                                 (what + ", row " + QByteArray::number(r)).constData());
                    }
                }
                // gemm (a prefill) takes the same kernel: each row as alone, bit for bit.
                std::vector<float> xrows, yrows(static_cast<std::size_t>(count * rows));
                for (int b = 0; b < count; ++b) xrows.insert(xrows.end(), x[b].begin(), x[b].end());
                cpu::gemm(xrows.data(), count, m, yrows.data(), pool);
                for (int b = 0; b < count; ++b)
                    QVERIFY2(std::equal(alone[b].begin(), alone[b].end(),
                                        yrows.begin() + std::ptrdiff_t(b) * rows),
                             (what + ", gemm vs alone").constData());
                // Rows in any ranges give the same values (single thread, odd splits).
                std::vector<float> pieces(static_cast<std::size_t>(rows));
                for (int r0 = 0; r0 < rows; r0 += 7)
                    cpu::gemv_rows(m, x[0].data(), pieces.data(), r0, std::min(rows, r0 + 7));
                QVERIFY2(pieces == alone[0], (what + ", rows in pieces of 7").constData());
            }
        }
        // Turned off, the FMA kernels answer (within f32 accuracy of the same values).
        const StoredMatrix w = make_matrix(64, 256, DType::bf16, 5);
        const auto x = randoms(256, 6);
        std::vector<float> on(64), off(64);
        cpu::gemv(w.matrix(), x.data(), on.data(), pool);
        cpu::amx::set_enabled(false);
        QVERIFY(!cpu::amx::usable(w.matrix()));
        cpu::gemv(w.matrix(), x.data(), off.data(), pool);
        cpu::amx::set_enabled(true);
        QVERIFY(max_abs_diff(on, off) < 1e-5);
    }

    // Many short loops back to back on more threads than this machine may have cores: a
    // worker that wakes late must neither miss a loop's chunks nor run a closed loop's.
    void thread_pool_many_short_loops() {
        for (int threads : {2, 4}) {
            ThreadPool pool(threads);
            std::vector<int> out(64);
            for (int loop = 0; loop < 20000; ++loop) {
                const std::size_t n = 1 + static_cast<std::size_t>(loop % 64);
                pool.parallel_for(n, [&](std::size_t b, std::size_t e) {
                    for (std::size_t i = b; i < e; ++i) out[i] = loop;
                });
                for (std::size_t i = 0; i < n; ++i)
                    if (out[i] != loop)
                        QFAIL(qPrintable(QString("loop %1: index %2 not run").arg(loop).arg(i)));
            }
        }
    }

    void thread_pool_covers_each_index_once() {
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            QCOMPARE(pool.size(), threads);
            for (std::size_t n : {1u, 5u, 64u, 1001u}) {
                std::vector<std::atomic<int>> hits(n);
                std::atomic<bool> nested_ok{true};
                pool.parallel_for(
                    n,
                    [&](std::size_t b, std::size_t e) {
                        for (std::size_t i = b; i < e; ++i) hits[i].fetch_add(1);
                        // nested loops run inline without deadlock
                        int inner = 0;
                        pool.parallel_for(
                            3, [&](std::size_t b2, std::size_t e2) { inner += int(e2 - b2); });
                        if (inner != 3) nested_ok = false;
                    },
                    4);
                for (auto& h : hits) QCOMPARE(h.load(), 1);
                QVERIFY(nested_ok);
            }
            QVERIFY_THROWS_EXCEPTION(std::runtime_error,
                                     pool.parallel_for(100, [](std::size_t b, std::size_t) {
                                         if (b == 0) throw std::runtime_error("boom");
                                     }));
            int after = 0;  // still usable after an exception
            pool.parallel_for(1, [&](std::size_t, std::size_t) { after = 1; });
            QCOMPARE(after, 1);
        }
    }
};

QTEST_GUILESS_MAIN(TestCpuOps)
#include "test_cpu_ops.moc"
