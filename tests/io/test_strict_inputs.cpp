// Bad user input is refused with a message that names the file and the key, tensor or row,
// in plain words, and never crashes: repeated keys, numbers out of range and invalid JSON in
// every JSON file a user hands us (config.json, tokenizer.json, tokenizer_config.json, the
// shard index, the demo pack.json), configs that disagree with their weights, and catalog
// rows whose text is not UTF-8 (the listing goes on, warning about the row).

#include <QProcess>
#include <QtTest>

#include <sqlite3.h>

#include <chrono>
#include <fstream>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "io/strict_json.h"
#include "io_test_util.h"
#include "meswitch/catalog.h"
#include "meswitch/demo.h"
#include "meswitch/import.h"
#include "meswitch/model.h"
#include "meswitch/paths.h"
#include "meswitch/tokenizer.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace meswitch;
using namespace meswitch::test;
namespace fs = std::filesystem;

namespace {

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    if (at == std::string::npos) return "(test bug: '" + from + "' not found)";
    return s.replace(at, from.size(), to);
}

// The text before the closing brace of a JSON object, + `, extra}`.
std::string with_field(const std::string& object_text, const std::string& extra) {
    const auto close = object_text.rfind('}');
    return object_text.substr(0, close) + ", " + extra + "}";
}

// No raw nlohmann wording may reach the user.
void expect_plain(const std::string& message) {
    QVERIFY2(message.find("json.exception") == std::string::npos, message.c_str());
    QVERIFY2(message.find("last read") == std::string::npos, message.c_str());
}

struct TensorToWriteSpec {
    std::string name;
    std::vector<std::int64_t> shape;
};

// Rewrites the single-file checkpoint of `folder` with its tensors plus `extra` (F32 zeros).
void add_tensors(const fs::path& folder, const std::vector<TensorToWriteSpec>& extra) {
    const fs::path file = folder / "model.safetensors";
    std::vector<std::vector<std::byte>> copies;
    std::vector<io::TensorToWrite> tensors;
    {
        const io::SafetensorsFile in(file);
        copies.reserve(in.tensors().size() + extra.size());
        for (const auto& t : in.tensors()) {
            const TensorView v = in.view(t);
            copies.emplace_back(v.data, v.data + v.nbytes);
            tensors.push_back({t.name, t.dtype, t.shape, copies.back().data(), {}});
        }
    }
    for (const auto& e : extra) {
        std::size_t n = 1;
        for (auto d : e.shape) n *= std::size_t(d);
        copies.emplace_back(n * 4, std::byte{0});
        tensors.push_back({e.name, DType::f32, e.shape, copies.back().data(), {}});
    }
    io::write_safetensors(file, tensors);
}

struct CliRun {
    int exit_code = -1;
    std::string out, err;
};

CliRun run_cli(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(MESWITCH_CLI_PATH), args);
    if (!p.waitForFinished(60000)) p.kill();
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
}

}  // namespace

class TestStrictInputs : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    fs::path m_dir;
    int m_counter = 0;

    // A fresh tiny Llama folder (2 layers) for each case.
    fs::path tiny_model(const TinyModelSpec& spec = {}) {
        const fs::path folder = m_dir / ("model-" + std::to_string(m_counter++));
        write_tiny_model(folder, spec);
        return folder;
    }

    // Expects Model::load (and the import inspection) of `folder` to fail with `needles`.
    void expect_load_error(const fs::path& folder, std::initializer_list<std::string_view> needles,
                           int line) {
        const std::string message = expect_error([&] { (void)Model::load(folder); },
                                                 ErrorKind::format, needles, __FILE__, line);
        expect_plain(message);
        const ModelInspection insp = inspect_model(folder, nullptr);
        std::string all;
        for (const auto& p : insp.problems) all += p + "\n";
        for (std::string_view needle : needles)
            if (all.find(needle) == std::string::npos)
                QTest::qFail(
                    qPrintable(QString("inspection lacks \"%1\": %2")
                                   .arg(QString::fromUtf8(needle.data(), int(needle.size())),
                                        QString::fromStdString(all))),
                    __FILE__, line);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_dir = m_tmp.path().toStdString();
    }

    // --- config.json ---------------------------------------------------------------------

    void configDuplicateKeys() {
        const fs::path folder = tiny_model();
        const std::string config = read_bytes(folder / "config.json");
        write_bytes(folder / "config.json", with_field(config, R"("num_hidden_layers": 1)"));
        const std::string m = expect_error(
            [&] { (void)parse_model_config(folder / "config.json"); }, ErrorKind::format,
            {(folder / "config.json").string(), "the key 'num_hidden_layers' appears twice"},
            __FILE__, __LINE__);
        if (m.empty()) return;
        expect_plain(m);
        // Nested: inside rope_scaling.
        EXPECT_ERROR((void)parse_model_config_text(
                         with_field(config, R"("rope_scaling": {"type": "linear", "factor": 2,)"
                                            R"( "factor": 4})"),
                         "x/config.json"),
                     ErrorKind::format,
                     {"x/config.json", "the key 'factor' appears twice in 'rope_scaling'"});
    }

    void configNumbersOutOfRange() {
        const fs::path folder = tiny_model();
        const std::string config = read_bytes(folder / "config.json");
        write_bytes(folder / "config.json", with_field(config, R"("rope_theta_extra": -1e400)"));
        const std::string m = expect_error(
            [&] { (void)parse_model_config(folder / "config.json"); }, ErrorKind::format,
            {(folder / "config.json").string(),
             "key 'rope_theta_extra': number out of range: -1e400"},
            __FILE__, __LINE__);
        expect_plain(m);
        EXPECT_ERROR(
            (void)parse_model_config_text(
                with_field(config, R"("rope_scaling": {"type": "linear", "factor": 1e999})"),
                "c/config.json"),
            ErrorKind::format,
            {"c/config.json", "key 'rope_scaling.factor': number out of range: 1e999"});
        // In range for JSON but not for the model: named by the field.
        const std::pair<const char*, const char*> bad_dims[] = {
            {"\"hidden_size\": -1", "field 'hidden_size' must be between 1 and"},
            {"\"hidden_size\": 0", "field 'hidden_size' must be between 1 and"},
            {"\"num_hidden_layers\": 0", "field 'num_hidden_layers' must be between 1 and"},
            {"\"num_hidden_layers\": 1e30", "field 'num_hidden_layers' is out of range"},
            {"\"vocab_size\": 18446744073709551615", "field 'vocab_size' is out of range"},
            {"\"intermediate_size\": 99999999999", "field 'intermediate_size' must be between"},
            {"\"num_attention_heads\": 2.5", "field 'num_attention_heads' must be an integer"},
        };
        const auto key_of = [](const std::string& field) {
            return field.substr(0, field.find(':'));
        };
        for (const auto& [field, needle] : bad_dims) {
            std::string text = config;
            const std::string key = key_of(field);
            const auto at = text.find(key);
            QVERIFY2(at != std::string::npos, field);
            const auto end = text.find_first_of(",}", at);
            text.replace(at, end - at, field);
            EXPECT_ERROR((void)parse_model_config_text(text, "dims/config.json"), ErrorKind::format,
                         {"dims/config.json", needle});
        }
        // Each dimension plausible, together absurd: refused before any buffer is sized.
        std::string huge = config;
        for (const auto& [key, value] :
             {std::pair<std::string, std::string>{"hidden_size", "65536"},
              {"intermediate_size", "1048576"},
              {"num_hidden_layers", "4096"},
              {"num_attention_heads", "64"},
              {"num_key_value_heads", "64"}}) {
            const auto at = huge.find("\"" + key + "\"");
            QVERIFY(at != std::string::npos);
            const auto end = huge.find_first_of(",}", at);
            huge.replace(at, end - at, "\"" + key + "\": " + value);
        }
        EXPECT_ERROR((void)parse_model_config_text(huge, "huge/config.json"), ErrorKind::format,
                     {"huge/config.json", "'num_hidden_layers' (4096)", "parameters"});
    }

    void configInvalidJson() {
        const std::string m = expect_error(
            [&] {
                (void)parse_model_config_text("{\n  \"hidden_size\": 64,\n  \"x\": tru\n}",
                                              "j/config.json");
            },
            ErrorKind::format, {"j/config.json: invalid JSON at line 3, column", "unexpected text"},
            __FILE__, __LINE__);
        expect_plain(m);
        EXPECT_ERROR((void)parse_model_config_text("{\"a\": 1,}", "k/config.json"),
                     ErrorKind::format,
                     {"k/config.json: invalid JSON at line 1, column 9",
                      "found '}' where a string in double quotes was expected"});
        EXPECT_ERROR((void)parse_model_config_text("{\"a\": [1, 2", "e/config.json"),
                     ErrorKind::format, {"e/config.json: invalid JSON", "the end of the text"});
        EXPECT_ERROR((void)parse_model_config_text("", "z/config.json"), ErrorKind::format,
                     {"z/config.json", "empty"});
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        EXPECT_ERROR((void)parse_model_config_text(deep, "deep/config.json"), ErrorKind::format,
                     {"deep/config.json", "nested more than"});
    }

    // The parser keeps its state on the heap: even with the depth limit lifted, 100,000
    // nested arrays parse (and are freed) without exhausting the call stack.
    void deepNestingIsIterative() {
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        io::StrictJsonOptions options;
        options.label = "deep.json";
        options.max_depth = 1 << 20;
        const auto value = io::parse_strict_json<nlohmann::json>(deep, options);
        QVERIFY(value.is_array());
        options.max_depth = 64;
        EXPECT_ERROR((void)io::parse_strict_json<nlohmann::json>(deep, options), ErrorKind::format,
                     {"deep.json", "nested more than 64 levels deep"});
    }

    // The fuzzers' saved findings for the files read here (tests/fuzz/regressions) run in
    // the sanitizer build only; replay them in every build: each must be refused with a
    // meswitch::Error naming the file, in plain words.
    void fuzzRegressions() {
        const fs::path root = fs::path(MESWITCH_SOURCE_DIR) / "tests/fuzz/regressions";
        if (!fs::exists(root)) QSKIP("tests/fuzz/regressions is absent");
        int replayed = 0;
        for (const char* target : {"model_config", "tokenizer_json", "chat_template"}) {
            if (!fs::exists(root / target)) continue;
            for (const auto& entry : fs::directory_iterator(root / target)) {
                const std::string name = entry.path().filename().string();
                // chat_template: only the tokenizer_config.json findings concern this parser.
                const auto stories = fixture("stories260K-hf/tokenizer.json");
                if (std::string(target) == "chat_template" &&
                    (name.rfind("tokenizer-config", 0) != 0 || !stories))
                    continue;
                const fs::path file = m_dir / ("regression-" + name);
                write_bytes(file, read_bytes(entry.path()));
                try {
                    if (std::string(target) == "model_config")
                        (void)parse_model_config(file);
                    else if (std::string(target) == "tokenizer_json")
                        (void)Tokenizer::from_files(file);
                    else
                        (void)Tokenizer::from_files(*stories, file);
                } catch (const Error& e) {
                    const std::string m = e.what();
                    QVERIFY2(m.find(file.string()) != std::string::npos, m.c_str());
                    expect_plain(m);
                }
                ++replayed;
            }
        }
        qInfo("replayed %d fuzz regressions", replayed);
        QVERIFY(replayed > 0);
    }

    // --- config vs weights --------------------------------------------------------------

    void layerCountMismatch() {
        TinyModelSpec spec;
        spec.layers = 3;
        const fs::path folder = tiny_model(spec);
        const std::string config = read_bytes(folder / "config.json");
        nlohmann::json c = nlohmann::json::parse(config);
        c["num_hidden_layers"] = 2;
        write_bytes(folder / "config.json", c.dump(2));
        expect_load_error(
            folder,
            {"model.layers.2.", "belongs to layer 2", "config.json has num_hidden_layers = 2"},
            __LINE__);
        // Fewer layers in the weights than the config: missing tensors, named.
        c["num_hidden_layers"] = 4;
        write_bytes(folder / "config.json", c.dump(2));
        expect_load_error(folder, {"missing tensor 'model.layers.3."}, __LINE__);
    }

    void unusedAndMismatchedTensors() {
        {  // a bias the config does not enable
            const fs::path folder = tiny_model();
            add_tensors(folder, {{"model.layers.0.self_attn.q_proj.bias", {32}}});
            expect_load_error(folder, {"tensor 'model.layers.0.self_attn.q_proj.bias' is not used"},
                              __LINE__);
        }
        {  // harmless extras load: rotary inv_freq buffers, lm_head beside tied embeddings
            TinyModelSpec spec;
            spec.tie_embeddings = true;
            const fs::path folder = tiny_model(spec);
            add_tensors(folder, {{"model.layers.0.self_attn.rotary_emb.inv_freq", {4}},
                                 {"lm_head.weight", {300, 32}}});
            QCOMPARE(Model::load(folder).config().num_hidden_layers, std::int64_t(2));
            QVERIFY(inspect_model(folder, nullptr).problems.empty());
        }
        {  // shapes that disagree with config.json
            const fs::path folder = tiny_model();
            nlohmann::json c = nlohmann::json::parse(read_bytes(folder / "config.json"));
            c["intermediate_size"] = 48;
            write_bytes(folder / "config.json", c.dump(2));
            expect_load_error(folder,
                              {"tensor 'model.layers.0.mlp.gate_proj.weight' has shape [64, 32]",
                               "config.json implies [48, 32]"},
                              __LINE__);
        }
    }

    // --- tokenizer files ------------------------------------------------------------------

    void tokenizerFiles() {
        const fs::path folder = tiny_model();
        const fs::path tj = folder / "tokenizer.json", tc = folder / "tokenizer_config.json";
        const std::string tokenizer = read_bytes(tj), config = read_bytes(tc);
        QVERIFY(Tokenizer::from_folder(folder).bos_id().has_value());

        struct Case {
            fs::path file;
            std::string text;
            std::vector<std::string> needles;
        };
        const std::vector<Case> cases = {
            {tj, with_field(tokenizer, R"("version": "1.0")"), {"the key 'version' appears twice"}},
            {tj,
             replace_once(tokenizer, "\"truncation\": null",
                          R"("truncation": {"max_length": -1e400})"),
             {"key 'truncation.max_length': number out of range: -1e400"}},
            {tj, tokenizer.substr(0, tokenizer.size() / 2), {"invalid JSON at line"}},
            {tc,
             with_field(config, R"("bos_token": "<s>")"),
             {"the key 'bos_token' appears twice"}},
            {tc,
             with_field(config, R"("model_max_length_x": 1e400)"),
             {"key 'model_max_length_x': number out of range: 1e400"}},
            {tc,
             "{\"add_bos_token\": true,\n \"bos_token\": \"<s>\"\n \"eos_token\": \"</s>\"}",
             {"invalid JSON at line 3, column 2", "where ',' or '}' was expected"}},
            {tj,
             std::string(100000, '[') + std::string(100000, ']'),
             {"nested more than 64 levels"}},
        };
        for (const Case& c : cases) {
            write_bytes(c.file, c.text);
            try {
                (void)Tokenizer::from_folder(folder);
                QFAIL(qPrintable(QString::fromStdString("accepted: " + c.text.substr(0, 80))));
            } catch (const Error& e) {
                const std::string m = e.what();
                QVERIFY2(m.find(c.file.string() + ":") == 0, m.c_str());
                for (const auto& n : c.needles) QVERIFY2(m.find(n) != std::string::npos, m.c_str());
                expect_plain(m);
            }
            write_bytes(tj, tokenizer);
            write_bytes(tc, config);
        }
        // A huge integer as HF writes for "no limit" is a valid number and loads.
        write_bytes(tc,
                    with_field(config, R"("model_max_length_y": 1000000000000000019884624838656)"));
        QVERIFY(Tokenizer::from_folder(folder).bos_id().has_value());
        write_bytes(tc, config);

        // tokenizer.json without "<s>": the message points at tokenizer.json as the likely
        // cause and names both files.
        nlohmann::json t = nlohmann::json::parse(tokenizer);
        t["model"]["vocab"].erase("<s>");
        nlohmann::json kept = nlohmann::json::array();
        for (const auto& a : t["added_tokens"])
            if (a["content"] != "<s>") kept.push_back(a);
        t["added_tokens"] = kept;
        write_bytes(tj, t.dump());
        EXPECT_ERROR((void)Tokenizer::from_folder(folder), ErrorKind::format,
                     {tc.string() + ": add_bos_token is true but bos_token '<s>'",
                      "is not a token of " + tj.string(), tj.string() + " may be damaged"});
        write_bytes(tj, tokenizer);
    }

    // Strict parsing of a real 1.9 MB tokenizer.json: same value as nlohmann's own parser,
    // and fast enough not to matter next to building the tokenizer.
    void strictParsingSpeed() {
        MESWITCH_REQUIRE_FIXTURE(dir, "tokenizers/mistral-7b");
        const fs::path file = dir / "tokenizer.json";
        const std::string text = read_bytes(file);
        io::StrictJsonOptions options;
        options.label = file.string();
        options.max_depth = 64;
        const auto t0 = std::chrono::steady_clock::now();
        const nlohmann::json strict = io::parse_strict_json<nlohmann::json>(text, options);
        const auto t1 = std::chrono::steady_clock::now();
        const nlohmann::json plain = nlohmann::json::parse(text);
        const auto t2 = std::chrono::steady_clock::now();
        QVERIFY(strict == plain);
        const double strict_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
        const double plain_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
        qInfo("strict parse of %s (%zu bytes): %.1f ms; nlohmann::json::parse: %.1f ms",
              file.string().c_str(), text.size(), strict_ms, plain_ms);
        QVERIFY2(strict_ms < 5 * plain_ms + 200, "strict parsing is far slower than nlohmann's");
        const Tokenizer tok = Tokenizer::from_files(file);
        QVERIFY(tok.vocab_size() >= 32000);
    }

    // --- shard index, demo pack -------------------------------------------------------------

    void indexStrict() {
        TinyModelSpec spec;
        spec.shards = 2;
        const fs::path folder = tiny_model(spec);
        const fs::path index = folder / "model.safetensors.index.json";
        const std::string text = read_bytes(index);
        write_bytes(index, replace_once(text, "{", "{\"metadata\": {\"total_size\": -1e400}, "));
        EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                     {index.string(), "key 'metadata.total_size': number out of range: -1e400"});
        write_bytes(index, replace_once(text, "{", "{\"weight_map\": {}, "));
        EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                     {index.string(), "'weight_map'", "twice"});
        write_bytes(index, text.substr(0, text.size() - 3));
        EXPECT_ERROR((void)io::Checkpoint(folder), ErrorKind::format,
                     {index.string(), "not valid JSON at line"});
    }

    void demoPackStrict() {
        const fs::path source = fs::path(MESWITCH_SOURCE_DIR) / "resources/demo/pack/pack.json";
        QVERIFY(fs::exists(source));
        const std::string text = read_bytes(source);
        const fs::path dir = m_dir / "pack";
        fs::create_directories(dir);
        const fs::path file = dir / "pack.json";
        write_bytes(file, with_field(text, R"("license": "GPL")"));
        EXPECT_ERROR((void)read_demo_pack(dir), ErrorKind::format,
                     {file.string(), "the key 'license' appears twice"});
        write_bytes(file, replace_once(text, "\"format\": 1", "\"format\": 1e400"));
        EXPECT_ERROR((void)read_demo_pack(dir), ErrorKind::format,
                     {file.string(), "key 'format': number out of range"});
        write_bytes(file, replace_once(text, "\"format\": 1,", "\"format\": 1"));
        EXPECT_ERROR((void)read_demo_pack(dir), ErrorKind::format,
                     {file.string(), "invalid JSON at line 3", "where ',' or '}' was expected"});
    }

    // --- catalog rows that are not UTF-8 ---------------------------------------------------

    void listingWithInvalidUtf8Row() {
        const fs::path home = m_dir / "home";
        fs::create_directories(home);
        std::int64_t bad_id = 0;
        {
            Catalog catalog(catalog_path(home));
            ModelRecord good;
            good.name = "good-model";
            good.path = "/models/good";
            good.architecture = "LlamaForCausalLM";
            good.dtype = "F32";
            catalog.add_model(good);
            ModelRecord bad = good;
            bad.name = "bad-model";
            bad.path = "/models/bad";
            bad_id = catalog.add_model(bad);
        }
        // Older versions or other tools may have stored bytes that are not UTF-8.
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(catalog_path(home).c_str(), &db), SQLITE_OK);
        const std::string sql =
            "UPDATE models SET name = CAST(X'6261642D' || X'FF' || X'6D6F64656C' AS TEXT) "
            "WHERE id = " +
            std::to_string(bad_id);
        char* err = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        const std::string why = err ? err : "";
        sqlite3_free(err);
        sqlite3_close(db);
        QVERIFY2(rc == SQLITE_OK, why.c_str());

        const CliRun r =
            run_cli({"--home", QString::fromStdString(home.string()), "list", "--json"});
        QVERIFY2(r.exit_code == 0, (r.out + r.err).c_str());
        const auto listing = nlohmann::json::parse(r.out);  // valid JSON (and UTF-8)
        QCOMPARE(listing["models"].size(), std::size_t(2));
        bool replaced = false;
        for (const auto& m : listing["models"])
            replaced = replaced || m["name"] == "bad-\xEF\xBF\xBDmodel";
        QVERIFY2(replaced, r.out.c_str());
        QVERIFY2(r.err.find("model " + std::to_string(bad_id)) != std::string::npos, r.err.c_str());
        QVERIFY2(r.err.find("field 'name' is not valid UTF-8") != std::string::npos, r.err.c_str());
        QVERIFY2(r.err.find("json.exception") == std::string::npos, r.err.c_str());

        // info --json with a data folder whose name is not UTF-8.
        const fs::path odd_home = m_dir / "home-\xFF";
        const CliRun info =
            run_cli({"--home", QString::fromLocal8Bit(odd_home.c_str()), "info", "--json"});
        QVERIFY2(info.exit_code == 0, (info.out + info.err).c_str());
        QVERIFY(nlohmann::json::parse(info.out).contains("data_home"));
    }
};

QTEST_GUILESS_MAIN(TestStrictInputs)
#include "test_strict_inputs.moc"
