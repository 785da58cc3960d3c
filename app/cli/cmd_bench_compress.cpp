// meswitch bench compress: the compression a user waits for, end to end. A synthetic base and
// expert of a chosen shape are written to disk (once; reused afterwards), imported into a
// scratch catalog and compressed through compress_catalog_expert, the code `meswitch compress`
// runs, at its defaults; the time is split by stage and by layer type, with the peak memory
// sampled while the compression runs. --layers instead times ME-Switch on Mistral-7B-shaped
// synthetic layers in memory and extrapolates to a 7B expert (the second figure).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "cli_context.h"
#include "delta/quant/bench_compress.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/import.h"
#include "meswitch/paths.h"
#include "serve/bench_serve.h"

namespace meswitch::cli {

namespace {

namespace fs = std::filesystem;

// "RssAnon:   123 kB" style fields of /proc/self/status, in bytes (0 where absent).
std::uint64_t status_bytes(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0)
            return std::stoull(line.substr(field.size() + 1)) << 10;
    return 0;
}

// Samples the process's anonymous and resident memory every 100 ms until stopped; the
// peaks are what the compression itself needed (anonymous: what it allocated; resident:
// that plus the pages of the mapped model files it touched).
class MemorySampler {
public:
    MemorySampler() : thread_([this] { run(); }) {}
    ~MemorySampler() { stop(); }
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
        sample();
    }
    std::uint64_t peak_anon() const { return peak_anon_; }
    std::uint64_t peak_rss() const { return peak_rss_; }

private:
    void sample() {
        peak_anon_ = std::max(peak_anon_.load(), status_bytes("RssAnon"));
        peak_rss_ = std::max(peak_rss_.load(), status_bytes("VmRSS"));
    }
    void run() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            sample();
            wake_.wait_for(lock, std::chrono::milliseconds(100));
        }
    }
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> peak_anon_{0}, peak_rss_{0};
    std::thread thread_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// "model.layers.3.mlp.down_proj.weight" → "down_proj"; anything else as it is.
std::string layer_type(const std::string& name) {
    const auto end = name.rfind(".weight");
    const auto dot = name.rfind('.', end == std::string::npos ? name.size() : end - 1);
    if (end == std::string::npos || dot == std::string::npos) return name;
    return name.substr(dot + 1, end - dot - 1);
}

struct PipelineOptions {
    std::string shape = "1b";
    std::string dir;  // default: <temp>/meswitch-bench-pair-<shape>
    int bits = 2;
    int threads = 0;
    bool json = false;
};

void run_pipeline(const PipelineOptions& o) {
    const ModelConfig config = synthetic_shape(o.shape);
    const fs::path dir = o.dir.empty()
                             ? fs::temp_directory_path() / ("meswitch-bench-pair-" + o.shape)
                             : fs::path(o.dir);
    const fs::path base = dir / "base", expert = dir / "expert", home = dir / "bench-home";
    auto say = [&](const std::string& s) {
        if (!o.json) std::fprintf(stderr, "%s\n", s.c_str());
    };
    double make_seconds = 0;
    bool made = false;
    {
        const auto t0 = std::chrono::steady_clock::now();
        if (!fs::exists(base / "config.json") || !fs::exists(base / "tokenizer.json")) {
            say("writing the synthetic " + o.shape + " base to " + base.string());
            made = true;
            serve::write_synthetic_model(base, config, DType::bf16, 20240607, o.threads,
                                         "shape " + o.shape, /*tokenizer=*/true);
            fs::remove_all(expert);
        }
        if (!fs::exists(expert / "config.json")) {
            say("writing its expert to " + expert.string());
            made = true;
            serve::SyntheticExpertOptions eo;
            eo.threads = o.threads;
            serve::write_synthetic_expert(expert, base, eo);
        }
        make_seconds = seconds_since(t0);
    }
    // A fresh scratch catalog each run: the same import and compression as a user's.
    fs::remove_all(home);
    fs::create_directories(home);
    const auto t_import = std::chrono::steady_clock::now();
    Catalog catalog(catalog_path(home));
    ImportOptions bo;
    bo.name = "bench-base";
    import_model(catalog, base, bo);
    ImportOptions xo;
    xo.name = "bench-expert";
    xo.base = "bench-base";
    xo.domain = "synthetic";
    import_model(catalog, expert, xo);
    const double import_seconds = seconds_since(t_import);

    CompressOptions co;  // `meswitch compress`'s defaults
    co.bits = o.bits;
    co.threads = o.threads;
    say("compressing (the code of meswitch compress --expert NAME --bits " +
        std::to_string(o.bits) + ")");
    int shown = -1;
    const bool tty = !o.json && isatty(STDERR_FILENO);
    MemorySampler memory;
    const auto t_compress = std::chrono::steady_clock::now();
    const CompressResult r = compress_catalog_expert(
        catalog, "bench-expert", home, co, [&](double f, std::string_view what) {
            const int pct = static_cast<int>(f * 100);
            if (tty && pct != shown) {
                std::fprintf(stderr, "\r%3d%% %-50.50s", pct, std::string(what).c_str());
                shown = pct;
            }
        });
    const double wall = seconds_since(t_compress);
    memory.stop();
    if (tty) std::fprintf(stderr, "\r%60s\r", "");

    std::map<std::string, std::pair<double, int>> by_type;  // seconds, layers
    for (const auto& l : r.layers) {
        auto& t = by_type[layer_type(l.name)];
        t.first += l.seconds;
        ++t.second;
    }
    const auto& st = r.stages;
    if (o.json) {
        nlohmann::json types = nlohmann::json::object();
        for (const auto& [name, t] : by_type)
            types[name] = {{"seconds", t.first}, {"layers", t.second}};
        print_json({{"mode", "pipeline"},
                    {"shape", o.shape},
                    {"pair", dir.string()},
                    {"parameters", r.parameters},
                    {"bits", r.bits},
                    {"threads", o.threads},
                    {"pair_written", made},
                    {"make_pair_seconds", make_seconds},
                    {"import_seconds", import_seconds},
                    {"compress_seconds", wall},
                    {"stages",
                     {{"load_seconds", st.load},
                      {"calibration_forward_seconds", st.calibration_forward},
                      {"calibration_windows", st.windows},
                      {"statistics_seconds", st.statistics},
                      {"linears_seconds", st.linears},
                      {"embeddings_head_seconds", st.embeddings_head},
                      {"writing_seconds", st.writing}}},
                    {"layer_types", types},
                    {"peak_anonymous_bytes", memory.peak_anon()},
                    {"peak_rss_bytes", memory.peak_rss()},
                    {"calibration_tokens", r.calibration_tokens},
                    {"mean_rel_output_error", r.mean_rel_output_error},
                    {"bits_per_param", r.bits_per_param},
                    {"artifact_bytes", r.file_bytes}});
        return;
    }
    std::printf(
        "pair %s (%s shape, %.2f B parameters, bf16)%s\n", dir.string().c_str(), o.shape.c_str(),
        r.parameters / 1e9,
        made ? (", written in " + std::to_string(int(make_seconds)) + " s").c_str() : ", reused");
    std::printf("import of base and expert: %.1f s\n", import_seconds);
    std::printf(
        "compress %d-bit, end to end: %.1f s, peak anonymous memory %.2f GB, peak RSS %.2f GB\n",
        r.bits, wall, memory.peak_anon() / 1e9, memory.peak_rss() / 1e9);
    std::printf(
        "  load %.1f s, calibration forward %.1f s (%lld window%s, %lld tokens), statistics %.1f "
        "s, "
        "linears %.1f s, embeddings and head %.1f s, writing %.1f s\n",
        st.load, st.calibration_forward, static_cast<long long>(st.windows),
        st.windows == 1 ? "" : "s", static_cast<long long>(r.calibration_tokens), st.statistics,
        st.linears, st.embeddings_head, st.writing);
    std::printf("  linears by type:");
    for (const auto& [name, t] : by_type) std::printf(" %s %.1f s,", name.c_str(), t.first);
    std::printf("\n  mean relative output error %.6f, %.4f bits/param, artifact %.1f MB\n",
                r.mean_rel_output_error, r.bits_per_param, r.file_bytes / 1e6);
}

void run_layers(const delta::BenchCompressOptions& o, bool json) {
    const auto r = delta::bench_compress(o, [](double f, std::string_view what) {
        std::fprintf(stderr, "\r%3d%% %-40.40s", static_cast<int>(f * 100),
                     std::string(what).c_str());
    });
    std::fprintf(stderr, "\n");
    nlohmann::json shapes = nlohmann::json::array(), table = nlohmann::json::array();
    for (const auto& s : r.shapes)
        shapes.push_back({{"name", s.name},
                          {"rows", s.rows},
                          {"cols", s.cols},
                          {"per_7b_layer", s.per_7b_layer},
                          {"seconds", s.seconds},
                          {"bits_per_param", s.bits_per_param},
                          {"rel_output_error", s.rel_output_error},
                          {"rtn_rel_output_error", s.rtn_rel_output_error}});
    for (const auto& t : r.table)
        table.push_back({{"method", delta::method_name(t.method)},
                         {"bits", t.bits},
                         {"salient_fraction", t.salient_fraction},
                         {"rel_output_error", t.rel_output_error},
                         {"bits_per_param", t.bits_per_param}});
    if (json) {
        print_json({{"mode", "layers"},
                    {"scale_down", o.scale_down},
                    {"shapes", shapes},
                    {"seconds_per_7b_layer", r.seconds_per_7b_layer},
                    {"extrapolated_7b_minutes", r.extrapolated_7b_minutes},
                    {"peak_rss_mib", r.peak_rss_mib},
                    {"table", table}});
        return;
    }
    for (const auto& s : r.shapes)
        std::printf("%-22s %6.2f s  %.3f bits/param  error %.4f (RTN %.4f)\n", s.name.c_str(),
                    s.seconds, s.bits_per_param, s.rel_output_error, s.rtn_rel_output_error);
    std::printf(
        "7B expert (32 layers): %.1f minutes extrapolated from synthetic layers (the quantization "
        "alone: no calibration forward, no loading or writing); peak RSS %.0f MiB\n",
        r.extrapolated_7b_minutes, r.peak_rss_mib);
    for (const auto& t : r.table)
        std::printf("%-9s %d-bit salient %5.1f%%: error %.4f, %.3f bits/param\n",
                    delta::method_name(t.method), t.bits, 100 * t.salient_fraction,
                    t.rel_output_error, t.bits_per_param);
}

}  // namespace

void register_bench_compress(CLI::App* bench) {
    auto* cmd = bench->add_subcommand(
        "compress",
        "end-to-end compression of a synthetic expert (written to disk once, imported and "
        "compressed as meswitch compress does), by stage and layer type, with peak memory; "
        "--layers: ME-Switch on Mistral-7B-shaped layers in memory, extrapolated to 7B");
    static PipelineOptions p;
    static delta::BenchCompressOptions o;
    static bool layers = false;
    cmd->add_option("--shape", p.shape,
                    "pair shape: tiny, small (175 M), 1b or 7b (about 30 GB of disk)")
        ->check(CLI::IsMember({"tiny", "small", "1b", "7b"}))
        ->capture_default_str();
    cmd->add_option("--dir", p.dir,
                    "where the pair and a scratch catalog go (default: the temp folder's "
                    "meswitch-bench-pair-SHAPE); a pair already there is reused");
    cmd->add_option("--bits", p.bits, "bits per quantized delta weight")
        ->check(CLI::Range(1, 4))
        ->capture_default_str();
    cmd->add_option("--threads", p.threads, "CPU threads (default: all cores)");
    cmd->add_flag("--layers", layers, "instead: synthetic layers in memory, extrapolated to 7B");
    cmd->add_option("--scale-down", o.scale_down,
                    "--layers: divide every layer shape by this, columns kept >= 2048")
        ->capture_default_str();
    cmd->add_option("--samples", o.samples, "--layers: calibration activation vectors per layer")
        ->capture_default_str();
    cmd->add_flag("--table", o.table,
                  "--layers: also tabulate error vs bits vs salient fraction for all methods");
    cmd->add_option("--table-scale-down", o.table_scale_down,
                    "--layers: shape divisor for the table")
        ->capture_default_str();
    cmd->add_flag("--json", p.json, "print one JSON object");
    cmd->callback([] {
        if (layers)
            run_layers(o, p.json);
        else
            run_pipeline(p);
    });
}

}  // namespace meswitch::cli
