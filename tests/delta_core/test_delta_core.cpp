// Delta-compression core: packing, calibration statistics, ME-Switch vs baselines on
// synthetic layers, reconstruction vs the separate-computation product, the .msd artifact
// (round trip, hostile and truncated files), cancellation and the compression benchmark.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "delta/msd/msd_file.h"
#include "delta/quant/bench_compress.h"
#include "delta/quant/packing.h"
#include "delta/quant/quantize.h"
#include "delta/quant/synthetic_layer.h"
#include "io/safetensors.h"
#include "meswitch/error.h"
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
                double g = 0;
                for (int t = 0; t < rows; ++t) g += double(x[t * cols + i]) * x[t * cols + j];
                QVERIFY(std::abs(s.gram[i * cols + j] - g) < 1e-9 * (1 + std::abs(g)));
                if (i == j) QVERIFY(std::abs(s.diag[i] - g) < 1e-9 * (1 + g));
            }
        x[3] = NAN;
        QVERIFY_THROWS_EXCEPTION(Error, s.add(x.data(), 1));
        QVERIFY(!CalibrationStats(20000).has_gram());
        QVERIFY(!CalibrationStats(64, false).has_gram());
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
