// meswitch_fuzz_make_seeds OUT_DIR [FIXTURES_DIR]: writes the generated seed corpora of the
// fuzz targets to OUT_DIR/<target>/ (scripts/fuzz.sh and tests/fuzz/make_seeds.sh call it).
// From the shared fixtures when present: small safetensors files holding real tensors of
// stories260K (and its real 47-tensor header over a cut data area), .msd artifacts that
// compress slices of a real expert's delta, the fixtures' config.json files, shrunken copies
// of the real tokenizer.json files, real eval text, and every template of tests/chat/data
// inside a real tokenizer_config.json. Without fixtures: synthetic equivalents. The seeds are
// small on purpose (libFuzzer mutates faster, and its default -max_len follows the largest).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "delta/msd/msd_file.h"
#include "delta/quant/calibration.h"
#include "delta/quant/quantize.h"
#include "io/safetensors.h"
#include "meswitch/error.h"

using namespace meswitch;
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

fs::path g_out;
std::optional<fs::path> g_fixtures;
int g_written = 0;

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_seed(const std::string& target, const std::string& name, const std::string& bytes) {
    const fs::path dir = g_out / target;
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
    ++g_written;
}

std::optional<fs::path> fixture(const std::string& sub) {
    if (!g_fixtures) return std::nullopt;
    const fs::path p = *g_fixtures / sub;
    if (!fs::exists(p)) return std::nullopt;
    return p;
}

// Values of a tensor as f32 (f32/f16/bf16 views).
std::vector<float> widen(const TensorView& v) {
    std::vector<float> out(std::size_t(v.numel()));
    convert_to_f32(v.dtype, v.data, out.data(), out.size());
    return out;
}

// ------------------------------------------------------------------------ safetensors

void safetensors_seeds() {
    const auto tmp = g_out / "safetensors" / "tmp.safetensors";
    fs::create_directories(tmp.parent_path());
    auto emit = [&](const std::string& name, const std::vector<io::TensorToWrite>& tensors,
                    const std::map<std::string, std::string>& meta) {
        io::write_safetensors(tmp, tensors, meta);
        write_seed("safetensors", name, read_file(tmp));
        fs::remove(tmp);
    };
    std::vector<float> a(8), b(4);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0.25f * float(i) - 1;
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = 1 + float(i);
    if (auto f = fixture("stories260K-hf/model.safetensors")) {
        const io::SafetensorsFile st(*f);
        const TensorView norm = st.view("model.norm.weight");
        const TensorView ln = st.view("model.layers.0.input_layernorm.weight");
        a = widen(norm);
        b = widen(ln);
        // The real header (47 entries, padded) over a data area cut to 64 bytes: refused as
        // truncated, but it seeds the header parser with a real file's layout.
        const std::string bytes = read_file(*f);
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | std::uint8_t(bytes[std::size_t(i)]);
        write_seed("safetensors", "stories260K-header-cut.safetensors",
                   bytes.substr(0, 8 + n + 64));
    }
    std::vector<std::uint16_t> a16, abf;
    for (float v : a) a16.push_back(f32_to_f16(v)), abf.push_back(f32_to_bf16(v));
    emit("norms-f32.safetensors",
         {{"model.norm.weight", DType::f32, {std::int64_t(a.size())}, a.data(), {}},
          {"model.layers.0.input_layernorm.weight",
           DType::f32,
           {std::int64_t(b.size())},
           b.data(),
           {}}},
         {{"format", "pt"}});
    emit("norms-f16-bf16.safetensors",
         {{"model.norm.weight", DType::f16, {std::int64_t(a.size())}, a16.data(), {}},
          {"lm_head.weight", DType::bf16, {2, std::int64_t(abf.size() / 2)}, abf.data(), {}}},
         {{"format", "pt"}, {"note", "two dtypes"}});
    const std::int8_t i8[] = {-128, 0, 127, 5};
    const std::uint8_t u8[] = {0, 255, 1, 2};
    const std::int32_t i32[] = {-1, 2};
    const std::int64_t i64[] = {1ll << 40};
    const double f64[] = {3.5, -0.0};
    emit("all-dtypes.safetensors",
         {{"i8", DType::i8, {2, 2}, i8, {}},
          {"u8", DType::u8, {4}, u8, {}},
          {"i32", DType::i32, {2}, i32, {}},
          {"i64", DType::i64, {1}, i64, {}},
          {"f64", DType::f64, {2}, f64, {}},
          {"scalar", DType::f32, {}, a.data(), {}},
          {"empty", DType::f32, {0, 3}, nullptr, {}}},
         {});
}

// ------------------------------------------------------------------------ .msd

void msd_seeds() {
    // A 4 × 24 slice of a real expert's delta (math expert − base, q_proj of layer 0).
    constexpr std::int64_t rows = 4, cols = 24;
    std::vector<float> delta(rows * cols);
    for (std::size_t i = 0; i < delta.size(); ++i) delta[i] = 0.01f * float(int(i % 7) - 3);
    std::vector<float> dense_src = {0.1f, -0.2f, 0.3f, -0.4f};
    const auto base = fixture("stories260K-hf/model.safetensors");
    const auto expert = fixture("stories260K-experts/math/model.safetensors");
    if (base && expert) {
        const io::SafetensorsFile b(*base), e(*expert);
        const std::string name = "model.layers.0.self_attn.q_proj.weight";
        const auto wb = widen(b.view(name)), we = widen(e.view(name));
        const std::int64_t full_cols = b.view(name).shape[1];
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                delta[std::size_t(r * cols + c)] =
                    we[std::size_t(r * full_cols + c)] - wb[std::size_t(r * full_cols + c)];
        const auto nb = widen(b.view("model.norm.weight")), ne = widen(e.view("model.norm.weight"));
        for (std::size_t i = 0; i < dense_src.size(); ++i) dense_src[i] = ne[i] - nb[i];
    }
    delta::CalibrationStats stats(cols);
    std::vector<float> x(cols);
    for (int s = 0; s < 8; ++s) {
        for (std::int64_t c = 0; c < cols; ++c) x[std::size_t(c)] = float((s * 7 + c * 3) % 11) - 5;
        stats.add(x.data(), 1);
    }
    const auto tmp = g_out / "msd" / "tmp.msd";
    fs::create_directories(tmp.parent_path());
    struct Variant {
        const char* name;
        delta::Method method;
        int bits;
        const char* salient;
        DType salient_dtype;
        delta::ZeroFormat zeros;
        DType dense_dtype;
    };
    const Variant variants[] = {
        {"meswitch-2bit-u8zeros-f16salient.msd", delta::Method::meswitch, 2, "2", DType::f16,
         delta::ZeroFormat::u8, DType::f16},
        {"meswitch-3bit-f16zeros-bf16salient.msd", delta::Method::meswitch, 3, "10%", DType::bf16,
         delta::ZeroFormat::f16, DType::bf16},
        {"meswitch-1bit-midpoint.msd", delta::Method::meswitch, 1, "0", DType::f16,
         delta::ZeroFormat::midpoint, DType::f32},
        {"rtn-4bit.msd", delta::Method::rtn, 4, "0", DType::f16, delta::ZeroFormat::f16,
         DType::f16},
        {"bitdelta.msd", delta::Method::bitdelta, 1, "0", DType::f16, delta::ZeroFormat::midpoint,
         DType::f16},
    };
    for (const Variant& v : variants) {
        delta::QuantOptions q;
        q.method = v.method;
        q.bits = v.bits;
        q.salient = delta::SalientSpec::parse(v.salient);
        q.salient_dtype = v.salient_dtype;
        q.zero_format = v.zeros;
        q.threads = 1;
        delta::MsdHeader h;
        h.method = v.method;
        h.bits = v.method == delta::Method::bitdelta ? 1 : v.bits;
        h.salient = q.salient;
        h.base_hash = "xxh3:0123456789abcdef";
        h.expert_hash = "xxh3:fedcba9876543210";
        h.base_name = "stories260K";
        h.expert_name = "math";
        h.omitted = {"model.layers.0.input_layernorm.weight"};
        h.extra = {{"calibration", "math eval, 8 samples"}};
        std::vector<delta::NamedLinear> layers;
        layers.push_back({"model.layers.0.self_attn.q_proj",
                          delta::compress_linear(delta.data(), rows, cols, stats, q)});
        // A second, narrower layer: the first 8 columns only.
        std::vector<float> narrow;
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < 8; ++c) narrow.push_back(delta[std::size_t(r * cols + c)]);
        delta::CalibrationStats s8(8);
        s8.add(std::vector<float>(8, 1.0f).data(), 1);
        layers.push_back({"model.layers.1.mlp.down_proj",
                          delta::compress_linear(narrow.data(), rows, 8, s8, q)});
        delta::DenseDelta d;
        d.name = "model.norm.weight";
        d.dtype = v.dense_dtype;
        d.shape = {std::int64_t(dense_src.size())};
        if (v.dense_dtype == DType::f32)
            d.f32 = dense_src;
        else
            for (float f : dense_src)
                d.bits16.push_back(v.dense_dtype == DType::f16 ? f32_to_f16(f) : f32_to_bf16(f));
        delta::write_msd(tmp, h, layers, {d});
        write_seed("msd", v.name, read_file(tmp));
        fs::remove(tmp);
    }
}

// ------------------------------------------------------------------------ JSON files

void config_seeds() {
    const char* configs[] = {"stories260K-hf/config.json", "tiny-mixtral/base/config.json",
                             "tokenizers/gpt2/config.json", "tokenizers/mistral-7b/config.json"};
    for (const char* c : configs)
        if (auto f = fixture(c)) {
            std::string name = c;
            std::replace(name.begin(), name.end(), '/', '-');
            write_seed("model_config", name, read_file(*f));
        }
}

// A tokenizer.json cut to its first `keep` ids, the merges among them, and its added tokens.
std::string shrink_tokenizer(const fs::path& file, std::int64_t keep, std::size_t max_merges) {
    json t = json::parse(read_file(file));
    json& model = t["model"];
    json vocab = json::object();
    for (auto& [piece, id] : model["vocab"].items())
        if (id.get<std::int64_t>() < keep) vocab[piece] = id;
    json merges = json::array();
    for (const json& m : model["merges"]) {
        std::string a, b;
        if (m.is_string()) {
            const std::string s = m.get<std::string>();
            const auto sp = s.find(' ');
            if (sp == std::string::npos) continue;
            a = s.substr(0, sp), b = s.substr(sp + 1);
        } else {
            a = m[0].get<std::string>(), b = m[1].get<std::string>();
        }
        if (vocab.contains(a) && vocab.contains(b) && vocab.contains(a + b)) merges.push_back(m);
        if (merges.size() >= max_merges) break;
    }
    model["vocab"] = vocab;
    model["merges"] = merges;
    return t.dump();
}

void tokenizer_seeds() {
    if (auto f = fixture("stories260K-hf/tokenizer.json"))
        write_seed("tokenizer_json", "stories260K.json", read_file(*f));
    if (auto f = fixture("tokenizers/gpt2/tokenizer.json"))
        write_seed("tokenizer_json", "gpt2-shrunk.json", shrink_tokenizer(*f, 600, 300));
    if (auto f = fixture("tokenizers/mistral-7b/tokenizer.json"))
        write_seed("tokenizer_json", "mistral-7b-shrunk.json", shrink_tokenizer(*f, 600, 300));

    // Text for the encode target: byte 0 is the mode (tokenizer, flags), see its header.
    int n = 0;
    for (const char* eval :
         {"stories260K-experts/eval/math.txt", "stories260K-experts/eval/code.txt",
          "stories260K-experts/eval/qa.txt"}) {
        if (auto f = fixture(eval)) {
            std::istringstream lines(read_file(*f));
            std::string line;
            for (int i = 0; i < 3 && std::getline(lines, line); ++i, ++n)
                for (char mode : {char(n % 8), char(0x40 | (n % 8))})
                    write_seed(
                        "tokenizer_encode",
                        "eval-" + std::to_string(n) + "-" + std::to_string(int(mode)) + ".txt",
                        std::string(1, mode) + line);
        }
    }
}

void chat_seeds(const fs::path& source_dir) {
    std::vector<std::pair<std::string, json>> configs;
    for (const char* c :
         {"stories260K-hf/tokenizer_config.json", "tokenizers/mistral-7b/tokenizer_config.json",
          "tokenizers/gpt2/tokenizer_config.json"})
        if (auto f = fixture(c)) {
            json j = json::parse(read_file(*f));
            // The fixtures' own template (if any) is a seed as it is.
            if (j.contains("chat_template")) {
                std::string name = c;
                std::replace(name.begin(), name.end(), '/', '-');
                write_seed("chat_template", name, j.dump());
            }
            j.erase("added_tokens_decoder");  // large and not read: keep the seeds small
            configs.emplace_back(fs::path(c).parent_path().filename().string(), j);
        }
    if (configs.empty())
        configs.emplace_back("synthetic", json{{"bos_token", "<s>"}, {"eos_token", "</s>"}});
    const fs::path templates = source_dir / "tests/chat/data/templates";
    if (!fs::is_directory(templates)) return;
    std::size_t i = 0;
    for (const auto& entry : fs::directory_iterator(templates)) {
        if (entry.path().extension() != ".jinja") continue;
        auto [cname, config] = configs[i++ % configs.size()];
        config["chat_template"] = read_file(entry.path());
        write_seed("chat_template", entry.path().stem().string() + "+" + cname + ".json",
                   config.dump(2));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: %s OUT_DIR SOURCE_DIR [FIXTURES_DIR]\n", argv[0]);
        return 2;
    }
    g_out = argv[1];
    const fs::path source_dir = argv[2];
    if (argc == 4 && fs::is_directory(argv[3])) g_fixtures = fs::path(argv[3]);
    try {
        safetensors_seeds();
        msd_seeds();
        config_seeds();
        tokenizer_seeds();
        chat_seeds(source_dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_seeds: %s\n", e.what());
        return 1;
    }
    std::printf("make_seeds: %d seed files under %s (%s)\n", g_written, g_out.c_str(),
                g_fixtures ? ("from " + g_fixtures->string()).c_str()
                           : "no fixtures: synthetic seeds only");
    return 0;
}
