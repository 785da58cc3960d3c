// Element types and float conversions: exact bits for every 16-bit pattern, rounding ties,
// NaN, infinities, subnormals, and the bulk widening on every SIMD target of this CPU.

#include <QtTest>

#include <hwy/highway.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "meswitch/error.h"
#include "meswitch/tensor.h"

using namespace meswitch;

namespace {

std::uint32_t bits_of(float f) {
    std::uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

float float_of(std::uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}

// Independent reference for a half's value, straight from the IEEE definition.
double f16_reference(std::uint16_t h) {
    const int sign = h >> 15, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    double v;
    if (exp == 0)
        v = std::ldexp(double(mant), -24);
    else if (exp == 31)
        v = mant ? std::numeric_limits<double>::quiet_NaN()
                 : std::numeric_limits<double>::infinity();
    else
        v = std::ldexp(double(1024 + mant), exp - 25);
    return sign ? -v : v;
}

// Reference f32 → f16 by exhaustive search: the nearest half, ties to even mantissa.
std::uint16_t f16_nearest_reference(float x) {
    const double ax = std::fabs(double(x));
    const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    if (ax >= 65520.0) return sign | 0x7C00;
    // Positive finite halves 0x0000..0x7BFF increase with their bit pattern.
    int lo = 0, hi = 0x7BFF;
    while (lo < hi) {  // largest h with value(h) <= ax
        const int mid = (lo + hi + 1) / 2;
        if (f16_reference(std::uint16_t(mid)) <= ax)
            lo = mid;
        else
            hi = mid - 1;
    }
    int best = lo;
    if (lo < 0x7BFF || ax > 65504.0) {
        const double below = ax - f16_reference(std::uint16_t(lo));
        const double above = f16_reference(std::uint16_t(lo + 1)) - ax;
        if (above < below || (above == below && (lo & 1))) best = lo + 1;
    }
    return std::uint16_t(sign | best);
}

bool same_float(float a, float b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return bits_of(a) == bits_of(b);
}

}  // namespace

class TestTensor : public QObject {
    Q_OBJECT

private slots:
    void dtypeNamesRoundTrip() {
        const DType all[] = {DType::f32, DType::f16, DType::bf16, DType::i8,
                             DType::u8,  DType::i32, DType::i64,  DType::f64};
        const std::size_t sizes[] = {4, 2, 2, 1, 1, 4, 8, 8};
        const char* names[] = {"F32", "F16", "BF16", "I8", "U8", "I32", "I64", "F64"};
        for (int i = 0; i < 8; ++i) {
            QCOMPARE(dtype_size(all[i]), sizes[i]);
            QCOMPARE(QString(dtype_name(all[i])), QString(names[i]));
            QVERIFY(parse_dtype(names[i]) == all[i]);
        }
        QVERIFY(!parse_dtype("F8_E4M3"));
        QVERIFY(!parse_dtype("f32"));
        QVERIFY(!parse_dtype(""));
        QCOMPARE(int(DType::f64), 7);  // stored on disk: values never change
    }

    void bf16KnownValues() {
        QCOMPARE(f32_to_bf16(1.0f), std::uint16_t(0x3F80));
        QCOMPARE(f32_to_bf16(-2.0f), std::uint16_t(0xC000));
        QCOMPARE(f32_to_bf16(0.0f), std::uint16_t(0x0000));
        QCOMPARE(f32_to_bf16(-0.0f), std::uint16_t(0x8000));
        QCOMPARE(bf16_to_f32(0x3F80), 1.0f);
        QCOMPARE(bf16_to_f32(0x4049), float_of(0x40490000));
        // Ties go to the even mantissa; just above a tie rounds up.
        QCOMPARE(f32_to_bf16(float_of(0x3F808000)), std::uint16_t(0x3F80));
        QCOMPARE(f32_to_bf16(float_of(0x3F818000)), std::uint16_t(0x3F82));
        QCOMPARE(f32_to_bf16(float_of(0x3F808001)), std::uint16_t(0x3F81));
        QCOMPARE(f32_to_bf16(float_of(0x3F807FFF)), std::uint16_t(0x3F80));
        // Infinities stay; the largest float rounds up to infinity.
        QCOMPARE(f32_to_bf16(std::numeric_limits<float>::infinity()), std::uint16_t(0x7F80));
        QCOMPARE(f32_to_bf16(-std::numeric_limits<float>::infinity()), std::uint16_t(0xFF80));
        QCOMPARE(f32_to_bf16(std::numeric_limits<float>::max()), std::uint16_t(0x7F80));
        // Subnormal floats round like any other value.
        QCOMPARE(f32_to_bf16(float_of(0x00000001)), std::uint16_t(0x0000));
        QCOMPARE(f32_to_bf16(float_of(0x00008000)), std::uint16_t(0x0000));
        QCOMPARE(f32_to_bf16(float_of(0x00018000)), std::uint16_t(0x0002));
        QCOMPARE(f32_to_bf16(float_of(0x00010000)), std::uint16_t(0x0001));
        QCOMPARE(bf16_to_f32(0x0001), float_of(0x00010000));
    }

    void bf16NaNStaysNaN() {
        // Payload only in the low 16 bits: naive truncation would give infinity.
        for (std::uint32_t nan :
             {0x7F800001u, 0xFF800001u, 0x7FC00000u, 0x7F80FFFFu, 0xFFFFFFFFu}) {
            const std::uint16_t b = f32_to_bf16(float_of(nan));
            QVERIFY2(std::isnan(bf16_to_f32(b)), qPrintable(QString::number(nan, 16)));
            QCOMPARE(b & 0x8000, int((nan >> 16) & 0x8000));
        }
    }

    void bf16AllPatternsRoundTrip() {
        for (std::uint32_t b = 0; b < 0x10000; ++b) {
            const float f = bf16_to_f32(std::uint16_t(b));
            QCOMPARE(bits_of(f), b << 16);
            if (std::isnan(f))
                QVERIFY(std::isnan(bf16_to_f32(f32_to_bf16(f))));
            else
                QCOMPARE(f32_to_bf16(f), std::uint16_t(b));
        }
    }

    void f16AllPatternsMatchReference() {
        for (std::uint32_t h = 0; h < 0x10000; ++h) {
            const float f = f16_to_f32(std::uint16_t(h));
            const double ref = f16_reference(std::uint16_t(h));
            if (std::isnan(ref)) {
                QVERIFY(std::isnan(f));
                QVERIFY(std::isnan(f16_to_f32(f32_to_f16(f))));
                QCOMPARE(std::signbit(f), bool(h & 0x8000));
            } else {
                QVERIFY2(double(f) == ref && std::signbit(f) == std::signbit(ref),
                         qPrintable(QString("half 0x%1").arg(h, 4, 16, QChar('0'))));
                QCOMPARE(f32_to_f16(f), std::uint16_t(h));
            }
        }
    }

    void f16KnownValues() {
        QCOMPARE(f32_to_f16(1.0f), std::uint16_t(0x3C00));
        QCOMPARE(f32_to_f16(-2.5f), std::uint16_t(0xC100));
        QCOMPARE(f32_to_f16(65504.0f), std::uint16_t(0x7BFF));
        QCOMPARE(f32_to_f16(65519.996f), std::uint16_t(0x7BFF));
        QCOMPARE(f32_to_f16(65520.0f), std::uint16_t(0x7C00));  // tie rounds to even: inf
        QCOMPARE(f32_to_f16(1e10f), std::uint16_t(0x7C00));
        QCOMPARE(f32_to_f16(-std::numeric_limits<float>::infinity()), std::uint16_t(0xFC00));
        QCOMPARE(f32_to_f16(std::ldexp(1.0f, -24)), std::uint16_t(0x0001));  // smallest subnormal
        QCOMPARE(f32_to_f16(std::ldexp(1.0f, -25)), std::uint16_t(0x0000));  // tie to even: 0
        QCOMPARE(f32_to_f16(std::ldexp(1.0f, -25) * 1.0000001f), std::uint16_t(0x0001));
        QCOMPARE(f32_to_f16(std::ldexp(3.0f, -25)), std::uint16_t(0x0002));     // tie 1|2 → 2
        QCOMPARE(f32_to_f16(std::ldexp(1023.5f, -24)), std::uint16_t(0x0400));  // carry to normal
        QCOMPARE(f32_to_f16(float_of(0x00000001)), std::uint16_t(0x0000));      // float subnormal
        QCOMPARE(f32_to_f16(-0.0f), std::uint16_t(0x8000));
        QCOMPARE(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), std::uint16_t(0x3C00));  // tie → even
        QCOMPARE(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), std::uint16_t(0x3C02));
        for (std::uint32_t nan : {0x7F800001u, 0x7FC00000u, 0xFFC00001u, 0x7FFFFFFFu}) {
            const std::uint16_t h = f32_to_f16(float_of(nan));
            QVERIFY((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0);
            QCOMPARE(h & 0x8000, int((nan >> 16) & 0x8000));
        }
    }

    // Every midpoint between adjacent halves (exact in float), and its float neighbours,
    // against the exhaustive-search reference; plus a sweep over the float range.
    void f16RoundingMatchesReference() {
        for (std::uint32_t h = 0; h < 0x7C00; ++h) {
            const double lo = f16_reference(std::uint16_t(h));
            const double hi = h == 0x7BFF ? 65536.0 : f16_reference(std::uint16_t(h + 1));
            const float mid = float((lo + hi) / 2);
            QCOMPARE(double(mid), (lo + hi) / 2);
            for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f), -mid}) {
                if (f32_to_f16(x) != f16_nearest_reference(x))
                    QFAIL(qPrintable(QString("f32_to_f16(%1) = 0x%2, expected 0x%3")
                                         .arg(double(x), 0, 'g', 10)
                                         .arg(f32_to_f16(x), 4, 16, QChar('0'))
                                         .arg(f16_nearest_reference(x), 4, 16, QChar('0'))));
            }
        }
        for (std::uint32_t b = 0; b < 0x7F800000u; b += 4099) {
            const float x = float_of(b);
            if (f32_to_f16(x) != f16_nearest_reference(x))
                QFAIL(qPrintable(QString("f32_to_f16 wrong for float bits 0x%1").arg(b, 8, 16)));
        }
    }

    // convert_to_f32 on every SIMD target this CPU supports, against the scalar functions,
    // for all 65536 patterns, from unaligned sources and with every tail length.
    void bulkConversionOnEveryTarget() {
        std::vector<std::uint16_t> patterns(0x10000);
        for (std::uint32_t i = 0; i < 0x10000; ++i) patterns[i] = std::uint16_t(i);
        std::vector<std::byte> unaligned(2 * patterns.size() + 1);
        std::memcpy(unaligned.data() + 1, patterns.data(), 2 * patterns.size());

        std::vector<std::int64_t> targets;
        for (std::int64_t bits = hwy::SupportedTargets() & HWY_TARGETS; bits != 0; bits &= bits - 1)
            targets.push_back(bits & -bits);
        QVERIFY(!targets.empty());
        QStringList names;
        for (std::int64_t target : targets) names << hwy::TargetName(target);
        qInfo("SIMD targets checked: %s", qPrintable(names.join(", ")));
        for (std::int64_t target : targets) {
            hwy::SetSupportedTargetsForTest(target);
            hwy::GetChosenTarget().Update(hwy::SupportedTargets());
            const QString name = hwy::TargetName(target);
            for (DType dtype : {DType::f16, DType::bf16}) {
                auto scalar = [dtype](std::uint16_t b) {
                    return dtype == DType::f16 ? f16_to_f32(b) : bf16_to_f32(b);
                };
                std::vector<float> out(patterns.size());
                for (const std::byte* src : {reinterpret_cast<const std::byte*>(patterns.data()),
                                             static_cast<const std::byte*>(unaligned.data() + 1)}) {
                    std::fill(out.begin(), out.end(), 0.0f);
                    convert_to_f32(dtype, src, out.data(), out.size());
                    for (std::size_t i = 0; i < patterns.size(); ++i)
                        if (!same_float(out[i], scalar(patterns[i])))
                            QFAIL(qPrintable(QString("%1 %2: pattern 0x%3 widened wrongly")
                                                 .arg(name, dtype_name(dtype))
                                                 .arg(i, 4, 16, QChar('0'))));
                }
                // Every short length, so each vector width's tail handling runs.
                for (std::size_t count = 1; count <= 67; ++count) {
                    std::vector<float> small(count + 1, -7.0f);
                    const std::size_t start = 0x7BF0 - count / 2;  // around the inf boundary
                    convert_to_f32(dtype, unaligned.data() + 1 + 2 * start, small.data(), count);
                    for (std::size_t i = 0; i < count; ++i)
                        QVERIFY(same_float(small[i], scalar(patterns[start + i])));
                    QCOMPARE(small[count], -7.0f);  // nothing written past the end
                }
            }
        }
        hwy::SetSupportedTargetsForTest(0);
        hwy::GetChosenTarget().Update(hwy::SupportedTargets());
    }

    void convertF32CopiesAndOthersRefuse() {
        const float src[5] = {1.5f, -0.0f, std::numeric_limits<float>::infinity(), 3e-45f, 7.0f};
        float dst[5] = {};
        convert_to_f32(DType::f32, src, dst, 5);
        for (int i = 0; i < 5; ++i) QCOMPARE(bits_of(dst[i]), bits_of(src[i]));
        convert_to_f32(DType::i8, src, dst, 0);  // nothing to do is fine
        for (DType d : {DType::i8, DType::u8, DType::i32, DType::i64, DType::f64}) {
            try {
                convert_to_f32(d, src, dst, 1);
                QFAIL("expected Error(unsupported)");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::unsupported);
                QVERIFY(QString(e.what()).contains(dtype_name(d)));
            }
        }
    }

    void tensorViewShape() {
        TensorView v;
        QCOMPARE(v.numel(), std::int64_t(1));  // a scalar
        QCOMPARE(QString::fromStdString(v.shape_string()), QString("[]"));
        v.shape = {64, 172};
        QCOMPARE(v.numel(), std::int64_t(64 * 172));
        QCOMPARE(QString::fromStdString(v.shape_string()), QString("[64, 172]"));
        v.shape = {3, 0, 5};
        QCOMPARE(v.numel(), std::int64_t(0));
        v.shape = {std::int64_t(1) << 40, std::int64_t(1) << 40};
        QVERIFY_THROWS_EXCEPTION(Error, v.numel());
        v.shape = {-1};
        QVERIFY_THROWS_EXCEPTION(Error, v.numel());
    }
};

QTEST_APPLESS_MAIN(TestTensor)
#include "test_tensor.moc"
