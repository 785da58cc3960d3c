// Safetensors reading and writing: exact round trips, sharded checkpoints from the tiny model
// generator, the real stories260K file, checkpoint discovery, atomic replace and a full disk.

#include <QtTest>

#include <sys/mount.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

#include "io/safetensors.h"
#include "io_test_util.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace meswitch;
using namespace meswitch::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::byte> random_bytes(std::size_t n, std::uint64_t seed) {
    std::vector<std::byte> out(n);
    for (auto& b : out) b = std::byte(splitmix64(seed) & 0xFF);
    return out;
}

std::vector<std::string> files_in(const fs::path& folder) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(folder))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

bool same_bytes(const TensorView& v, const std::vector<std::byte>& expected) {
    return v.nbytes == expected.size() &&
           (expected.empty() || std::memcmp(v.data, expected.data(), expected.size()) == 0);
}

QString tiny_row_name(const TinyModelSpec& s) {
    return QString("%1-%2-%3shard%4")
        .arg(QString::fromStdString(s.arch), dtype_name(s.dtype))
        .arg(s.shards)
        .arg(s.tie_embeddings ? "-tied" : "");
}

}  // namespace

Q_DECLARE_METATYPE(meswitch::test::TinyModelSpec)

class TestSafetensors : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    fs::path dir(const char* sub) {
        fs::path p = fs::path(m_tmp.path().toStdString()) / sub;
        fs::remove_all(p);
        fs::create_directories(p);
        return p;
    }

private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    // Every dtype, odd shapes (scalar, empty, 1-D, 3-D), exact bytes back in header order.
    void roundTripEveryDtype() {
        const fs::path file = dir("roundtrip") / "all.safetensors";
        struct Case {
            std::string name;
            DType dtype;
            std::vector<std::int64_t> shape;
        };
        const std::vector<Case> cases = {
            {"z.f32", DType::f32, {3, 5}},      {"a.f16", DType::f16, {7}},
            {"m.bf16", DType::bf16, {2, 3, 4}}, {"i8", DType::i8, {9}},
            {"u8", DType::u8, {1, 1}},          {"i32", DType::i32, {5}},
            {"i64", DType::i64, {3}},           {"f64", DType::f64, {2, 2}},
            {"scalar", DType::f32, {}},         {"empty", DType::bf16, {0, 4}},
        };
        std::vector<std::vector<std::byte>> data;
        std::vector<io::TensorToWrite> tensors;
        std::uint64_t seed = 7;
        for (const auto& c : cases) {
            std::size_t n = dtype_size(c.dtype);
            for (auto d : c.shape) n *= std::size_t(d);
            data.push_back(random_bytes(n, seed++));  // arbitrary bits, NaNs included
            tensors.push_back({c.name, c.dtype, c.shape, data.back().data(), {}});
        }
        // Exact 16-bit patterns that conversions could disturb: NaN payloads, subnormals, -0.
        const std::uint16_t specials[7] = {0x7C01, 0xFE00, 0x0001, 0x8000, 0x7BFF, 0xFC00, 0x03FF};
        std::memcpy(data[1].data(), specials, sizeof specials);
        const std::map<std::string, std::string> metadata = {
            {"format", "pt"},
            {"empty", ""},
            {"unicode", "Gr\xC3\xBC\xC3\x9F\x65 \xE2\x96\x81"},
            {"json-looking", "{\"a\": [1, 2]}"}};
        io::write_safetensors(file, tensors, metadata);

        // Layout: header padded with spaces to a 64-byte boundary, tensors back to back in given
        // order.
        const std::string raw = read_bytes(file);
        std::uint64_t header_len = 0;
        std::memcpy(&header_len, raw.data(), 8);
        QCOMPARE((8 + header_len) % 64, std::uint64_t(0));  // the data area on a cache line
        QVERIFY(raw[8 + header_len - 1] == '}' || raw[8 + header_len - 1] == ' ');

        const io::SafetensorsFile f(file);
        QCOMPARE(f.metadata(), metadata);
        QCOMPARE(f.tensors().size(), cases.size());
        std::uint64_t offset = 0;
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const auto& info = f.tensors()[i];
            QCOMPARE(info.name, cases[i].name);
            QCOMPARE(info.dtype, cases[i].dtype);
            QCOMPARE(info.shape, cases[i].shape);
            QCOMPARE(info.begin, offset);
            offset = info.end;
            const TensorView v = f.view(cases[i].name);
            QVERIFY2(same_bytes(v, data[i]), cases[i].name.c_str());
            QCOMPARE(v.numel() * std::int64_t(dtype_size(v.dtype)), std::int64_t(v.nbytes));
        }
        QCOMPARE(f.data_bytes(), offset);
        QCOMPARE(std::uint64_t(raw.size()), 8 + header_len + offset);
        QVERIFY(f.find("nope") == nullptr);
        EXPECT_ERROR(f.view("nope"), ErrorKind::not_found, {"all.safetensors", "'nope'"});
        QCOMPARE(files_in(file.parent_path()), std::vector<std::string>{"all.safetensors"});
    }

    // Values written from f32 land as the nearest bf16/f16 and widen back exactly.
    void floatValuesSurviveConversion() {
        const fs::path file = dir("values") / "v.safetensors";
        const std::vector<float> values = {0.0f, -0.0f, 1.0f, -1.5f, 65504.0f, 1e-7f, 3.14159f};
        const auto f16 = encode_values(values, DType::f16);
        const auto bf16 = encode_values(values, DType::bf16);
        io::write_safetensors(file, {{"h", DType::f16, {7}, f16.data(), {}},
                                     {"b", DType::bf16, {7}, bf16.data(), {}},
                                     {"f", DType::f32, {7}, values.data(), {}}});
        const io::SafetensorsFile f(file);
        std::vector<float> out(7);
        for (const char* name : {"h", "b", "f"}) {
            const TensorView v = f.view(name);
            convert_to_f32(v.dtype, v.data, out.data(), out.size());
            for (std::size_t i = 0; i < values.size(); ++i) {
                const float expected = v.dtype == DType::f16 ? f16_to_f32(f32_to_f16(values[i]))
                                       : v.dtype == DType::bf16
                                           ? bf16_to_f32(f32_to_bf16(values[i]))
                                           : values[i];
                QCOMPARE(out[i], expected);
                QVERIFY(std::fabs(out[i] - values[i]) <= std::fabs(values[i]) * 0.004f + 1e-7f);
            }
        }
    }

    void fillCallbackStreamsBytes() {
        const fs::path file = dir("fill") / "fill.safetensors";
        std::vector<std::size_t> calls;
        io::TensorToWrite t{"t", DType::i32, {4, 3}, nullptr, [&](std::byte* out, std::size_t n) {
                                calls.push_back(n);
                                for (std::size_t i = 0; i < n; ++i) out[i] = std::byte(i * 3);
                            }};
        io::write_safetensors(file, {t, {"u", DType::u8, {2}, "\x01\x02", {}}});
        QCOMPARE(calls, std::vector<std::size_t>{48});
        const io::SafetensorsFile f(file);
        const TensorView v = f.view("t");
        QCOMPARE(v.nbytes, std::size_t(48));
        for (std::size_t i = 0; i < 48; ++i) QCOMPARE(v.data[i], std::byte(i * 3));
        QCOMPARE(f.view("u").data[1], std::byte(2));
        QVERIFY(f.metadata().empty());
    }

    void writerRefusesBadInput() {
        const fs::path folder = dir("refuse");
        const fs::path file = folder / "bad.safetensors";
        const float x[2] = {1, 2};
        EXPECT_ERROR(io::write_safetensors(
                         file, {{"a", DType::f32, {2}, x, {}}, {"a", DType::f32, {2}, x, {}}}),
                     ErrorKind::invalid_argument, {"bad.safetensors", "'a'", "twice"});
        EXPECT_ERROR(io::write_safetensors(file, {{"__metadata__", DType::f32, {2}, x, {}}}),
                     ErrorKind::invalid_argument, {"bad.safetensors", "__metadata__"});
        EXPECT_ERROR(io::write_safetensors(file, {{"n", DType::f32, {2, -1}, x, {}}}),
                     ErrorKind::invalid_argument, {"bad.safetensors", "'n'", "negative"});
        EXPECT_ERROR(io::write_safetensors(file, {{"d", DType::f32, {2}, nullptr, {}}}),
                     ErrorKind::invalid_argument, {"bad.safetensors", "'d'", "neither data"});
        EXPECT_ERROR(io::write_safetensors(file, {{"o", DType::f64, {1ll << 62, 4}, x, {}}}),
                     ErrorKind::invalid_argument, {"bad.safetensors", "'o'", "overflow"});
        EXPECT_ERROR(io::write_safetensors(file, {{"bad\xFF", DType::f32, {2}, x, {}}}),
                     ErrorKind::invalid_argument, {"bad.safetensors", "UTF-8"});
        EXPECT_ERROR(io::write_safetensors(folder / "no-such-folder" / "x.safetensors",
                                           {{"a", DType::f32, {2}, x, {}}}),
                     ErrorKind::io, {"x.safetensors", "cannot create"});
        QVERIFY(files_in(folder).empty());  // nothing written, no temporary left behind
    }

    void writeReplacesExistingFile() {
        const fs::path folder = dir("replace");
        const fs::path file = folder / "model.safetensors";
        const float a[1] = {1.0f}, b[2] = {2.0f, 3.0f};
        io::write_safetensors(file, {{"a", DType::f32, {1}, a, {}}});
        io::write_safetensors(file, {{"b", DType::f32, {2}, b, {}}});
        const io::SafetensorsFile f(file);
        QCOMPARE(f.tensors().size(), std::size_t(1));
        QCOMPARE(f.tensors()[0].name, std::string("b"));
        QCOMPARE(files_in(folder), std::vector<std::string>{"model.safetensors"});
    }

    // A small tmpfs stands in for a full disk: the write fails with a clear message, no
    // temporary file remains and an existing file under the target name is untouched.
    void fullDiskLeavesNothingBehind() {
        if (::geteuid() != 0) QSKIP("needs root to mount a 64 KiB tmpfs that can fill up");
        const fs::path mnt = dir("fulldisk");
        if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0)
            QSKIP(qPrintable(QString("cannot mount a tmpfs on %1: %2")
                                 .arg(QString::fromStdString(mnt.string()), strerror(errno))));
        struct Unmount {
            fs::path p;
            ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
        } unmount{mnt};
        const fs::path file = mnt / "expert.safetensors";
        const std::vector<float> small(16, 1.0f);
        io::write_safetensors(file, {{"w", DType::f32, {16}, small.data(), {}}});
        const std::string before = read_bytes(file);

        const std::vector<float> big(64 * 1024, 0.5f);  // 256 KiB: cannot fit
        const std::string message = expect_error(
            [&] {
                io::write_safetensors(file, {{"w", DType::f32, {64 * 1024}, big.data(), {}}});
            },
            ErrorKind::io, {"expert.safetensors", "no space left on device"}, __FILE__, __LINE__);
        if (message.empty()) return;
        QCOMPARE(files_in(mnt), std::vector<std::string>{"expert.safetensors"});
        QVERIFY(read_bytes(file) == before);

        const std::vector<float> fits(1024, 0.25f);  // the space came back: a retry works
        io::write_safetensors(file, {{"w", DType::f32, {1024}, fits.data(), {}}});
        QCOMPARE(io::SafetensorsFile(file).tensors()[0].shape, std::vector<std::int64_t>{1024});
    }

    void tinyCheckpoints_data() {
        QTest::addColumn<TinyModelSpec>("spec");
        for (const char* arch : {"llama", "mistral", "qwen2"})
            for (DType dtype : {DType::f32, DType::f16, DType::bf16})
                for (int shards : {1, 3}) {
                    TinyModelSpec s;
                    s.arch = arch;
                    s.dtype = dtype;
                    s.shards = shards;
                    s.seed = 11 + std::uint64_t(shards);
                    QTest::newRow(qPrintable(tiny_row_name(s))) << s;
                }
        TinyModelSpec tied;
        tied.tie_embeddings = true;
        tied.shards = 2;
        tied.dtype = DType::bf16;
        QTest::newRow(qPrintable(tiny_row_name(tied))) << tied;
    }

    // The checkpoint holds exactly the generator's tensors, bit for bit, however sharded.
    void tinyCheckpoints() {
        QFETCH(TinyModelSpec, spec);
        const fs::path folder = dir("tiny");
        write_tiny_model(folder, spec);
        const auto expected = tiny_model_tensors(spec);
        const io::Checkpoint ckpt(folder);

        std::vector<std::string> names;
        for (const auto& t : expected) names.push_back(t.name);
        std::sort(names.begin(), names.end());
        QCOMPARE(ckpt.tensor_names(), names);
        QCOMPARE(ckpt.files().size(), std::size_t(spec.shards));
        QCOMPARE(ckpt.shards().size(), std::size_t(spec.shards));
        const auto file_names = tiny_model_weight_files(spec);
        for (std::size_t i = 0; i < ckpt.files().size(); ++i)
            QCOMPARE(ckpt.files()[i].filename().string(), file_names[i]);
        QCOMPARE(ckpt.contains("lm_head.weight"), !spec.tie_embeddings);
        QCOMPARE(ckpt.contains("model.layers.0.self_attn.q_proj.bias"), spec.arch == "qwen2");

        std::uint64_t total = 0;
        for (const auto& t : expected) {
            const auto& info = ckpt.info(t.name);
            QCOMPARE(info.dtype, spec.dtype);
            QCOMPARE(info.shape, t.shape);
            const TensorView v = ckpt.view(t.name);
            QVERIFY2(same_bytes(v, encode_values(t.values, spec.dtype)), t.name.c_str());
            QVERIFY(ckpt.file_of(t.name).find(t.name) != nullptr);
            total += v.nbytes;
        }
        QCOMPARE(ckpt.total_data_bytes(), total);
        EXPECT_ERROR(ckpt.view("model.layers.9.mlp.up_proj.weight"), ErrorKind::not_found,
                     {"model.layers.9.mlp.up_proj.weight"});

        if (spec.shards > 1) {
            // The index itself and one shard given directly also open.
            const io::Checkpoint via_index(folder / "model.safetensors.index.json");
            QCOMPARE(via_index.tensor_names(), names);
            const io::Checkpoint one(folder / file_names[1]);
            QCOMPARE(one.files().size(), std::size_t(1));
            QVERIFY(one.tensor_names().size() < names.size());
            for (const auto& n : one.tensor_names())
                QVERIFY(ckpt.file_of(n).path() == one.files()[0]);
        }
    }

    // The real fixture: 47 tensors of stories260K, HF names, shapes from its README.
    void stories260KFixture() {
        MESWITCH_REQUIRE_FIXTURE(folder, "stories260K-hf");
        const io::Checkpoint ckpt(folder);
        QCOMPARE(ckpt.files().size(), std::size_t(1));
        const auto& file = ckpt.shards()[0];
        QCOMPARE(file.tensors().size(), std::size_t(47));
        QCOMPARE(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
        QVERIFY(!ckpt.contains("lm_head.weight"));  // tied to the embeddings

        std::map<std::string, std::vector<std::int64_t>> shapes = {
            {"model.embed_tokens.weight", {512, 64}}, {"model.norm.weight", {64}}};
        for (int l = 0; l < 5; ++l) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            shapes[p + "self_attn.q_proj.weight"] = {64, 64};
            shapes[p + "self_attn.k_proj.weight"] = {32, 64};
            shapes[p + "self_attn.v_proj.weight"] = {32, 64};
            shapes[p + "self_attn.o_proj.weight"] = {64, 64};
            shapes[p + "mlp.gate_proj.weight"] = {172, 64};
            shapes[p + "mlp.up_proj.weight"] = {172, 64};
            shapes[p + "mlp.down_proj.weight"] = {64, 172};
            shapes[p + "input_layernorm.weight"] = {64};
            shapes[p + "post_attention_layernorm.weight"] = {64};
        }
        QCOMPARE(shapes.size(), std::size_t(47));
        std::int64_t params = 0;
        std::vector<std::string> header_order;
        for (const auto& info : file.tensors()) {
            header_order.push_back(info.name);
            QVERIFY2(shapes.count(info.name), info.name.c_str());
            QCOMPARE(info.shape, shapes[info.name]);
            QCOMPARE(info.dtype, DType::f32);
            const TensorView v = file.view(info);
            params += v.numel();
            std::vector<float> values(std::size_t(v.numel()));
            convert_to_f32(v.dtype, v.data, values.data(), values.size());
            for (float x : values) QVERIFY(std::isfinite(x));
        }
        QCOMPARE(params, std::int64_t(260032));
        QCOMPARE(ckpt.total_data_bytes(), std::uint64_t(260032 * 4));
        QVERIFY(std::is_sorted(header_order.begin(), header_order.end()));  // "name order"
        // RMSNorm weights of a trained model are not the zeros of a broken reader.
        const TensorView norm = ckpt.view("model.norm.weight");
        float first;
        std::memcpy(&first, norm.data, 4);
        QVERIFY(first != 0.0f);
    }

    void checkpointDiscoveryErrors() {
        EXPECT_ERROR((void)io::Checkpoint(dir("gone") / "nothing-here"), ErrorKind::not_found,
                     {"nothing-here", "no such file or folder"});
        const fs::path empty = dir("empty-model");
        write_bytes(empty / "config.json", "{}");
        EXPECT_ERROR((void)io::Checkpoint(empty), ErrorKind::not_found,
                     {"empty-model", "no model weights found"});

        const fs::path pickled = dir("pickled-model");
        write_bytes(pickled / "config.json", "{}");
        write_bytes(pickled / "pytorch_model.bin", "PK\x03\x04 not really");
        const std::string message =
            expect_error([&] { io::Checkpoint c(pickled); }, ErrorKind::unsupported,
                         {"pickled-model", "only pickled PyTorch weights (pytorch_model.bin) found",
                          "arbitrary code", "safe_serialization=True"},
                         __FILE__, __LINE__);
        if (message.empty()) return;
        const fs::path sharded_pickle = dir("pickled-sharded");
        write_bytes(sharded_pickle / "pytorch_model-00001-of-00002.bin", "x");
        write_bytes(sharded_pickle / "pytorch_model.bin.index.json", "{}");
        EXPECT_ERROR((void)io::Checkpoint(sharded_pickle), ErrorKind::unsupported,
                     {"pickled-sharded", "pytorch_model", "pickled"});
        const fs::path pt = dir("pt") / "weights.pt";
        write_bytes(pt, "x");
        EXPECT_ERROR((void)io::Checkpoint(pt), ErrorKind::unsupported, {"weights.pt", "pickled"});
        const fs::path ckpt_file = dir("ckpt") / "last.ckpt";
        write_bytes(ckpt_file, "x");
        EXPECT_ERROR((void)io::Checkpoint(ckpt_file.parent_path()), ErrorKind::unsupported,
                     {"only pickled PyTorch weights (last.ckpt)"});
        const fs::path txt = dir("txt") / "notes.txt";
        write_bytes(txt, "x");
        EXPECT_ERROR((void)io::Checkpoint(txt), ErrorKind::unsupported,
                     {"notes.txt", "not a safetensors"});

        // Other safetensors names are not guessed at, but the message says how to use them.
        const fs::path other = dir("adapter");
        const float x = 1.0f;
        io::write_safetensors(other / "adapter_model.safetensors",
                              {{"a", DType::f32, {1}, &x, {}}});
        EXPECT_ERROR((void)io::Checkpoint(other), ErrorKind::not_found,
                     {"adapter", "adapter_model.safetensors", "pass the .safetensors file"});
        QCOMPARE(io::Checkpoint(other / "adapter_model.safetensors").tensor_names(),
                 std::vector<std::string>{"a"});

        // A folder is not a safetensors file; a missing file is an I/O error.
        EXPECT_ERROR(io::SafetensorsFile f(other), ErrorKind::io, {"adapter", "folder"});
        EXPECT_ERROR(io::SafetensorsFile f(other / "missing.safetensors"), ErrorKind::io,
                     {"missing.safetensors", "cannot open"});
    }

    void movedFilesKeepTheirViews() {
        const fs::path file = dir("move") / "m.safetensors";
        const std::int32_t v[3] = {4, 5, 6};
        io::write_safetensors(file, {{"v", DType::i32, {3}, v, {}}});
        io::SafetensorsFile a(file);
        const TensorView before = a.view("v");
        io::SafetensorsFile b(std::move(a));
        QCOMPARE(b.view("v").data, before.data);  // the mapping moved, not copied
        std::vector<io::SafetensorsFile> many;
        for (int i = 0; i < 20; ++i) many.emplace_back(file);  // reallocation moves them
        std::int32_t last;
        std::memcpy(&last, many.front().view("v").data + 8, 4);
        QCOMPARE(last, 6);
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
