// Hostile and damaged safetensors files and shard indexes: each must give a meswitch::Error
// of the right kind naming the file and the problem, never a crash; plus a mutation fuzz loop.
// The data area must be tiled exactly by the tensors (no hole, overlap or trailing bytes).

#include <QtTest>

#include <unistd.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "delta/msd/msd_file.h"
#include "io/safetensors.h"
#include "io_test_util.h"
#include "meswitch/model.h"
#include "tiny_model.h"

using namespace meswitch;
using namespace meswitch::test;
namespace fs = std::filesystem;

namespace {

// Opens the file and reads every byte of every tensor, so a sanitizer sees any bad view.
std::uint64_t open_and_touch(const fs::path& file) {
    const io::SafetensorsFile f(file);
    std::uint64_t sum = 0;
    for (const auto& info : f.tensors()) {
        const TensorView v = f.view(info);
        for (std::size_t i = 0; i < v.nbytes; ++i) sum += std::uint64_t(v.data[i]);
    }
    for (const auto& [k, v] : f.metadata()) sum += k.size() + v.size();
    return sum;
}

std::uint64_t open_checkpoint_and_touch(const fs::path& folder) {
    const io::Checkpoint c(folder);
    std::uint64_t sum = 0;
    for (const auto& name : c.tensor_names()) {
        const TensorView v = c.view(name);
        for (std::size_t i = 0; i < v.nbytes; ++i) sum += std::uint64_t(v.data[i]);
    }
    return sum;
}

}  // namespace

class TestSafetensorsHostile : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    fs::path m_dir;
    int m_counter = 0;

    // A fresh file with the given bytes; the name shows up in every expected message.
    fs::path file_with(std::string_view bytes) {
        const fs::path p = m_dir / ("hostile-" + std::to_string(m_counter++) + ".safetensors");
        write_bytes(p, bytes);
        return p;
    }

    // Expects Error(format) from a file holding `header` (+ `data`), with `needles` in the
    // message besides the file name.
    void expect_format(std::string_view header, std::string_view data,
                       std::initializer_list<std::string_view> needles, int line,
                       ErrorKind kind = ErrorKind::format) {
        const fs::path p = file_with(safetensors_bytes(header, data));
        const std::string name = p.filename().string();
        const std::string message =
            expect_error([&] { open_and_touch(p); }, kind, needles, __FILE__, line);
        if (!message.empty() && message.find(name) == std::string::npos)
            QTest::qFail(qPrintable(QString("message does not name the file: %1")
                                        .arg(QString::fromStdString(message))),
                         __FILE__, line);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_dir = m_tmp.path().toStdString();
    }

    void tooShortFiles() {
        for (int n = 0; n < 8; ++n) {
            const fs::path p = file_with(std::string(std::size_t(n), '\x01'));
            EXPECT_ERROR(open_and_touch(p), ErrorKind::format,
                         {p.filename().string(), std::to_string(n) + " bytes", "too short"});
        }
    }

    void headerLength() {
        const std::string header = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
        // Zero, beyond the file, 2^63, and just one byte too long.
        for (std::uint64_t len : {std::uint64_t(0), std::uint64_t(9999999), std::uint64_t(1) << 63,
                                  std::uint64_t(header.size() + 3)}) {
            const fs::path p = file_with(le64(len) + header + "xy");
            if (len == 0)
                EXPECT_ERROR(open_and_touch(p), ErrorKind::format, {p.filename().string(), "is 0"});
            else
                EXPECT_ERROR(open_and_touch(p), ErrorKind::format,
                             {p.filename().string(), "header length " + std::to_string(len),
                              "exceeds the file size (" + std::to_string(8 + header.size() + 2) +
                                  " bytes)"});
        }
        // Within the file but above the limit (sparse file: no 100 MiB written).
        const fs::path big = m_dir / "big-header.safetensors";
        write_bytes(big, le64(io::SafetensorsFile::max_header_bytes + 1) + "{");
        QVERIFY(::truncate(big.c_str(), off_t(io::SafetensorsFile::max_header_bytes + 64)) == 0);
        EXPECT_ERROR(open_and_touch(big), ErrorKind::format,
                     {"big-header.safetensors", "exceeds the limit"});
        fs::remove(big);
    }

    void headerNotAnObject() {
        expect_format("this is not json", {}, {"header is not valid JSON"}, __LINE__);
        expect_format(R"({"a": {"dtype": "F32", )", {}, {"not valid JSON"}, __LINE__);
        expect_format(R"([1, 2, 3])", {}, {"array", "expected an object"}, __LINE__);
        expect_format(R"("text")", {}, {"string", "expected an object"}, __LINE__);
        expect_format("{\"a\xFF\": 1}", {}, {"not valid JSON"}, __LINE__);  // bad UTF-8
        expect_format(R"({"a": 1}   )" + std::string(1, '\0'), {}, {"not valid JSON"}, __LINE__);
        expect_format(std::string(20000, '[') + std::string(20000, ']'), {}, {"nested"}, __LINE__);
        expect_format(R"({"a": 5})", {}, {"tensor 'a'", "expected an object"}, __LINE__);
    }

    void badEntries() {
        expect_format(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "no dtype"}, __LINE__);
        expect_format(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "dtype"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "unknown dtype 'F33'"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "unsupported dtype F8_E4M3"}, __LINE__,
                      ErrorKind::unsupported);
        expect_format(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "no shape"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "not an array"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "negative shape dimension -1"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "1.5"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "non-negative integer"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "non-negative integer"}, __LINE__);
        expect_format(
            R"({"w":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})", "abcd",
            {"tensor 'w'", "too large"}, __LINE__);
        expect_format(
            R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})",
            "abcd", {"tensor 'w'", "overflows"}, __LINE__);
        expect_format(
            R"({"w":{"dtype":"F64","shape":[1152921504606846976, 2],"data_offsets":[0,4]}})",
            "abcd", {"tensor 'w'", "overflows"}, __LINE__);  // elements fit, bytes do not
        expect_format(R"({"w":{"dtype":"F32","shape":[1]}})", "abcd",
                      {"tensor 'w'", "no data_offsets"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "abcd",
                      {"tensor 'w'", "data_offsets [0]"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "abcd",
                      {"tensor 'w'", "non-negative"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", "abcd",
                      {"tensor 'w'", "[0, 8]", "beyond the data area (4 bytes)"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", "abcd",
                      {"tensor 'w'", "[4, 0]", "begin > end"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd",
                      {"tensor 'w'", "[2]", "8 bytes", "span 4 bytes"}, __LINE__);
        expect_format(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"dtype":"F16"}})",
                      "abcd", {"repeats the key 'dtype'"}, __LINE__);
    }

    void overlapsAndDuplicates() {
        const std::string data(32, 'x');
        expect_format(R"({"y":{"dtype":"U8","shape":[16],"data_offsets":[0,16]},)"
                      R"("x":{"dtype":"U8","shape":[10],"data_offsets":[10,20]}})",
                      data, {"tensor 'x' data_offsets [10, 20] overlap tensor 'y' [0, 16]"},
                      __LINE__);
        expect_format(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                      data, {"overlap"}, __LINE__);
        expect_format(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                      R"("w":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})",
                      data, {"duplicate tensor name 'w'"}, __LINE__);
        // Allowed: an empty tensor where one tensor ends and the next begins (or at the end),
        // in any header order, as long as the tensors tile the data area exactly.
        const fs::path ok = file_with(
            safetensors_bytes(R"({"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},)"
                              R"("b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},)"
                              R"("z":{"dtype":"U8","shape":[0],"data_offsets":[8,8]},)"
                              R"("a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
                              std::string_view(data).substr(0, 8)));
        const io::SafetensorsFile f(ok);
        QCOMPARE(f.tensors().size(), std::size_t(4));
        QCOMPARE(f.view("e").nbytes, std::size_t(0));
        QCOMPARE(f.data_bytes(), std::uint64_t(8));
    }

    // The format requires the data_offsets to cover the data area exactly: a hole, an
    // overlap, or bytes after the last tensor (a file with bytes inserted or appended) are
    // refused naming the file and the tensors around the problem.
    void dataAreaCoverage() {
        const std::string two = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                R"("b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}})";
        expect_format(two, std::string(12, 'x'),
                      {"data area bytes [4, 8) belong to no tensor",
                       "a hole between tensor 'a' and tensor 'b'"},
                      __LINE__);
        expect_format(R"({"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})", "12345678",
                      {"data area bytes [0, 4) belong to no tensor", "before tensor 'b'"},
                      __LINE__);
        expect_format(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", "abcdXY",
                      {"the data area holds 6 bytes but the tensors end at 4",
                       "tensor 'a' is the last", "2 bytes belong to no tensor"},
                      __LINE__);
        expect_format(R"({"__metadata__":{"format":"pt"}})", "junk",
                      {"holds 4 bytes", "the header lists none"}, __LINE__);
        // An empty tensor inside another one overlaps it, as in the reference implementation.
        expect_format(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                      R"("e":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}})",
                      "abcd", {"tensor 'e' data_offsets [2, 2] overlap tensor 'a' [0, 4]"},
                      __LINE__);
        expect_format(R"({"a":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4]},)"
                      R"("b":{"dtype":"U8","shape":[4],"data_offsets":[3,7]}})",
                      "abcdefg", {"tensor 'b' data_offsets [3, 7] overlap tensor 'a' [0, 4]"},
                      __LINE__);
    }

    // Four bytes inserted into the data area of a real checkpoint shift every tensor after
    // them; the header is untouched, so only the coverage rule can tell. The same file opened
    // as a delta artifact (.msd) goes through the same checks.
    void shiftedDataArea() {
        const fs::path folder = m_dir / "shift-src";
        TinyModelSpec spec;
        spec.layers = 1;
        write_tiny_model(folder, spec);
        const std::string full = read_bytes(folder / "model.safetensors");
        std::uint64_t header_len = 0;
        std::memcpy(&header_len, full.data(), 8);
        const std::size_t data_start = std::size_t(8 + header_len);
        const io::SafetensorsFile original(folder / "model.safetensors");
        std::string last;
        std::uint64_t last_end = 0;
        for (const auto& t : original.tensors())
            if (t.end >= last_end) last = t.name, last_end = t.end;
        for (const std::size_t at : {data_start, data_start + 100, full.size() / 2, full.size()}) {
            std::string shifted = full;
            shifted.insert(at, "\x01\x02\x03\x04", 4);
            const fs::path p = file_with(shifted);
            EXPECT_ERROR(open_and_touch(p), ErrorKind::format,
                         {p.filename().string(), "4 bytes belong to no tensor",
                          "tensor '" + last + "' is the last", "bytes inserted or appended"});
            EXPECT_ERROR((void)delta::MsdFile(p), ErrorKind::format,
                         {p.filename().string(), "4 bytes belong to no tensor"});
            // The model folder with the shifted file does not load either.
            const fs::path model = m_dir / ("shift-model-" + std::to_string(at));
            write_tiny_model(model, spec);
            write_bytes(model / "model.safetensors", shifted);
            EXPECT_ERROR((void)Model::load(model), ErrorKind::format,
                         {"model.safetensors", "4 bytes belong to no tensor"});
        }
        QVERIFY(Model::load(folder).config().num_hidden_layers == 1);
    }

    // Repeated keys are refused at every depth of the header, not only tensor names.
    void duplicateKeysAtEveryDepth() {
        expect_format(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4],)"
                      R"("extra":{"k":1,"k":2}}})",
                      "abcd", {"'k'"}, __LINE__);
        expect_format(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                      R"("__metadata__":{"format":"pt"},"__metadata__":{"format":"pt"}})",
                      "abcd", {"'__metadata__'"}, __LINE__);
        expect_format(R"({"w":{"dtype":"U8","shape":[4],"shape":[4],"data_offsets":[0,4]}})",
                      "abcd", {"repeats the key 'shape'"}, __LINE__);
        expect_format(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"q":1e400})", "abcd",
                      {"key 'q'", "number out of range: 1e400"}, __LINE__);
    }

    void badMetadata() {
        expect_format(R"({"__metadata__":{"format":"pt","step":5}})", {},
                      {"__metadata__", "'step'", "expected a string"}, __LINE__);
        expect_format(R"({"__metadata__":["pt"]})", {}, {"__metadata__", "expected an object"},
                      __LINE__);
        expect_format(R"({"__metadata__":{"a":"1","a":"2"}})", {}, {"'a'"}, __LINE__);
        const fs::path ok = file_with(safetensors_bytes(R"({"__metadata__":{}})"));
        QVERIFY(io::SafetensorsFile(ok).tensors().empty());
    }

    // A valid file cut anywhere before its end is refused; with bytes appended it is fine.
    void truncatedFiles() {
        const fs::path folder = m_dir / "truncate-src";
        TinyModelSpec spec;
        spec.layers = 1;
        spec.dtype = DType::bf16;
        write_tiny_model(folder, spec);
        const std::string full = read_bytes(folder / "model.safetensors");
        QVERIFY(full.size() > 1000);
        for (std::size_t cut :
             {std::size_t(0), std::size_t(3), std::size_t(8), std::size_t(9), std::size_t(100),
              full.size() / 3, full.size() / 2, full.size() - 100, full.size() - 1}) {
            const fs::path p = file_with(full.substr(0, cut));
            EXPECT_ERROR(open_and_touch(p), ErrorKind::format, {p.filename().string()});
        }
        QVERIFY(open_and_touch(file_with(full)) > 0);
        const fs::path appended = file_with(full + "trailing bytes");
        EXPECT_ERROR(open_and_touch(appended), ErrorKind::format,
                     {appended.filename().string(), "14 bytes belong to no tensor"});
    }

    void hostileIndex() {
        TinyModelSpec spec;
        spec.shards = 2;
        const auto shard_names = tiny_model_weight_files(spec);
        int n = 0;
        auto model_with_index = [&](const std::string& index_text) {
            const fs::path folder = m_dir / ("index-" + std::to_string(n++));
            write_tiny_model(folder, spec);
            write_bytes(folder / "model.safetensors.index.json", index_text);
            return folder;
        };
        const std::string first = shard_names[0];
        const std::string q0 = "model.layers.0.self_attn.q_proj.weight";
        for (const std::string& evil :
             {std::string("../../etc/passwd"), std::string("/etc/passwd"), std::string(".."),
              std::string("sub/model.safetensors"), std::string("a\\b"), std::string("")}) {
            nlohmann::json index = {{"weight_map", {{q0, evil}}}};
            const fs::path folder = model_with_index(index.dump());
            EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                         {"model.safetensors.index.json", "not a plain file name"});
        }
        {
            const fs::path folder = model_with_index(
                nlohmann::json{{"weight_map", {{q0, "model-00009-of-00009.safetensors"}}}}.dump());
            EXPECT_ERROR(
                (void)io::Checkpoint(folder), ErrorKind::not_found,
                {"model.safetensors.index.json", "model-00009-of-00009.safetensors", "missing"});
        }
        {  // listed in the index, absent from its shard
            const fs::path folder = model_with_index(
                nlohmann::json{{"weight_map", {{"model.ghost.weight", first}}}}.dump());
            EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                         {"'model.ghost.weight'", first, "no such tensor"});
        }
        {  // a shard holds tensors the index does not list
            const fs::path folder = model_with_index(
                nlohmann::json{{"weight_map", {{"model.embed_tokens.weight", first}}}}.dump());
            EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                         {first, "which weight_map does not list"});
        }
        {  // the same tensor in both shards
            const fs::path folder = m_dir / "dup-across-shards";
            write_tiny_model(folder, spec);
            const std::vector<float> one = {1.0f};
            io::write_safetensors(folder / shard_names[1],
                                  {{"model.embed_tokens.weight", DType::f32, {1}, one.data(), {}}});
            // Shard 0 keeps its tensors (embed included); shard 1 now holds embed only.
            const io::SafetensorsFile s0(folder / first);
            nlohmann::json index = {{"weight_map", nlohmann::json::object()}};
            for (const auto& t : s0.tensors()) index["weight_map"][t.name] = first;
            index["weight_map"]["model.embed_tokens.weight"] = shard_names[1];
            write_bytes(folder / "model.safetensors.index.json", index.dump());
            EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                         {"'model.embed_tokens.weight'", "in both shard"});
        }
        {  // the index names the wrong shard for a tensor that is in the other shard
            const fs::path folder = m_dir / "wrong-shard";
            write_tiny_model(folder, spec);
            auto index = nlohmann::json::parse(read_bytes(folder / "model.safetensors.index.json"));
            std::string moved, actual;
            for (auto& [tensor, shard] : index["weight_map"].items())
                if (shard == shard_names[1]) {
                    moved = tensor;
                    actual = shard.get<std::string>();
                    shard = first;
                    break;
                }
            QVERIFY(!moved.empty());
            write_bytes(folder / "model.safetensors.index.json", index.dump());
            EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                         {"model.safetensors.index.json", "'" + moved + "'",
                          "in shard '" + first + "'", "it is in shard '" + actual + "'"});
            EXPECT_ERROR((void)Model::load(folder), ErrorKind::format,
                         {"model.safetensors.index.json", "'" + moved + "'"});
        }
        {  // the index lists only shard 1: shard 2 beside it would be silently ignored
            const fs::path folder = m_dir / "unlisted-shard";
            write_tiny_model(folder, spec);
            const io::SafetensorsFile s0(folder / first);
            nlohmann::json index = {{"weight_map", nlohmann::json::object()}};
            for (const auto& t : s0.tensors()) index["weight_map"][t.name] = first;
            write_bytes(folder / "model.safetensors.index.json", index.dump());
            EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                         {"model.safetensors.index.json",
                          "lists no tensor of shard '" + shard_names[1] + "'"});
        }
        const std::string dup = "{\"weight_map\": {\"" + q0 + "\": \"" + first + "\", \"" + q0 +
                                "\": \"" + shard_names[1] + "\"}}";
        EXPECT_ERROR((void)io::Checkpoint(model_with_index(dup)), ErrorKind::format,
                     {"'" + q0 + "'", "listed twice"});
        EXPECT_ERROR((void)io::Checkpoint(model_with_index("{\"weight_map\": [1]}")),
                     ErrorKind::format, {"weight_map is not an object"});
        EXPECT_ERROR((void)io::Checkpoint(model_with_index("{\"metadata\": {}}")),
                     ErrorKind::format, {"has no weight_map"});
        EXPECT_ERROR((void)io::Checkpoint(model_with_index("{\"weight_map\": {}}")),
                     ErrorKind::format, {"lists no tensors"});
        EXPECT_ERROR((void)io::Checkpoint(model_with_index("{\"weight_map\": {\"a\": 3}}")),
                     ErrorKind::format, {"'a'", "not a file name"});
        EXPECT_ERROR((void)io::Checkpoint(model_with_index("not json")), ErrorKind::format,
                     {"model.safetensors.index.json", "not valid JSON"});
    }

    // Deterministic random mutations of a small valid file and of a shard index: every
    // outcome is a load or a meswitch::Error; anything else (or a crash) fails.
    void mutationFuzz() {
        const fs::path src = m_dir / "fuzz-src.safetensors";
        const std::vector<float> f = {1, 2, 3, 4, 5, 6};
        const std::vector<std::uint16_t> h = {1, 2, 3};
        const std::vector<std::int64_t> l = {7, 8};
        io::write_safetensors(src,
                              {{"w.f32", DType::f32, {2, 3}, f.data(), {}},
                               {"w.f16", DType::f16, {3}, h.data(), {}},
                               {"w.i64", DType::i64, {2}, l.data(), {}}},
                              {{"format", "pt"}});
        const std::string original = read_bytes(src);
        std::uint64_t header_len = 0;
        std::memcpy(&header_len, original.data(), 8);
        const fs::path target = m_dir / "fuzz.safetensors";
        std::uint64_t rng = 0xF00D;
        int loaded = 0, refused = 0;
        for (int round = 0; round < 4000; ++round) {
            std::string bytes = original;
            const int kind = int(splitmix64(rng) % 6);
            const int edits = 1 + int(splitmix64(rng) % 4);
            for (int e = 0; e < edits; ++e) {
                const std::uint64_t r = splitmix64(rng);
                // Mostly in the length and JSON header, where the parsing happens.
                const std::size_t span = (r & 3) ? std::size_t(8 + header_len) : bytes.size();
                const std::size_t pos =
                    bytes.empty() ? 0 : std::size_t(r >> 8) % std::min(span, bytes.size());
                if (bytes.empty()) break;
                if (kind == 0)
                    bytes[pos] = char(bytes[pos] ^ char(1 << ((r >> 4) & 7)));
                else if (kind == 1)
                    bytes[pos] = char(r >> 32);
                else if (kind == 2)
                    bytes.resize(pos);
                else if (kind == 3)
                    bytes[pos] = "0123456789[]{},:\"-.eE "[(r >> 32) % 22];
                else if (kind == 4)
                    bytes.insert(pos, 1, "0123456789,]}\""[(r >> 32) % 14]);
                else
                    bytes.erase(pos, 1 + (r >> 40) % 4);
            }
            write_bytes(target, bytes);
            try {
                open_and_touch(target);
                ++loaded;
            } catch (const Error&) {
                ++refused;
            } catch (const std::exception& e) {
                QFAIL(qPrintable(
                    QString("round %1: non-meswitch exception %2").arg(round).arg(e.what())));
            }
        }
        qInfo("safetensors mutations: %d loaded, %d refused", loaded, refused);
        QVERIFY(refused > 1000);  // the mutations do reach the validation
        QVERIFY(loaded > 0);

        TinyModelSpec spec;
        spec.shards = 3;
        const fs::path folder = m_dir / "fuzz-index";
        write_tiny_model(folder, spec);
        const std::string index = read_bytes(folder / "model.safetensors.index.json");
        int index_refused = 0;
        for (int round = 0; round < 600; ++round) {
            std::string bytes = index;
            const std::uint64_t r = splitmix64(rng);
            const std::size_t pos = std::size_t(r >> 8) % bytes.size();
            if (r & 1)
                bytes[pos] = "./\\0\"{}[]:,x-"[(r >> 32) % 13];
            else
                bytes.erase(pos, 1 + (r >> 40) % 8);
            write_bytes(folder / "model.safetensors.index.json", bytes);
            try {
                open_checkpoint_and_touch(folder);
            } catch (const Error&) {
                ++index_refused;
            } catch (const std::exception& e) {
                QFAIL(qPrintable(
                    QString("index round %1: non-meswitch exception %2").arg(round).arg(e.what())));
            }
        }
        QVERIFY(index_refused > 300);
    }
};

QTEST_GUILESS_MAIN(TestSafetensorsHostile)
#include "test_safetensors_hostile.moc"
