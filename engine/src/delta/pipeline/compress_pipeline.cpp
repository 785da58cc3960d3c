// compress_expert: calibration, then layer-streamed delta compression into an .msd file.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "core/thread_pool.h"
#include "delta/msd/msd_file.h"
#include "delta/pipeline/calibration.h"
#include "import/content_hash.h"
#include "io/safetensors.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/evaluate.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"

namespace meswitch {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

const char* to_string(CalibrationModel m) {
    return m == CalibrationModel::base ? "base" : "expert";
}
const char* to_string(EmbeddingStorage e) {
    return e == EmbeddingStorage::quantized ? "quantized" : "dense16";
}

bool is_float(DType t) {
    return t == DType::f32 || t == DType::f16 || t == DType::bf16;
}

// Δ = expert − base for one tensor, widened to f32 (the only full-size buffer of a step).
std::vector<float> tensor_delta(const io::Checkpoint& base, const io::Checkpoint& expert,
                                const std::string& name, int threads) {
    const TensorView b = base.view(name);
    const TensorView e = expert.view(name);
    if (b.shape != e.shape)
        throw Error(ErrorKind::invalid_argument, "tensor '" + name + "' is " + b.shape_string() +
                                                     " in the base but " + e.shape_string() +
                                                     " in the expert");
    // expert − base in f32, in chunks on all cores (widening is most of the time); the first
    // non-finite element in index order is reported.
    const auto n = static_cast<std::size_t>(b.numel());
    const std::size_t eb = dtype_size(e.dtype), bb = dtype_size(b.dtype);
    std::vector<float> d(n);
    constexpr std::size_t chunk = 1u << 16;
    const std::size_t chunks = (n + chunk - 1) / chunk;
    std::vector<std::size_t> first_bad(chunks, n);
    ThreadPool pool(threads);
    pool.parallel_for(chunks, [&](std::size_t c0, std::size_t c1) {
        std::vector<float> tmp(chunk);
        for (std::size_t c = c0; c < c1; ++c) {
            const std::size_t i0 = c * chunk, len = std::min(chunk, n - i0);
            convert_to_f32(e.dtype, e.data + i0 * eb, d.data() + i0, len);
            convert_to_f32(b.dtype, b.data + i0 * bb, tmp.data(), len);
            bool finite = true;
            for (std::size_t i = 0; i < len; ++i) {
                d[i0 + i] -= tmp[i];
                finite &= std::isfinite(d[i0 + i]);
            }
            if (!finite)
                for (std::size_t i = 0; i < len; ++i)
                    if (!std::isfinite(d[i0 + i])) {
                        first_bad[c] = i0 + i;
                        break;
                    }
        }
    });
    // Each tensor is read once: its pages need not stay in the resident set (a 7B pair is
    // 29 GB of mapped files).
    io::release_pages(e.data, e.nbytes);
    io::release_pages(b.data, b.nbytes);
    const std::size_t bad = *std::min_element(first_bad.begin(), first_bad.end());
    if (bad < n)
        throw Error(ErrorKind::invalid_argument,
                    "tensor '" + name + "': the delta has a non-finite value at element " +
                        std::to_string(bad));
    return d;
}

bool all_zero(const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; });
}

std::string prefix_of(const std::string& weight_name) {
    return weight_name.substr(0, weight_name.size() - std::string_view(".weight").size());
}

struct Plan {
    delta::QuantOptions quant;
    delta::QuantOptions rtn;
    bool measure_baseline = false;
};

// Compresses one 2-D delta and measures it; Δ is dropped by the caller right after.
CompressLayerReport compress_one(const std::string& name, const std::vector<float>& d,
                                 std::int64_t rows, std::int64_t cols,
                                 const delta::CalibrationStats& calib,
                                 const delta::CalibrationStats* heldout, const Plan& plan,
                                 delta::QuantOptions quant, const CancelToken* cancel,
                                 delta::CompressedLinear& out) {
    const auto t0 = clock_type::now();
    out = delta::compress_linear(d.data(), rows, cols, calib, quant, cancel);
    CompressLayerReport r;
    r.name = name;
    r.rows = rows;
    r.cols = cols;
    r.salient = out.salient_count();
    r.bits_per_param = out.bits_per_param();
    const delta::LinearError e = delta::measure_error(d.data(), out, calib, 0, quant.threads);
    r.rel_output_error = e.rel_output_error;
    r.rel_weight_error = e.rel_weight_error;
    if (heldout)
        r.heldout_rel_output_error =
            delta::measure_error(d.data(), out, *heldout, 0, quant.threads).rel_output_error;
    if (plan.measure_baseline) {
        delta::QuantOptions rq = plan.rtn;
        rq.bits = quant.bits;
        const delta::CompressedLinear base_q =
            delta::compress_linear(d.data(), rows, cols, calib, rq, cancel);
        r.baseline_rel_output_error =
            delta::measure_error(d.data(), base_q, calib, 0, quant.threads).rel_output_error;
        if (heldout)
            r.heldout_baseline_rel_output_error =
                delta::measure_error(d.data(), base_q, *heldout, 0, quant.threads).rel_output_error;
    }
    r.seconds = seconds_since(t0);
    return r;
}

delta::DenseDelta dense_f16(const std::string& name, const std::vector<std::int64_t>& shape,
                            const std::vector<float>& d) {
    delta::DenseDelta out;
    out.name = name;
    out.dtype = DType::f16;
    out.shape = shape;
    out.bits16.resize(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) out.bits16[i] = f32_to_f16(d[i]);
    return out;
}

// Consecutive decoder-layer windows whose statistics fit the budget (at least one layer).
std::vector<std::pair<std::int64_t, std::int64_t>> plan_windows(const ModelConfig& cfg,
                                                                std::uint64_t budget,
                                                                int stat_sets) {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    std::int64_t first = 0;
    while (first < cfg.num_hidden_layers) {
        std::int64_t last = first + 1;
        while (last < cfg.num_hidden_layers &&
               stat_sets * delta::CalibrationSet::bytes_for(cfg, first, last + 1, true, true) <=
                   budget)
            ++last;
        out.emplace_back(first, last);
        first = last;
    }
    return out;
}

std::vector<std::string> calibration_lines(const CompressOptions& o) {
    if (!o.calibration_file.empty()) {
        auto lines = read_text_lines(o.calibration_file);
        if (std::none_of(lines.begin(), lines.end(), [](const auto& l) { return !l.empty(); }))
            throw Error(ErrorKind::invalid_argument,
                        "calibration file '" + o.calibration_file.string() + "' has no text");
        return lines;
    }
    std::vector<std::string> lines = delta::builtin_calibration_lines();
    lines.insert(lines.end(), o.extra_calibration_lines.begin(), o.extra_calibration_lines.end());
    return lines;
}

}  // namespace

CompressResult compress_expert(const std::filesystem::path& base_folder,
                               const std::filesystem::path& expert_folder,
                               const CompressOptions& options, const ProgressFn& progress,
                               const CancelToken* cancel) {
    const auto t_start = clock_type::now();
    auto report = [&](double f, const std::string& msg) {
        if (progress) progress(std::clamp(f, 0.0, 1.0), msg);
    };
    auto check_cancel = [&] {
        if (cancel) cancel->throw_if_cancelled("compression");
    };

    // ---- options
    const auto method = delta::parse_method(options.method);
    if (!method)
        throw Error(ErrorKind::invalid_argument, "unknown compression method '" + options.method +
                                                     "' (use meswitch, rtn or bitdelta)");
    if (options.out.empty())
        throw Error(ErrorKind::invalid_argument, "compress: no output file given");
    Plan plan;
    plan.quant.method = *method;
    plan.quant.bits = *method == delta::Method::bitdelta ? 1 : options.bits;
    if (plan.quant.bits < 1 || plan.quant.bits > 4)
        throw Error(ErrorKind::invalid_argument,
                    "compress: bits must be 1 to 4, got " + std::to_string(options.bits));
    if (*method == delta::Method::meswitch) {
        if (!options.salient.empty())
            plan.quant.salient = delta::SalientSpec::parse(options.salient);
    } else {
        if (!options.salient.empty() && delta::SalientSpec::parse(options.salient).value != 0)
            throw Error(ErrorKind::invalid_argument,
                        "compress: --salient applies to the meswitch method only (" +
                            options.method + " keeps no salient channels)");
        plan.quant.salient = delta::SalientSpec{false, 0};
    }
    plan.quant.threads = options.threads;
    plan.rtn.method = delta::Method::rtn;
    plan.rtn.salient = delta::SalientSpec{false, 0};
    plan.rtn.threads = options.threads;
    plan.measure_baseline = options.baseline;
    // Default: two bits more than the linears, at most 4 (see compress.h for the figures).
    const int embedding_bits =
        options.embedding_bits > 0 ? options.embedding_bits : std::min(4, plan.quant.bits + 2);
    if (embedding_bits > 4)
        throw Error(ErrorKind::invalid_argument, "compress: embedding bits must be 1 to 4, got " +
                                                     std::to_string(embedding_bits));

    // ---- models
    report(0.0, "opening models");
    const io::Checkpoint base(base_folder);
    const io::Checkpoint expert(expert_folder);
    const ModelConfig cfg = parse_model_config(base_folder / "config.json");
    const ModelConfig ecfg = parse_model_config(expert_folder / "config.json");
    if (cfg.arch == ModelArch::mixtral || ecfg.arch == ModelArch::mixtral)
        throw Error(
            ErrorKind::unsupported,
            "cannot compress '" + expert_folder.string() + "' against '" + base_folder.string() +
                "': " + (cfg.arch == ModelArch::mixtral ? base_folder : expert_folder).string() +
                " is a MixtralForCausalLM (mixture of experts) and ME-Switch delta "
                "compression handles dense Llama-family models only in this "
                "version; serve Mixtral variants by expert consolidation (meswitch "
                "moe plan) or with their full weights");
    if (ecfg.hidden_size != cfg.hidden_size || ecfg.num_hidden_layers != cfg.num_hidden_layers ||
        ecfg.intermediate_size != cfg.intermediate_size || ecfg.vocab_size != cfg.vocab_size ||
        ecfg.tie_word_embeddings != cfg.tie_word_embeddings)
        throw Error(ErrorKind::invalid_argument,
                    "expert '" + expert_folder.string() + "' does not have the shape of base '" +
                        base_folder.string() + "' (config.json differs)");
    const std::vector<std::string> names = base.tensor_names();
    for (const auto& n : expert.tensor_names())
        if (!base.contains(n))
            throw Error(ErrorKind::invalid_argument,
                        "expert tensor '" + n + "' has no counterpart in the base");
    std::int64_t parameters = 0;
    for (const auto& n : names) {
        if (!expert.contains(n))
            throw Error(ErrorKind::invalid_argument,
                        "base tensor '" + n + "' is missing from the expert");
        if (base.info(n).shape != expert.info(n).shape)
            throw Error(ErrorKind::invalid_argument,
                        "tensor '" + n + "' has different shapes in base and expert");
        if (!is_float(base.info(n).dtype) || !is_float(expert.info(n).dtype))
            throw Error(ErrorKind::unsupported, "tensor '" + n + "' is not f32/f16/bf16");
        std::int64_t numel = 1;
        for (auto s : base.info(n).shape) numel *= s;
        parameters += numel;
    }

    CompressResult res;
    res.method = delta::method_name(*method);
    res.bits = plan.quant.bits;
    res.salient = plan.quant.salient.to_string();
    res.parameters = parameters;
    res.embedding_storage = to_string(options.embeddings);
    res.calibration_model = to_string(options.calibration_model);
    report(0.01, "hashing base");
    res.base_hash = content_hash(base, {}, cancel);
    report(0.02, "hashing expert");
    res.expert_hash = content_hash(expert, {}, cancel);

    // ---- calibration
    const std::filesystem::path calib_folder =
        options.calibration_model == CalibrationModel::base ? base_folder : expert_folder;
    // Read in place from the mapped files: a copy in anonymous memory would double what the
    // run holds (the checkpoints are mapped for the deltas anyway), and the calibration
    // forward is a prefill, limited by arithmetic rather than by reading the weights.
    const ModelOptions calib_options{options.threads, /*weights_in_memory=*/false};
    Model calib_model = Model::load(calib_folder, calib_options);
    std::optional<Model> heldout_model;
    const Tokenizer tok = Tokenizer::from_folder(calib_folder);
    std::int32_t bos = 0;
    if (cfg.bos_token_id)
        bos = *cfg.bos_token_id;
    else if (auto id = tok.bos_id())
        bos = *id;
    else
        throw Error(ErrorKind::invalid_argument, "compress: the model has no BOS token id");
    const auto calib_seqs =
        delta::calibration_sequences(tok, bos, calibration_lines(options),
                                     cfg.max_position_embeddings, options.max_calibration_tokens);
    std::vector<std::vector<std::int32_t>> heldout_seqs;
    if (!options.heldout_file.empty()) {
        heldout_seqs = delta::calibration_sequences(tok, bos, read_text_lines(options.heldout_file),
                                                    cfg.max_position_embeddings, 0);
        if (heldout_seqs.empty())
            throw Error(ErrorKind::invalid_argument,
                        "held-out file '" + options.heldout_file.string() + "' has no text");
        heldout_model.emplace(Model::load(expert_folder, calib_options));
    }
    const int stat_sets = heldout_seqs.empty() ? 1 : 2;
    const auto windows = plan_windows(cfg, options.gram_budget_bytes, stat_sets);
    res.stages.windows = static_cast<std::int64_t>(windows.size());
    res.stages.load = seconds_since(t_start);

    // ---- layer-streamed compression
    std::vector<delta::NamedLinear> linears;
    std::vector<delta::DenseDelta> dense;
    std::vector<std::string> omitted;
    std::set<std::string> handled;
    const std::int64_t total_units = static_cast<std::int64_t>(windows.size()) +
                                     cfg.num_hidden_layers * 7 +
                                     (base.contains("lm_head.weight") ? 2 : 1) + 1;
    std::int64_t done_units = 0;
    auto unit_done = [&](const std::string& msg) {
        ++done_units;
        report(0.03 + 0.95 * static_cast<double>(done_units) / static_cast<double>(total_units),
               msg);
    };
    double err_sum = 0, heldout_sum = 0, heldout_base_sum = 0, base_sum = 0;
    std::int64_t err_n = 0;
    const delta::CalibrationSet* head_calib = nullptr;
    const delta::CalibrationSet* head_heldout = nullptr;
    delta::CalibrationSet last_calib, last_heldout;

    // The residual streams leaving the previous window: each layer runs once in all.
    std::vector<std::vector<float>> calib_states, heldout_states;
    // A low-rank metric reads all of G for every layer; otherwise layers wider than the exact
    // metric's limit read only G's salient rows (and the error from the activations).
    const delta::GramUse gram_use =
        plan.quant.metric_rank > 0 ? delta::GramUse::full : delta::GramUse::salient_rows;
    for (std::size_t w = 0; w < windows.size(); ++w) {
        check_cancel();
        const auto [first, last] = windows[w];
        const bool is_last = w + 1 == windows.size();
        const auto t_calibration = clock_type::now();
        delta::CalibrationSet calib =
            delta::collect_calibration(calib_model, calib_seqs, first, last, is_last, gram_use, {},
                                       cancel, nullptr, &calib_states);
        delta::CalibrationSet held;
        if (heldout_model)
            held = delta::collect_calibration(*heldout_model, heldout_seqs, first, last, is_last,
                                              gram_use, {}, cancel, nullptr, &heldout_states);
        // The window's layers have been read for every sequence: drop their pages from the
        // resident set before the next window reads its own.
        calib_model.release_mapped_pages();
        if (heldout_model) heldout_model->release_mapped_pages();
        res.calibration_tokens = calib.tokens();
        res.heldout_tokens = held.tokens();
        {
            const double statistics = calib.statistics_seconds() + held.statistics_seconds();
            res.stages.statistics += statistics;
            res.stages.calibration_forward += seconds_since(t_calibration) - statistics;
        }
        const auto t_linears = clock_type::now();
        unit_done("calibration for layers " + std::to_string(first) + "-" +
                  std::to_string(last - 1));
        for (std::int64_t l = first; l < last; ++l) {
            for (int k = 0; k < 7; ++k) {
                check_cancel();
                const LinearRef ref{l, static_cast<LinearKind>(k)};
                const std::string name = linear_weight_name(ref);
                handled.insert(name);
                const std::vector<float> d = tensor_delta(base, expert, name, options.threads);
                const auto& shape = base.info(name).shape;
                if (all_zero(d)) {
                    omitted.push_back(name);
                    unit_done(name);
                    continue;
                }
                delta::NamedLinear nl;
                nl.prefix = prefix_of(name);
                CompressLayerReport r = compress_one(name, d, shape[0], shape[1], calib.of(ref),
                                                     heldout_model ? &held.of(ref) : nullptr, plan,
                                                     plan.quant, cancel, nl.linear);
                err_sum += r.rel_output_error;
                heldout_sum += r.heldout_rel_output_error;
                heldout_base_sum += r.heldout_baseline_rel_output_error;
                base_sum += r.baseline_rel_output_error;
                ++err_n;
                if (options.on_layer) options.on_layer(r);
                res.layers.push_back(std::move(r));
                linears.push_back(std::move(nl));
                unit_done(name);
            }
        }
        res.stages.linears += seconds_since(t_linears);
        if (is_last) {
            last_calib = std::move(calib);
            last_heldout = std::move(held);
            head_calib = &last_calib;
            head_heldout = heldout_model ? &last_heldout : nullptr;
        }
    }
    if (err_n > 0) {
        res.mean_rel_output_error = err_sum / static_cast<double>(err_n);
        if (heldout_model) {
            res.mean_heldout_rel_output_error = heldout_sum / static_cast<double>(err_n);
            if (options.baseline)
                res.mean_heldout_baseline_rel_output_error =
                    heldout_base_sum / static_cast<double>(err_n);
        }
        if (options.baseline)
            res.mean_baseline_rel_output_error = base_sum / static_cast<double>(err_n);
    }

    // ---- embeddings / head: quantized with the head-input statistics, or dense f16
    const auto t_embeddings = clock_type::now();
    for (const std::string name : {"model.embed_tokens.weight", "lm_head.weight"}) {
        check_cancel();
        if (!base.contains(name)) continue;
        handled.insert(name);
        const std::vector<float> d = tensor_delta(base, expert, name, options.threads);
        const auto& shape = base.info(name).shape;
        if (all_zero(d)) {
            omitted.push_back(name);
        } else if (options.embeddings == EmbeddingStorage::dense16 || shape.size() != 2) {
            dense.push_back(dense_f16(name, shape, d));
        } else {
            // The head's input is the final norm's output; an untied input embedding is a
            // row lookup, where every row's error counts alike (identity metric).
            const bool head_use = name == "lm_head.weight" || cfg.tie_word_embeddings;
            delta::CalibrationStats identity(shape[1], false);
            std::fill(identity.diag.begin(), identity.diag.end(), 1.0);
            identity.samples = 1;
            delta::QuantOptions q = plan.quant;
            q.bits = embedding_bits;
            delta::NamedLinear nl;
            nl.prefix = prefix_of(name);
            CompressLayerReport r =
                compress_one(name, d, shape[0], shape[1], head_use ? head_calib->head() : identity,
                             head_use && head_heldout ? &head_heldout->head() : nullptr, plan, q,
                             cancel, nl.linear);
            if (options.on_layer) options.on_layer(r);
            res.layers.push_back(std::move(r));
            linears.push_back(std::move(nl));
        }
        unit_done(name);
    }
    res.stages.embeddings_head = seconds_since(t_embeddings);

    // ---- everything else (norms, biases): dense f16 deltas, tiny
    for (const std::string& name : names) {
        if (handled.count(name)) continue;
        check_cancel();
        const std::vector<float> d = tensor_delta(base, expert, name, options.threads);
        if (all_zero(d))
            omitted.push_back(name);
        else
            dense.push_back(dense_f16(name, base.info(name).shape, d));
    }
    unit_done("norms and biases");

    // ---- the artifact
    check_cancel();
    delta::MsdHeader h;
    h.method = *method;
    h.bits = plan.quant.bits;
    h.salient = plan.quant.salient;
    h.base_hash = res.base_hash;
    h.expert_hash = res.expert_hash;
    h.base_name = base_folder.filename().string();
    h.expert_name = expert_folder.filename().string();
    h.omitted = omitted;
    h.extra["embedding_storage"] = res.embedding_storage;
    h.extra["embedding_bits"] =
        options.embeddings == EmbeddingStorage::quantized ? std::to_string(embedding_bits) : "16";
    h.extra["dense_storage"] = "f16";
    h.extra["calibration_model"] = res.calibration_model;
    h.extra["calibration_tokens"] = std::to_string(res.calibration_tokens);
    std::int64_t bytes = 0, salient = 0;
    for (const auto& nl : linears) {
        bytes += static_cast<std::int64_t>(nl.linear.storage_bytes());
        salient += nl.linear.salient_count();
    }
    for (const auto& dd : dense)
        bytes += static_cast<std::int64_t>(dd.bits16.size() * 2 + dd.f32.size() * 4);
    report(0.99, "writing " + options.out.filename().string());
    if (!options.out.parent_path().empty()) {
        std::error_code ec;
        std::filesystem::create_directories(options.out.parent_path(), ec);
        if (ec)
            throw Error(ErrorKind::io, "cannot create folder '" +
                                           options.out.parent_path().string() +
                                           "': " + ec.message());
    }
    const auto t_writing = clock_type::now();
    delta::write_msd(options.out, h, linears, dense);
    res.stages.writing = seconds_since(t_writing);
    if (cancel && cancel->cancelled()) {  // cancelled while writing: leave nothing behind
        std::error_code ec;
        std::filesystem::remove(options.out, ec);
        check_cancel();
    }
    res.artifact = options.out;
    res.delta_bytes = bytes;
    res.salient_count = salient;
    res.bits_per_param =
        parameters > 0 ? static_cast<double>(bytes) * 8.0 / static_cast<double>(parameters) : 0;
    std::error_code ec;
    res.file_bytes = static_cast<std::int64_t>(std::filesystem::file_size(options.out, ec));
    res.seconds = seconds_since(t_start);
    report(1.0, "done");
    return res;
}

}  // namespace meswitch
