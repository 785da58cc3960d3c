// Delta-compression core: packing, calibration statistics, ME-Switch vs baselines on
// synthetic layers, reconstruction vs the separate-computation product, the .msd artifact
// (round trip, hostile and truncated files), cancellation and the compression benchmark.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "core/thread_pool.h"
#include "delta/msd/msd_file.h"
#include "delta/quant/bench_compress.h"
#include "delta/quant/packing.h"
#include "delta/quant/quantize.h"
#include "delta/quant/synthetic_layer.h"
#include "io/safetensors.h"
#include "meswitch/error.h"
#include "serve/delta_rows.h"
#include "serve/inplace_delta.h"
#include "test_support.h"

using namespace meswitch;
using namespace meswitch::delta;
namespace fs = std::filesystem;

namespace {

struct Layer {
    SyntheticLayer l;
    CalibrationStats calib, eval;
};

Layer make_layer(std::int64_t rows, std::int64_t cols, std::int64_t outliers, std::uint64_t seed,
                 std::int64_t samples = 512) {
    SyntheticLayerOptions o;
    o.rows = rows;
    o.cols = cols;
    o.outliers = outliers;
    o.samples = 2 * samples;
    o.seed = seed;
    Layer L{make_synthetic_layer(o), CalibrationStats(cols), CalibrationStats(cols)};
    L.calib.add(L.l.x.data(), samples);
    L.eval.add(L.l.x.data() + samples * cols, samples);
    return L;
}

CompressedLinear compress(const Layer& L, Method m, int bits, const std::string& salient = "0.5%") {
    QuantOptions q;
    q.method = m;
    q.bits = bits;
    q.salient = SalientSpec::parse(salient);
    return compress_linear(L.l.delta.data(), L.l.rows, L.l.cols, L.calib, q);
}

double out_err(const Layer& L, const CompressedLinear& c) {
    return measure_error(L.l.delta.data(), c, L.eval).rel_output_error;
}

// The in-place delta's scalar definition (the code before the SIMD kernels, bit for bit):
// load as float, add or subtract in f32, round to the dtype with core's conversions.
float ref_load(DType t, std::uint32_t b) {
    if (t == DType::bf16) return bf16_to_f32(static_cast<std::uint16_t>(b));
    if (t == DType::f16) return f16_to_f32(static_cast<std::uint16_t>(b));
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}
std::uint32_t ref_store(DType t, float f) {
    if (t == DType::bf16) return f32_to_bf16(f);
    if (t == DType::f16) return f32_to_f16(f);
    std::uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}
float f32_of(std::uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}
std::uint32_t bits_of(float f) {
    std::uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

// A weight row as raw bits (16 or 32 per element) and a Δ̂ row that together cover the
// awkward cases: every exponent range, ±0, subnormals, ±inf, quiet and signalling NaNs,
// sums that overflow, land on subnormals or sit exactly halfway between two neighbours.
void special_row(DType t, std::mt19937& rng, std::size_t cols, std::vector<std::uint32_t>& w,
                 std::vector<float>& d) {
    const bool wide = t == DType::f32;
    std::normal_distribution<float> normal(0.0f, 0.05f);
    w.resize(cols);
    d.resize(cols);
    for (std::size_t c = 0; c < cols; ++c) {
        const unsigned pick = rng() % 8;
        std::uint32_t b = 0;
        if (pick < 3)
            b = ref_store(t, normal(rng));
        else if (pick < 6)
            b = wide ? static_cast<std::uint32_t>(rng()) : rng() & 0xFFFFu;
        else {
            const std::uint32_t specials16[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x7F80, 0xFF80,
                                                0x7FC0, 0x7F81, 0xFFC1, 0x7F7F, 0x7C00, 0xFC00,
                                                0x7E00, 0x7C01, 0x7BFF, 0x03FF, 0x0400, 0x3C00};
            const std::uint32_t specials32[] = {0x00000000, 0x80000000, 0x00000001, 0x807FFFFF,
                                                0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001,
                                                0xFFC00123, 0x7F7FFFFF, 0x00800000, 0x3F800000};
            b = wide ? specials32[rng() % std::size(specials32)]
                     : specials16[rng() % std::size(specials16)];
        }
        w[c] = b;
        const float wf = ref_load(t, b);
        const bool w_nan = std::isnan(wf);
        const unsigned dp = rng() % 10;
        float v = 0;
        if (dp < 4) {
            v = wf * normal(rng);  // |Δ| about 5 % of |W|
        } else if (dp < 6) {
            // Exactly half a step of the dtype at w: a tie for round to nearest even.
            const std::uint32_t step = t == DType::bf16 ? 0x10000u : t == DType::f16 ? 0x2000u : 1u;
            const float next = f32_of(bits_of(std::isfinite(wf) ? wf : 1.0f) + step);
            v = (next - (std::isfinite(wf) ? wf : 1.0f)) * 0.5f * (rng() % 2 ? 1.0f : -1.0f);
        } else if (dp < 8) {
            v = std::ldexp(normal(rng), static_cast<int>(rng() % 300) - 150);
        } else {
            const float specials[] = {0.0f,
                                      -0.0f,
                                      std::numeric_limits<float>::infinity(),
                                      -std::numeric_limits<float>::infinity(),
                                      std::numeric_limits<float>::max(),
                                      -65504.0f,
                                      65520.0f,
                                      std::numeric_limits<float>::denorm_min(),
                                      -1e-40f,
                                      3.4e38f,
                                      std::numeric_limits<float>::quiet_NaN()};
            v = specials[rng() % std::size(specials)];
            // Two NaN operands: which payload an add keeps is the compiler's choice.
            if (std::isnan(v) && w_nan) v = 1.0f;
        }
        d[c] = v;
    }
}

std::vector<std::byte> to_bytes(DType t, const std::vector<std::uint32_t>& w) {
    const std::size_t es = dtype_size(t);
    std::vector<std::byte> out(w.size() * es);
    for (std::size_t i = 0; i < w.size(); ++i) {
        if (es == 4)
            std::memcpy(out.data() + i * 4, &w[i], 4);
        else {
            const auto h = static_cast<std::uint16_t>(w[i]);
            std::memcpy(out.data() + i * 2, &h, 2);
        }
    }
    return out;
}
std::uint32_t element(DType t, const std::byte* p, std::size_t i) {
    if (t == DType::f32) {
        std::uint32_t b;
        std::memcpy(&b, p + i * 4, 4);
        return b;
    }
    std::uint16_t h;
    std::memcpy(&h, p + i * 2, 2);
    return h;
}

// A random valid compressed linear with salient columns at the edges and side by side.
CompressedLinear random_compressed(std::int64_t rows, std::int64_t cols, int bits, ZeroFormat zf,
                                   DType salient_dtype, std::uint64_t seed) {
    std::mt19937 rng(static_cast<std::uint32_t>(seed));
    CompressedLinear c;
    c.rows = rows;
    c.cols = cols;
    c.bits = bits;
    c.zero_format = zf;
    c.salient_dtype = salient_dtype;
    for (std::int64_t i = 0; i < cols; ++i)
        if (i == 0 || i == cols - 1 || i == cols / 2 || i == cols / 2 + 1 || rng() % 29 == 0)
            c.salient_idx.push_back(static_cast<std::int32_t>(i));
    const std::int64_t k = c.salient_count();
    c.row_bytes = packed_bytes(cols - k, bits);
    std::vector<std::uint8_t> q(static_cast<std::size_t>(cols - k));
    c.codes.resize(static_cast<std::size_t>(rows * c.row_bytes));
    for (std::int64_t r = 0; r < rows; ++r) {
        for (auto& v : q) v = static_cast<std::uint8_t>(rng() & ((1u << bits) - 1));
        pack_codes(q.data(), cols - k, bits, c.codes.data() + r * c.row_bytes);
    }
    std::uniform_real_distribution<float> u(0.001f, 0.1f);
    for (std::int64_t r = 0; r < rows; ++r) {
        c.scales.push_back(f32_to_f16(u(rng)));
        if (zf == ZeroFormat::u8) c.zeros.push_back(static_cast<std::uint16_t>(rng() % 256));
        if (zf == ZeroFormat::f16) c.zeros.push_back(f32_to_f16(u(rng) * 20.0f));
    }
    for (std::int64_t i = 0; i < rows * k; ++i) {
        const float v = u(rng) * (rng() % 2 ? 1.0f : -1.0f);
        c.salient_values.push_back(salient_dtype == DType::bf16 ? f32_to_bf16(v) : f32_to_f16(v));
    }
    c.validate("test layer");
    return c;
}

// Owned copy of a safetensors file's tensors, to rewrite it with a mutation.
struct OwnedTensor {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::byte> bytes;
};

struct Owned {
    std::vector<OwnedTensor> tensors;
    std::map<std::string, std::string> meta;
};

Owned read_owned(const fs::path& p) {
    io::SafetensorsFile f(p);
    Owned o;
    o.meta = f.metadata();
    for (const auto& t : f.tensors()) {
        TensorView v = f.view(t);
        o.tensors.push_back(
            {t.name, t.dtype, t.shape, std::vector<std::byte>(v.data, v.data + v.nbytes)});
    }
    return o;
}

void write_owned(const fs::path& p, const Owned& o) {
    std::vector<io::TensorToWrite> w;
    for (const auto& t : o.tensors) w.push_back({t.name, t.dtype, t.shape, t.bytes.data(), {}});
    io::write_safetensors(p, w, o.meta);
}

OwnedTensor* find(Owned& o, const std::string& name) {
    for (auto& t : o.tensors)
        if (t.name == name) return &t;
    return nullptr;
}

}  // namespace

class TestDeltaCore : public QObject {
    Q_OBJECT

private slots:
    void pack_unpack_round_trips() {
        std::mt19937 rng(3);
        for (int bits = 1; bits <= 4; ++bits)
            for (std::int64_t count : {0, 1, 2, 3, 5, 7, 8, 9, 13, 31, 33, 63, 100, 173}) {
                std::vector<std::uint8_t> codes(static_cast<std::size_t>(count)),
                    back(codes.size());
                for (auto& c : codes) c = static_cast<std::uint8_t>(rng() & ((1u << bits) - 1));
                std::vector<std::uint8_t> packed(
                    static_cast<std::size_t>(packed_bytes(count, bits)) + 1, 0xAB);
                pack_codes(codes.data(), count, bits, packed.data());
                QCOMPARE(packed.back(), std::uint8_t(0xAB));  // nothing written past the row
                unpack_codes(packed.data(), count, bits, back.data());
                QVERIFY2(codes == back,
                         qPrintable(QString("bits %1 count %2").arg(bits).arg(count)));
                QCOMPARE(packed_bytes(count, bits), (count * bits + 7) / 8);
            }
        // Bit order: code j at bits [j·b, (j+1)·b), little-endian.
        const std::uint8_t c2[] = {1, 2, 3, 0, 2};
        std::uint8_t p2[2];
        pack_codes(c2, 5, 2, p2);
        QCOMPARE(p2[0], std::uint8_t(1 | 2 << 2 | 3 << 4));
        QCOMPARE(p2[1], std::uint8_t(2));
    }

    void salient_spec_parses_counts_and_percentages() {
        QCOMPARE(SalientSpec::parse("16").count(4096), std::int64_t(16));
        QCOMPARE(SalientSpec::parse("2%").count(4096), std::int64_t(82));
        QCOMPARE(SalientSpec::parse("0.5%").count(172), std::int64_t(1));
        QCOMPARE(SalientSpec::parse("0").count(64), std::int64_t(0));
        QCOMPARE(SalientSpec::parse("100000").count(64), std::int64_t(64));
        QCOMPARE(SalientSpec::parse("2%").to_string(), std::string("2%"));
        QCOMPARE(SalientSpec::parse("16").to_string(), std::string("16"));
        for (const char* bad : {"", "%", "-1", "abc", "1.5", "101%", "1e3", "nan"})
            QVERIFY_THROWS_EXCEPTION(Error, SalientSpec::parse(bad));
        QCOMPARE(parse_method("rtn").value(), Method::rtn);
        QVERIFY(!parse_method("gptq").has_value());
    }

    void calibration_stats_match_naive_sums() {
        const std::int64_t cols = 7, rows = 11;
        std::vector<float> x(rows * cols);
        std::mt19937 rng(5);
        std::normal_distribution<float> n;
        for (auto& v : x) v = n(rng);
        CalibrationStats s(cols);
        s.add(x.data(), 4);
        s.add(x.data() + 4 * cols, rows - 4);
        QCOMPARE(s.samples, rows);
        for (int i = 0; i < cols; ++i)
            for (int j = 0; j < cols; ++j) {
                double g = 0, mag = 0;
                for (int t = 0; t < rows; ++t) {
                    g += double(x[t * cols + i]) * x[t * cols + j];
                    mag += std::abs(double(x[t * cols + i]) * x[t * cols + j]);
                }
                // G is summed in double over blocks whose own XᵀX is single precision.
                QVERIFY(std::abs(s.gram[i * cols + j] - g) < 1e-6 * (1 + mag));
                QCOMPARE(s.gram[i * cols + j], s.gram[j * cols + i]);  // mirrored exactly
                if (i == j) QVERIFY(std::abs(s.diag[i] - g) < 1e-9 * (1 + g));
            }
        x[3] = NAN;
        QVERIFY_THROWS_EXCEPTION(Error, s.add(x.data(), 1));
        QVERIFY(!CalibrationStats(20000).has_gram());
        QVERIFY(!CalibrationStats(64, false).has_gram());
    }

    // The pipeline's path: upper triangles summed over several blocks on a pool, mirrored
    // once at the end, equal add() block by block; a bad value in a later column range is
    // reported at its own (sample, channel); measure_error gives the same figures on any
    // number of threads.
    void pooled_statistics_equal_serial_ones() {
        const std::int64_t cols = 300, rows = 90;  // several column tasks and mirror tiles
        std::vector<float> x(rows * cols);
        std::mt19937 rng(9);
        std::normal_distribution<float> n;
        for (auto& v : x) v = n(rng);
        CalibrationStats serial(cols), pooled(cols);
        ThreadPool pool(3);
        std::vector<float> scratch;
        for (std::int64_t r0 = 0; r0 < rows; r0 += 40) {
            const std::int64_t r = std::min<std::int64_t>(40, rows - r0);
            serial.add(x.data() + r0 * cols, r, scratch);
            pooled.add_upper(x.data() + r0 * cols, r, scratch, &pool);
        }
        pooled.finish(&pool);
        QCOMPARE(pooled.samples, serial.samples);
        QVERIFY(pooled.diag == serial.diag);
        QVERIFY(pooled.gram == serial.gram);
        for (std::int64_t i = 0; i < cols; ++i)
            for (std::int64_t j = 0; j < i; ++j)
                QCOMPARE(pooled.gram[i * cols + j], pooled.gram[j * cols + i]);

        std::vector<float> bad(x.begin(), x.begin() + 5 * cols);
        bad[3 * cols + 250] = INFINITY;
        bad[4 * cols + 7] = NAN;
        try {
            pooled.add_upper(bad.data(), 5, scratch, &pool);
            QFAIL("a non-finite activation was accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("sample 93, channel 250") != std::string::npos,
                     e.what());
        }

        const Layer L = make_layer(64, 300, 4, 3);
        const CompressedLinear c = compress(L, Method::meswitch, 2, "4");
        const LinearError one = measure_error(L.l.delta.data(), c, L.eval, 0, 1);
        const LinearError two = measure_error(L.l.delta.data(), c, L.eval, 0, 2);
        const LinearError five = measure_error(L.l.delta.data(), c, L.eval, 0, 5);
        QCOMPARE(one.rel_output_error, two.rel_output_error);
        QCOMPARE(one.rel_output_error, five.rel_output_error);
        QCOMPARE(one.rel_weight_error, five.rel_weight_error);
        QVERIFY(one.rel_output_error > 0 && one.rel_output_error < 1);
        const LinearError sampled = measure_error(L.l.delta.data(), c, L.eval, 16, 2);
        QVERIFY(std::abs(sampled.rel_output_error - one.rel_output_error) <
                0.5 * one.rel_output_error);
        QCOMPARE(sampled.rel_weight_error, one.rel_weight_error);  // always over every row

        // With fewer samples than half the inputs, the kept activations measure the same
        // output error as the Gram matrix (‖A Xᵀ‖² = ⟨G, AᵀA⟩), to float rounding.
        CalibrationStats by_gram(cols), by_x(cols);
        by_x.keep_samples = true;
        by_gram.add_upper(x.data(), 40, scratch, &pool);
        by_x.add_upper(x.data(), 40, scratch, &pool);
        by_x.add_upper(x.data() + 40 * cols, 50, scratch, &pool);
        by_gram.add_upper(x.data() + 40 * cols, 50, scratch, &pool);
        by_gram.finish(&pool);
        by_x.finish(&pool);
        QCOMPARE(by_x.x.size(), std::size_t(rows * cols));
        QVERIFY(by_gram.x.empty());
        const LinearError g = measure_error(L.l.delta.data(), c, by_gram, 0, 2);
        const LinearError xs = measure_error(L.l.delta.data(), c, by_x, 0, 2);
        QVERIFY2(std::abs(g.rel_output_error - xs.rel_output_error) < 1e-5 * g.rel_output_error,
                 qPrintable(QString("%1 vs %2")
                                .arg(g.rel_output_error, 0, 'g', 12)
                                .arg(xs.rel_output_error, 0, 'g', 12)));
        QVERIFY(g.rel_output_error > 0);
        QCOMPARE(xs.rel_weight_error, g.rel_weight_error);
    }

    // A Gram matrix deferred to the kept activations (the pipeline's choice for inputs wider
    // than the exact metric's limit with fewer tokens than half the inputs) reads the same
    // rows and matrix as the stored one, compresses a layer to the same codes and salient
    // values and measures the same errors, on its own and merged.
    void deferred_gram_equals_stored_one() {
        const std::int64_t rows = 96, cols = 1200, samples = 256;
        const Layer L = make_layer(rows, cols, 6, 31, samples);
        CalibrationStats stored(cols), deferred(cols);
        deferred.defer_gram_to_samples();
        QVERIFY(deferred.has_gram());
        QVERIFY(deferred.gram.empty());
        ThreadPool pool(2);
        std::vector<float> scratch;
        for (std::int64_t r0 = 0; r0 < samples; r0 += 100) {
            const std::int64_t r = std::min<std::int64_t>(100, samples - r0);
            stored.add_upper(L.l.x.data() + r0 * cols, r, scratch, &pool);
            deferred.add_upper(L.l.x.data() + r0 * cols, r, scratch, &pool);
        }
        stored.finish(&pool);
        deferred.finish(&pool);
        QVERIFY(deferred.gram.empty());
        QCOMPARE(deferred.x.size(), std::size_t(samples * cols));
        QVERIFY(deferred.diag == stored.diag);
        const std::vector<std::int64_t> idx{0, 7, 1199, 512};
        const std::vector<double> a = stored.gram_rows(idx), b = deferred.gram_rows(idx);
        QCOMPARE(a.size(), std::size_t(4 * cols));
        std::vector<double> storage;
        const std::vector<double>& full = deferred.full_gram(storage);
        QCOMPARE(&full, &storage);
        // Both are float sums (blocks of 100 by ssyrk added in double, or all 256 by sgemm):
        // their difference is bounded by a few float roundings of Σ|x_i x_j| ≤ √(G_ii G_jj).
        const auto scale = [&](std::int64_t i, std::int64_t j) {
            return std::sqrt(stored.diag[i] * stored.diag[j]) + 1e-30;
        };
        double worst = 0;
        for (std::int64_t r = 0; r < 4; ++r)
            for (std::int64_t j = 0; j < cols; ++j)
                worst =
                    std::max(worst, std::abs(a[r * cols + j] - b[r * cols + j]) / scale(idx[r], j));
        for (std::int64_t i = 0; i < cols; ++i)
            for (std::int64_t j = 0; j < cols; ++j)
                worst = std::max(
                    worst, std::abs(full[i * cols + j] - stored.gram[i * cols + j]) / scale(i, j));
        QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
        QVERIFY_THROWS_EXCEPTION(Error, deferred.gram_rows({cols}));
        QVERIFY_THROWS_EXCEPTION(Error, deferred.defer_gram_to_samples());  // after samples

        QuantOptions q;
        q.bits = 2;
        q.salient = SalientSpec::parse("1%");
        const CompressedLinear cs = compress_linear(L.l.delta.data(), rows, cols, stored, q);
        const CompressedLinear cd = compress_linear(L.l.delta.data(), rows, cols, deferred, q);
        QVERIFY(cs.codes == cd.codes);
        QVERIFY(cs.salient_idx == cd.salient_idx);
        QVERIFY(!cs.salient_idx.empty());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < cs.salient_values.size(); ++i)
            differ += cs.salient_values[i] != cd.salient_values[i];
        QVERIFY2(differ * 100 <= cs.salient_values.size(), qPrintable(QString::number(differ)));
        const double es = measure_error(L.l.delta.data(), cs, stored, 0, 2).rel_output_error;
        const double ed = measure_error(L.l.delta.data(), cd, deferred, 0, 2).rel_output_error;
        QVERIFY2(std::abs(es - ed) < 1e-4 * es,
                 qPrintable(QString("%1 vs %2").arg(es, 0, 'g', 10).arg(ed, 0, 'g', 10)));
        QVERIFY(es > 0 && es < 1);

        // Merged: deferred + deferred stays deferred over both sample sets; deferred + stored
        // becomes stored; both give the Gram matrix of all samples.
        CalibrationStats d2(cols), s2(cols);
        d2.defer_gram_to_samples();
        d2.add(L.l.x.data() + samples * cols, 50);
        s2.add(L.l.x.data() + samples * cols, 50);
        CalibrationStats dd = deferred, ds = deferred, sd = stored;
        dd.merge(d2);
        ds.merge(s2);
        sd.merge(d2);
        QVERIFY(dd.gram_deferred && dd.gram.empty());
        QCOMPARE(dd.samples, samples + 50);
        QVERIFY(!ds.gram_deferred && !ds.gram.empty());
        QVERIFY(!sd.gram.empty());
        std::vector<double> dd_storage;
        const std::vector<double>& g_dd = dd.full_gram(dd_storage);
        worst = 0;
        for (std::int64_t i = 0; i < cols; ++i)
            for (std::int64_t j = 0; j < cols; ++j) {
                const std::size_t at = static_cast<std::size_t>(i * cols + j);
                const double m = std::sqrt(dd.diag[i] * dd.diag[j]) + 1e-30;
                worst = std::max({worst, std::abs(g_dd[at] - ds.gram[at]) / m,
                                  std::abs(g_dd[at] - sd.gram[at]) / m});
            }
        QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
    }

    void planted_salient_channels_are_found_and_help() {
        const Layer L = make_layer(256, 1024, 8, 11);
        const CompressedLinear with = compress(L, Method::meswitch, 2, "8");
        std::int64_t found = 0;
        for (std::int64_t c : L.l.outlier_channels)
            found += std::binary_search(with.salient_idx.begin(), with.salient_idx.end(),
                                        std::int32_t(c));
        QVERIFY2(found * 10 >= 9 * std::int64_t(L.l.outlier_channels.size()),
                 qPrintable(QString::number(found)));
        const CompressedLinear without = compress(L, Method::meswitch, 2, "0");
        const double e1 = out_err(L, with), e0 = out_err(L, without);
        qInfo("2-bit output error: %zu salient %.4f, none %.4f (ratio %.3f)",
              with.salient_idx.size(), e1, e0, e1 / e0);
        QVERIFY(e1 <= 0.5 * e0);
        // Also diagonal-only statistics find them.
        QuantOptions q;
        q.salient = SalientSpec::parse("8");
        CompressedLinear d =
            compress_linear(L.l.delta.data(), L.l.rows, L.l.cols, L.calib.diagonal_only(), q);
        QCOMPARE(d.salient_idx.size(), std::size_t(8));
    }

    void meswitch_beats_rtn_at_two_bits() {
        struct Case {
            std::int64_t rows, cols, outliers;
        };
        for (Case c : {Case{256, 1024, 4}, Case{128, 4096, 8}, Case{64, 64, 0}, Case{172, 172, 0},
                       Case{64, 172, 0}}) {
            const Layer L = make_layer(c.rows, c.cols, c.outliers, 21 + c.cols);
            const CompressedLinear ms = compress(L, Method::meswitch, 2);
            const CompressedLinear rtn = compress(L, Method::rtn, 2);
            const double ratio = out_err(L, ms) / out_err(L, rtn);
            qInfo(
                "%lldx%lld outliers %lld: meswitch/rtn output error %.3f, %.3f bits/param (rtn "
                "%.3f)",
                (long long)c.rows, (long long)c.cols, (long long)c.outliers, ratio,
                ms.bits_per_param(), rtn.bits_per_param());
            QVERIFY(ratio <= 0.6);
            QVERIFY(ms.bits_per_param() <= (c.cols >= 4096 ? 2.1 : 2.7));
        }
    }

    void reconstruct_equals_separate_product() {
        for (Method m : {Method::meswitch, Method::rtn, Method::bitdelta})
            for (int bits = 1; bits <= 4; ++bits)
                for (std::int64_t cols : {37, 173}) {
                    const Layer L = make_layer(19, cols, 2, 7 * bits + cols, 64);
                    const CompressedLinear c = compress(L, m, bits, "3");
                    std::vector<float> hat(19 * cols);
                    reconstruct(c, hat.data());
                    const std::int64_t n = 3;
                    const float* x = L.l.x.data();
                    std::vector<float> y(n * 19, 0.5f), ref(n * 19, 0.5f);
                    add_delta_product(c, x, n, y.data());
                    double scale = 0;
                    for (std::int64_t t = 0; t < n; ++t)
                        for (std::int64_t r = 0; r < 19; ++r) {
                            double s = 0, a = 0;
                            for (std::int64_t i = 0; i < cols; ++i) {
                                s += double(x[t * cols + i]) * hat[r * cols + i];
                                a += std::abs(double(x[t * cols + i]) * hat[r * cols + i]);
                            }
                            ref[t * 19 + r] += float(s);
                            scale = std::max(scale, a);
                        }
                    for (std::size_t i = 0; i < y.size(); ++i)
                        QVERIFY2(std::abs(y[i] - ref[i]) <= 1e-4 * scale + 1e-7,
                                 qPrintable(QString("%1 bits %2 cols %3")
                                                .arg(method_name(m))
                                                .arg(bits)
                                                .arg(cols)));
                    if (m == Method::bitdelta) QCOMPARE(c.scales.size(), std::size_t(1));
                    if (m != Method::meswitch) QVERIFY(c.salient_idx.empty());
                }
    }

    void rtn_is_plain_min_max_round_to_nearest() {
        const float d[] = {-1.0f, 0.0f, 1.0f, 2.0f};
        CalibrationStats s(4);
        QuantOptions q;
        q.method = Method::rtn;
        q.bits = 2;
        CompressedLinear c = compress_linear(d, 1, 4, s, q);
        std::vector<float> hat(4);
        reconstruct(c, hat.data());
        // step 1, levels −1, 0, 1, 2: every value exact.
        for (int i = 0; i < 4; ++i) QVERIFY(std::abs(hat[i] - d[i]) < 1e-3);
    }

    void bad_arguments_and_cancel_are_reported() {
        const Layer L = make_layer(8, 16, 0, 1, 32);
        QuantOptions q;
        q.bits = 5;
        QVERIFY_THROWS_EXCEPTION(Error, compress_linear(L.l.delta.data(), 8, 16, L.calib, q));
        q.bits = 2;
        QVERIFY_THROWS_EXCEPTION(Error, compress_linear(L.l.delta.data(), 8, 17, L.calib, q));
        CancelToken cancel;
        cancel.cancel();
        try {
            compress_linear(L.l.delta.data(), 8, 16, L.calib, q, &cancel);
            QFAIL("no cancel");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::cancelled);
        }
    }

    void msd_round_trip_is_exact() {
        const fs::path dir = test::output_dir("delta_core");
        const fs::path file = dir / "round.msd";
        const Layer A = make_layer(24, 64, 1, 2, 64), B = make_layer(16, 37, 0, 3, 64);
        std::vector<NamedLinear> layers = {
            {"model.layers.0.self_attn.q_proj", compress(A, Method::meswitch, 2, "3")},
            {"model.layers.0.mlp.down_proj", compress(B, Method::rtn, 3)},
            {"model.layers.1.mlp.up_proj", compress(B, Method::bitdelta, 1)},
        };
        QuantOptions bf;
        bf.salient = SalientSpec::parse("2");
        bf.salient_dtype = DType::bf16;
        bf.zero_format = ZeroFormat::f16;
        bf.bits = 4;
        layers.push_back({"model.layers.1.self_attn.o_proj",
                          compress_linear(A.l.delta.data(), 24, 64, A.calib, bf)});
        DenseDelta d16{"model.embed_tokens.weight", DType::f16, {2, 3}, {1, 2, 3, 4, 5, 6}, {}};
        DenseDelta d32{"model.norm.weight", DType::f32, {3}, {}, {0.5f, -1.0f, 2.0f}};
        MsdHeader h;
        h.bits = 2;
        h.salient = SalientSpec::parse("3");
        h.base_hash = "abc";
        h.expert_hash = "def";
        h.expert_name = "math";
        h.omitted = {"lm_head.weight"};
        h.extra = {{"calibration", "builtin"}};
        write_msd(file, h, layers, {d16, d32});
        MsdFile f(file);
        QCOMPARE(f.header().method, Method::meswitch);
        QCOMPARE(f.header().bits, 2);
        QCOMPARE(f.header().salient.to_string(), std::string("3"));
        QCOMPARE(f.header().salient_count, std::int64_t(5));
        QCOMPARE(f.header().base_hash, std::string("abc"));
        QCOMPARE(f.header().expert_name, std::string("math"));
        QCOMPARE(f.header().omitted, std::vector<std::string>{"lm_head.weight"});
        QCOMPARE(f.header().extra.at("calibration"), std::string("builtin"));
        QCOMPARE(f.layers().size(), layers.size());
        for (const NamedLinear& nl : layers) {
            const CompressedLinear c = f.load(nl.prefix);
            const CompressedLinear& o = nl.linear;
            QCOMPARE(c.rows, o.rows);
            QCOMPARE(c.cols, o.cols);
            QCOMPARE(c.method, o.method);
            QCOMPARE(c.bits, o.bits);
            QCOMPARE(c.zero_format, o.zero_format);
            QCOMPARE(c.salient_dtype, o.salient_dtype);
            QVERIFY(c.salient_idx == o.salient_idx);
            QVERIFY(c.salient_values == o.salient_values);
            QVERIFY(c.codes == o.codes);
            QVERIFY(c.scales == o.scales);
            QVERIFY(c.zeros == o.zeros);
            QCOMPARE(f.find_layer(nl.prefix)->storage_bytes, o.storage_bytes());
        }
        QCOMPARE(f.dense_names().size(), std::size_t(2));
        QVERIFY(f.load_dense("model.embed_tokens.weight").bits16 == d16.bits16);
        QVERIFY(f.load_dense("model.norm.weight").to_f32() == d32.f32);
        QVERIFY_THROWS_EXCEPTION(Error, f.load("nope"));
        QVERIFY_THROWS_EXCEPTION(Error, f.load_dense("nope"));
        // Duplicate names and reserved metadata keys are refused.
        layers.push_back(layers[0]);
        QVERIFY_THROWS_EXCEPTION(Error, write_msd(dir / "dup.msd", h, layers));
        layers.pop_back();
        h.extra = {{"bits", "3"}};
        QVERIFY_THROWS_EXCEPTION(Error, write_msd(dir / "meta.msd", h, layers));
    }

    void hostile_msd_files_give_clear_errors() {
        const fs::path dir = test::output_dir("delta_core");
        const fs::path good = dir / "good.msd";
        const Layer A = make_layer(12, 40, 1, 9, 64);
        MsdHeader h;
        h.salient = SalientSpec::parse("3");
        const std::string p = "model.layers.0.mlp.gate_proj";
        write_msd(good, h, {{p, compress(A, Method::meswitch, 2, "3")}});
        MsdFile ok(good);
        struct Mut {
            const char* what;
            std::function<void(Owned&)> fn;
            ErrorKind kind;
            const char* mentions;
        };
        auto set_i32 = [](OwnedTensor* t, int i, std::int32_t v) {
            std::memcpy(t->bytes.data() + 4 * i, &v, 4);
        };
        const std::vector<Mut> muts = {
            {"index out of range", [&](Owned& o) { set_i32(find(o, p + ".salient_idx"), 2, 40); },
             ErrorKind::format, ".salient_idx"},
            {"unsorted",
             [&](Owned& o) {
                 auto* t = find(o, p + ".salient_idx");
                 std::int32_t a, b;
                 std::memcpy(&a, t->bytes.data(), 4);
                 std::memcpy(&b, t->bytes.data() + 4, 4);
                 set_i32(t, 0, b);
                 set_i32(t, 1, a);
             },
             ErrorKind::format, ".salient_idx"},
            {"duplicated",
             [&](Owned& o) {
                 auto* t = find(o, p + ".salient_idx");
                 std::int32_t a;
                 std::memcpy(&a, t->bytes.data(), 4);
                 set_i32(t, 1, a);
             },
             ErrorKind::format, ".salient_idx"},
            {"codes too small",
             [&](Owned& o) {
                 auto* t = find(o, p + ".codes");
                 t->shape[1] -= 1;
                 t->bytes.resize(t->shape[0] * t->shape[1]);
             },
             ErrorKind::format, ".codes"},
            {"wrong dtype",
             [&](Owned& o) {
                 auto* t = find(o, p + ".scales");
                 t->dtype = DType::bf16;
             },
             ErrorKind::format, ".scales"},
            {"missing scales",
             [&](Owned& o) {
                 o.tensors.erase(std::remove_if(o.tensors.begin(), o.tensors.end(),
                                                [&](auto& t) { return t.name == p + ".scales"; }),
                                 o.tensors.end());
             },
             ErrorKind::format, ".scales"},
            {"missing salient",
             [&](Owned& o) {
                 o.tensors.erase(std::remove_if(o.tensors.begin(), o.tensors.end(),
                                                [&](auto& t) { return t.name == p + ".salient"; }),
                                 o.tensors.end());
             },
             ErrorKind::format, ".salient"},
            {"layer bits 7", [&](Owned& o) { set_i32(find(o, p + ".qformat"), 1, 7); },
             ErrorKind::format, ".qformat"},
            {"header bits 0", [&](Owned& o) { o.meta["bits"] = "0"; }, ErrorKind::format, "bits"},
            {"version 2", [&](Owned& o) { o.meta["format_version"] = "2"; }, ErrorKind::unsupported,
             "format_version"},
            {"not msd", [&](Owned& o) { o.meta.erase("format"); }, ErrorKind::format,
             "meswitch-delta"},
            {"bad omitted", [&](Owned& o) { o.meta["omitted"] = "[1"; }, ErrorKind::format,
             "omitted"},
            {"stray tensor",
             [&](Owned& o) {
                 o.tensors.push_back({"junk", DType::u8, {1}, {std::byte{1}}});
             },
             ErrorKind::format, "junk"},
            {"nan scale",
             [&](Owned& o) {
                 auto* t = find(o, p + ".scales");
                 std::uint16_t nan = 0x7e00;
                 std::memcpy(t->bytes.data(), &nan, 2);
             },
             ErrorKind::format, ".scales"},
            {"salient count", [&](Owned& o) { o.meta["salient_count"] = "4"; }, ErrorKind::format,
             "salient_count"},
        };
        for (const Mut& m : muts) {
            Owned o = read_owned(good);
            m.fn(o);
            const fs::path bad = dir / "bad.msd";
            write_owned(bad, o);
            try {
                MsdFile f(bad);
                QFAIL(qPrintable(QString("accepted: ") + m.what));
            } catch (const Error& e) {
                const std::string msg = e.what();
                QVERIFY2(e.kind() == m.kind, qPrintable(QString(m.what) + ": " + msg.c_str()));
                QVERIFY2(msg.find("bad.msd") != std::string::npos &&
                             msg.find(m.mentions) != std::string::npos,
                         qPrintable(QString(m.what) + ": " + msg.c_str()));
            }
        }
        // Truncated copies and random byte flips: an Error or a valid file, never a crash.
        std::ifstream in(good, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
        const fs::path bad = dir / "cut.msd";
        std::mt19937 rng(17);
        for (int trial = 0; trial < 200; ++trial) {
            std::vector<char> b = bytes;
            if (trial < 40)
                b.resize(b.size() * trial / 40);
            else
                for (int k = 0; k < 3; ++k)
                    b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
            std::ofstream(bad, std::ios::binary | std::ios::trunc)
                .write(b.data(), std::streamsize(b.size()));
            try {
                MsdFile f(bad);
                for (const auto& l : f.layers()) {
                    CompressedLinear c = f.load(l.prefix);
                    std::vector<float> hat(c.rows * c.cols);
                    reconstruct(c, hat.data());
                }
            } catch (const Error& e) {
                QVERIFY(std::string(e.what()).find("cut.msd") != std::string::npos);
            }
        }
    }

    // The one-pass switch kernel out = round(base + d) against the scalar definition, bit for
    // bit: every dtype and kind of special value, sums that are f32 subnormals, outputs 64-byte
    // aligned (non-temporal stores) and not, lengths with every tail.
    void apply_from_base_row_matches_scalar_bit_for_bit() {
        std::mt19937 rng(43);
        std::vector<std::uint32_t> w;
        std::vector<float> d;
        for (DType t : {DType::f32, DType::bf16, DType::f16}) {
            const std::size_t es = dtype_size(t);
            for (int trial = 0; trial < 300; ++trial) {
                const std::size_t cols = trial < 100 ? 1 + trial : 64 + rng() % 2000;
                special_row(t, rng, cols, w, d);
                if (trial % 3 == 0)  // sums that are f32 subnormals
                    for (std::size_t c = 0; c < cols; c += 7) {
                        w[c] = 0;
                        d[c] = std::ldexp(1.0f + static_cast<float>(rng() % 1000) / 1000.0f,
                                          -127 - static_cast<int>(rng() % 20));
                    }
                const std::vector<std::byte> base = to_bytes(t, w);
                const std::size_t shift = trial % 2 ? es : 0;  // unaligned output on odd trials
                std::vector<std::byte> buffer(cols * es + 128);
                auto* aligned = reinterpret_cast<std::byte*>(
                    (reinterpret_cast<std::uintptr_t>(buffer.data()) + 63) / 64 * 64);
                std::byte* out = aligned + shift;
                serve::apply_row_from_base(t, base.data(), out, d.data(), cols);
                for (std::size_t c = 0; c < cols; ++c)
                    QVERIFY2(element(t, out, c) == ref_store(t, ref_load(t, w[c]) + d[c]),
                             qPrintable(QString("%1 trial %2 col %3 w %4 d %5")
                                            .arg(dtype_name(t))
                                            .arg(trial)
                                            .arg(c)
                                            .arg(w[c], 0, 16)
                                            .arg(bits_of(d[c]), 0, 16)));
            }
        }
    }

    // Every f16 bit pattern through the f16 kernel (the F16C conversions against core's
    // f16_to_f32 / f32_to_f16), with a spread of deltas.
    void apply_from_base_f16_covers_every_f16_value() {
        const std::size_t cols = 65536;
        std::vector<std::uint32_t> w(cols);
        for (std::size_t i = 0; i < cols; ++i) w[i] = static_cast<std::uint32_t>(i);
        for (float scale : {0.0f, 1e-3f, 0.05f, -0.5f, 3.0f, 1e-7f}) {
            std::vector<float> d(cols);
            for (std::size_t i = 0; i < cols; ++i) {
                const float wf = f16_to_f32(static_cast<std::uint16_t>(i));
                d[i] = std::isfinite(wf) ? wf * scale + scale * 1e-4f : scale;
            }
            const std::vector<std::byte> base = to_bytes(DType::f16, w);
            std::vector<std::byte> row(base.size());
            serve::apply_row_from_base(DType::f16, base.data(), row.data(), d.data(), cols);
            for (std::size_t c = 0; c < cols; ++c)
                QCOMPARE(element(DType::f16, row.data(), c),
                         std::uint32_t(f32_to_f16(f16_to_f32(std::uint16_t(c)) + d[c])));
        }
    }

    // The SIMD decode of packed codes and the row decoder of a compressed linear give the
    // bits delta::reconstruct gives, for every code width, zero format and salient dtype.
    void delta_rows_match_reconstruct_bit_for_bit() {
        std::mt19937 rng(5);
        for (int bits = 1; bits <= 4; ++bits)
            for (std::int64_t count : {0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 100, 1031})
                for (std::int64_t first : {0, 1, 3, 5, 8, 13}) {
                    const std::int64_t all = first + count;
                    std::vector<std::uint8_t> q(static_cast<std::size_t>(all));
                    for (auto& v : q) v = static_cast<std::uint8_t>(rng() & ((1u << bits) - 1));
                    std::vector<std::uint8_t> packed(
                        static_cast<std::size_t>(packed_bytes(all, bits)));
                    pack_codes(q.data(), all, bits, packed.data());
                    const float scale = 0.0123f, zero = 1.37f;
                    std::vector<float> out(static_cast<std::size_t>(count) + 1, -7.0f);
                    serve::decode_coded_row(packed.data(), packed.data() + packed.size(), first,
                                            count, bits, scale, zero, out.data());
                    for (std::int64_t j = 0; j < count; ++j)
                        QCOMPARE(bits_of(out[j]),
                                 bits_of(scale * (static_cast<float>(q[first + j]) - zero)));
                    QCOMPARE(out.back(), -7.0f);  // nothing written past the run
                }
        for (int bits = 1; bits <= 4; ++bits)
            for (ZeroFormat zf : {ZeroFormat::midpoint, ZeroFormat::u8, ZeroFormat::f16})
                for (DType sd : {DType::f16, DType::bf16})
                    for (std::int64_t cols : {3, 37, 173, 1030}) {
                        const CompressedLinear c =
                            random_compressed(9, cols, bits, zf, sd, bits * 1000 + cols);
                        std::vector<float> want(static_cast<std::size_t>(9 * cols));
                        reconstruct(c, want.data());
                        const serve::DeltaRowFn rows = serve::compressed_rows(c);
                        std::vector<float> got(static_cast<std::size_t>(cols));
                        for (std::int64_t r = 0; r < 9; ++r) {
                            rows(r, got.data());
                            QVERIFY2(
                                std::memcmp(got.data(), want.data() + r * cols,
                                            got.size() * sizeof(float)) == 0,
                                qPrintable(
                                    QString("bits %1 cols %2 row %3").arg(bits).arg(cols).arg(r)));
                        }
                    }
    }

    // apply_from_base over a whole weight on a pool: every element is the scalar definition's
    // round(base + d), special values and deltas far larger than the weight included, and the
    // base is left as it was.
    void apply_from_base_weight_matches_scalar() {
        ThreadPool pool(3);
        std::mt19937 rng(8);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (DType t : {DType::f32, DType::bf16, DType::f16})
            for (bool huge : {false, true}) {
                const std::int64_t rows = 300, cols = 77;
                std::vector<std::uint32_t> w, rw;
                std::vector<float> d, rd;
                for (std::int64_t r = 0; r < rows; ++r) {
                    special_row(t, rng, cols, rw, rd);
                    for (std::int64_t c = 0; c < cols; ++c) {
                        if (huge)
                            rd[c] = 1e3f * (1.0f + std::abs(normal(rng)));
                        else if (rng() % 20) {  // mostly ordinary, a few special values
                            rw[c] = ref_store(t, normal(rng));
                            rd[c] = 0.05f * normal(rng);
                        }
                    }
                    w.insert(w.end(), rw.begin(), rw.end());
                    d.insert(d.end(), rd.begin(), rd.end());
                }
                const std::vector<std::byte> base = to_bytes(t, w);
                std::vector<std::byte> data(base.size());
                const serve::MutableWeight mw{t, rows, cols, data.data()};
                const serve::DeltaRowFn fn = [&](std::int64_t r, float* out) {
                    std::memcpy(out, d.data() + r * cols, cols * sizeof(float));
                };
                serve::apply_from_base(mw, base.data(), fn, &pool);
                for (std::size_t i = 0; i < w.size(); ++i)
                    QCOMPARE(element(t, data.data(), i), ref_store(t, ref_load(t, w[i]) + d[i]));
                QVERIFY(base == to_bytes(t, w));
            }
    }

    void bench_compress_reports_figures() {
        BenchCompressOptions o;
        o.scale_down = 32;
        o.samples = 64;
        o.table = true;
        o.table_scale_down = 64;
        o.table_bits = {2};
        o.table_salient = {0.0, 0.02};
        const BenchCompressResult r = bench_compress(o);
        QCOMPARE(r.shapes.size(), std::size_t(4));
        for (const auto& s : r.shapes) {
            QVERIFY(s.seconds >= 0 && s.bits_per_param > 1.9 && s.rel_output_error > 0);
            QVERIFY(s.rel_output_error < s.rtn_rel_output_error);
        }
        QVERIFY(r.extrapolated_7b_minutes > 0 && r.peak_rss_mib > 0);
        QCOMPARE(r.table.size(), std::size_t(1 + 1 + 2));  // bitdelta, rtn, meswitch × 2
    }
};

QTEST_GUILESS_MAIN(TestDeltaCore)
#include "test_delta_core.moc"
