// The CPU separate-computation product cpu::add_delta_product (integer SIMD on the packed
// codes) against the float reference delta::add_delta_product and against x·Δ̂ᵀ from the
// reconstructed Δ̂: every bit width, zero format, salient layout, tail and thread count.
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

#include "backend/cpu/delta_product.h"
#include "core/thread_pool.h"
#include "delta/quant/packing.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

using namespace meswitch;
using namespace meswitch::delta;

namespace {

struct Shape {
    std::int64_t rows, cols, salient;
    int bits;
    ZeroFormat zero;
    bool one_scale;
    DType salient_dtype;
};

CompressedLinear random_linear(const Shape& s, std::mt19937_64& rng) {
    CompressedLinear c;
    c.rows = s.rows;
    c.cols = s.cols;
    c.bits = s.bits;
    c.zero_format = s.zero;
    c.salient_dtype = s.salient_dtype;
    c.method = s.one_scale ? Method::bitdelta : Method::meswitch;
    // Salient columns: random distinct, including the first and last column when k > 1.
    std::vector<std::int32_t> all(static_cast<std::size_t>(s.cols));
    for (std::int64_t i = 0; i < s.cols; ++i)
        all[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
    if (s.cols > 2) std::shuffle(all.begin() + 1, all.end() - 1, rng);
    if (s.salient >= 2) {
        c.salient_idx = {0, static_cast<std::int32_t>(s.cols - 1)};
        c.salient_idx.insert(c.salient_idx.end(), all.begin() + 1, all.begin() + s.salient - 1);
    } else if (s.salient == 1) {
        c.salient_idx = {all[static_cast<std::size_t>(s.cols / 2)]};
    }
    std::sort(c.salient_idx.begin(), c.salient_idx.end());
    const std::int64_t n = s.cols - s.salient;
    c.row_bytes = packed_bytes(n, s.bits);
    c.codes.resize(static_cast<std::size_t>(s.rows * c.row_bytes));
    std::vector<std::uint8_t> q(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < s.rows; ++r) {
        for (auto& v : q) v = static_cast<std::uint8_t>(rng() % (1u << s.bits));
        pack_codes(q.data(), n, s.bits, c.codes.data() + r * c.row_bytes);
    }
    std::uniform_real_distribution<float> u(0.5f, 1.5f), sym(-1.0f, 1.0f);
    c.scales.resize(s.one_scale ? 1 : static_cast<std::size_t>(s.rows));
    for (auto& v : c.scales) v = f32_to_f16(0.01f * u(rng));
    if (s.zero == ZeroFormat::u8)
        for (std::int64_t r = 0; r < s.rows; ++r)
            c.zeros.push_back(static_cast<std::uint16_t>(rng() % 256));
    else if (s.zero == ZeroFormat::f16)
        for (std::int64_t r = 0; r < s.rows; ++r)
            c.zeros.push_back(f32_to_f16(static_cast<float>((1 << s.bits) - 1) * u(rng) / 2));
    c.salient_values.resize(static_cast<std::size_t>(s.rows * s.salient));
    for (auto& v : c.salient_values)
        v = s.salient_dtype == DType::bf16 ? f32_to_bf16(0.05f * sym(rng))
                                           : f32_to_f16(0.05f * sym(rng));
    c.validate("test layer");
    return c;
}

// Largest |got − want| divided by what the activation rounding may cost for that output:
// σ/2 per activation, σ = the row's max |x| / 32639, times Σ_i |Δ̂_ri| (plus float slack).
double worst_ratio(const CompressedLinear& c, const std::vector<float>& x, std::int64_t n,
                   const std::vector<float>& got, const std::vector<float>& want) {
    std::vector<float> rec(static_cast<std::size_t>(c.rows * c.cols));
    reconstruct(c, rec.data());
    double worst = 0;
    for (std::int64_t t = 0; t < n; ++t) {
        float xmax = 0;
        for (std::int64_t i = 0; i < c.cols; ++i)
            xmax = std::max(xmax, std::fabs(x[t * c.cols + i]));
        for (std::int64_t r = 0; r < c.rows; ++r) {
            double l1 = 0, dense = 0, mag = 0, xsum = 0;
            for (std::int64_t i = 0; i < c.cols; ++i) {
                const double d = rec[r * c.cols + i], xi = x[t * c.cols + i];
                l1 += std::fabs(d);
                dense += d * xi;
                mag += std::fabs(d * xi);
                xsum += std::fabs(xi);
            }
            // s·(Σ q·x − z·Σ x) cancels when q ≈ z: float rounding of the two terms.
            const double terms = c.scale_at(r) * ((1 << c.bits) + std::fabs(c.zero_at(r))) * xsum;
            const double allowed = l1 * xmax / 32639.0 * 0.51 + 1e-5 * mag + 1e-6 * terms + 1e-7;
            const double g = got[t * c.rows + r];
            const double e1 = std::fabs(g - want[t * c.rows + r]);
            const double e2 = std::fabs(g - dense);
            worst = std::max({worst, e1 / allowed, e2 / allowed});
        }
    }
    return worst;
}

}  // namespace

class TestDeltaProduct : public QObject {
    Q_OBJECT

private slots:
    void matchesReference_data() {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("zero");
        QTest::addColumn<bool>("oneScale");
        for (int bits = 1; bits <= 4; ++bits)
            for (int zero = 0; zero < 3; ++zero)
                QTest::addRow("%d-bit zero %s", bits,
                              zero_format_name(static_cast<ZeroFormat>(zero)))
                    << bits << zero << false;
        QTest::addRow("bitdelta one scale") << 1 << 0 << true;
    }

    // Many shapes: tails of every length against the 16/32/64-byte blocks, k = 0, 1, many,
    // rows not a multiple of the pool's grain, 1..9 activation rows, 1 and 3 threads.
    void matchesReference() {
        QFETCH(int, bits);
        QFETCH(int, zero);
        QFETCH(bool, oneScale);
        std::mt19937_64 rng(1234 + bits * 10 + zero);
        ThreadPool one(1), three(3);
        const std::int64_t cols_list[] = {1, 7, 63, 64, 65, 255, 256, 257, 300, 1000, 2048};
        for (std::int64_t cols : cols_list) {
            for (std::int64_t salient : {std::int64_t{0}, std::int64_t{1}, cols / 50 + 2}) {
                if (salient > cols) continue;
                const Shape s{13 + cols % 11,
                              cols,
                              salient,
                              bits,
                              static_cast<ZeroFormat>(zero),
                              oneScale,
                              (cols % 2) ? DType::bf16 : DType::f16};
                const CompressedLinear c = random_linear(s, rng);
                const cpu::PackedDelta p = cpu::prepare_delta(c);
                for (std::int64_t n : {1, 2, 5, 9}) {
                    std::vector<float> x(static_cast<std::size_t>(n * cols));
                    std::normal_distribution<float> g(0.0f, 1.0f);
                    for (auto& v : x) v = g(rng);
                    if (cols > 3) x[3] = 40.0f;  // an outlier channel, as in real activations
                    std::vector<float> base(static_cast<std::size_t>(n * s.rows));
                    for (auto& v : base) v = g(rng);
                    std::vector<float> want = base, got1 = base, got3 = base;
                    add_delta_product(c, x.data(), n, want.data());
                    cpu::add_delta_product(p, x.data(), n, got1.data(), one);
                    cpu::add_delta_product(p, x.data(), n, got3.data(), three);
                    for (std::size_t i = 0; i < base.size(); ++i) {
                        got1[i] -= base[i];
                        got3[i] -= base[i];
                        want[i] -= base[i];
                    }
                    const double r1 = worst_ratio(c, x, n, got1, want);
                    const double r3 = worst_ratio(c, x, n, got3, want);
                    QVERIFY2(r1 <= 1.0, qPrintable(QString("cols %1 k %2 n %3: error %4 × allowed")
                                                       .arg(cols)
                                                       .arg(salient)
                                                       .arg(n)
                                                       .arg(r1)));
                    // Threads split weight rows only: the same arithmetic, the same bits.
                    QCOMPARE(got3, got1);
                    QVERIFY(r3 <= 1.0);
                }
            }
        }
    }

    // A zero activation row adds nothing; a NaN or Inf activation shows up in the output.
    void specialActivations() {
        std::mt19937_64 rng(7);
        const CompressedLinear c =
            random_linear({9, 300, 3, 2, ZeroFormat::u8, false, DType::f16}, rng);
        const cpu::PackedDelta p = cpu::prepare_delta(c);
        ThreadPool pool(2);
        std::vector<float> x(3 * 300, 0.0f), y(3 * 9, 1.0f);
        x[300 + 17] = std::numeric_limits<float>::quiet_NaN();
        x[600 + 250] = std::numeric_limits<float>::infinity();
        cpu::add_delta_product(p, x.data(), 3, y.data(), pool);
        for (int r = 0; r < 9; ++r) QCOMPARE(y[r], 1.0f);
        for (int r = 0; r < 9; ++r) QVERIFY(!std::isfinite(y[9 + r]));
        for (int r = 0; r < 9; ++r) QVERIFY(!std::isfinite(y[18 + r]));
    }

    // An inconsistent linear is refused with Error(format) before any product.
    void refusesInvalid() {
        std::mt19937_64 rng(9);
        CompressedLinear c = random_linear({4, 64, 2, 2, ZeroFormat::u8, false, DType::f16}, rng);
        c.codes.pop_back();
        bool threw = false;
        try {
            (void)cpu::prepare_delta(c);
        } catch (const Error& e) {
            threw = e.kind() == ErrorKind::format;
        }
        QVERIFY(threw);
    }
};

QTEST_GUILESS_MAIN(TestDeltaProduct)
#include "test_delta_product.moc"
