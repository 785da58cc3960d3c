// The delta compression pipeline on tiny generated models: compress → .msd → base + delta
// (merged and separate), catalog records, cancellation, hash checks, evaluation.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "delta/msd/msd_file.h"
#include "io/safetensors.h"
#include "meswitch/catalog.h"
#include "meswitch/compress.h"
#include "meswitch/error.h"
#include "meswitch/evaluate.h"
#include "meswitch/import.h"
#include "meswitch/model.h"
#include "meswitch/tokenizer.h"
#include "reconstructed_expert.h"
#include "test_support.h"
#include "tiny_model.h"

namespace fs = std::filesystem;
using namespace meswitch;

namespace {

template <class F>
QString error_of(F&& f, ErrorKind* kind = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (kind) *kind = e.kind();
        return QString::fromStdString(e.what());
    }
    return {};
}

const std::vector<std::int32_t> probe_ids = {1, 40, 41, 42, 100, 7, 250, 3, 99, 120, 17, 5};

std::vector<float> logits_of(Model& m) {
    KvCache cache = m.make_cache(static_cast<std::int64_t>(probe_ids.size()));
    ForwardOptions fo;
    fo.all_positions = true;
    return m.forward(probe_ids, cache, fo);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - b[i]));
    return d;
}

double rms_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return std::sqrt(s / static_cast<double>(a.size()));
}

}  // namespace

class TestDeltaPipeline : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    fs::path m_base, m_expert, m_other_base, m_tied_base, m_tied_expert;

    fs::path path(const std::string& sub) const {
        return fs::path(m_dir.path().toStdString()) / sub;
    }

    CompressOptions options(const std::string& out) const {
        CompressOptions o;
        o.out = path(out);
        o.threads = 1;
        o.baseline = true;
        return o;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_base = path("base");
        m_expert = path("expert");
        m_other_base = path("other-base");
        test::TinyModelSpec spec;
        spec.seed = 3;
        test::write_tiny_model(m_base, spec);
        test::write_expert_of(m_base, m_expert, 0.02, 5);
        spec.seed = 4;
        test::write_tiny_model(m_other_base, spec);
        test::TinyModelSpec tied;
        tied.seed = 9;
        tied.tie_embeddings = true;
        tied.dtype = DType::bf16;
        m_tied_base = path("tied-base");
        m_tied_expert = path("tied-expert");
        test::write_tiny_model(m_tied_base, tied);
        test::write_expert_of(m_tied_base, m_tied_expert, 0.02, 6);
    }

    void compressThenBothApplicationPathsAgree_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<bool>("tied");
        QTest::newRow("meswitch") << "meswitch" << false;
        QTest::newRow("meswitch-tied-bf16") << "meswitch" << true;
        QTest::newRow("rtn") << "rtn" << false;
        QTest::newRow("bitdelta") << "bitdelta" << false;
    }
    void compressThenBothApplicationPathsAgree() {
        QFETCH(QString, method);
        QFETCH(bool, tied);
        const fs::path base = tied ? m_tied_base : m_base;
        const fs::path expert = tied ? m_tied_expert : m_expert;
        CompressOptions o =
            options("paths-" + method.toStdString() + (tied ? "-tied" : "") + ".msd");
        o.method = method.toStdString();
        const CompressResult r = compress_expert(base, expert, o);
        QVERIFY(fs::exists(r.artifact));
        QCOMPARE(QString::fromStdString(r.method), method);
        QVERIFY(r.bits_per_param > 0);
        QVERIFY(r.delta_bytes > 0);
        QCOMPARE(r.file_bytes, static_cast<std::int64_t>(fs::file_size(r.artifact)));
        // 7 linears × 2 layers + the embeddings (+ an untied head).
        QCOMPARE(r.layers.size(), std::size_t(tied ? 15 : 16));
        for (const auto& l : r.layers) {
            QVERIFY2(l.rel_output_error >= 0 && l.rel_output_error < 1.0, l.name.c_str());
            QVERIFY(l.baseline_rel_output_error >= 0);
        }

        const std::string hash = checkpoint_hash(base);
        QCOMPARE(QString::fromStdString(r.base_hash), QString::fromStdString(hash));
        Model plain = Model::load(base, ModelOptions{1});
        const auto base_logits = logits_of(plain);
        Model merged_model = Model::load(base, ModelOptions{1});
        Model separate_model = Model::load(base, ModelOptions{1});
        std::vector<float> merged, separate;
        {
            AppliedDelta a(merged_model, r.artifact, hash, DeltaMode::merged);
            merged = logits_of(merged_model);
        }
        {
            AppliedDelta a(separate_model, r.artifact, hash, DeltaMode::separate);
            separate = logits_of(separate_model);
        }
        // Merging rounds W_base + Δ̂ to the model's dtype (bf16 here for the tied model):
        // the two paths then differ by that rounding only.
        const double tol = tied ? 5e-2 : 1e-4;
        QVERIFY2(
            max_abs_diff(merged, separate) <= tol,
            qPrintable(
                QString("merged vs separate max |diff| %1").arg(max_abs_diff(merged, separate))));
        // Restoring gives the base back exactly.
        QCOMPARE(max_abs_diff(logits_of(merged_model), base_logits), 0.0);
        QCOMPARE(max_abs_diff(logits_of(separate_model), base_logits), 0.0);
        // And base + Δ̂ is closer to the expert than the base is.
        Model expert_model = Model::load(expert, ModelOptions{1});
        const auto expert_logits = logits_of(expert_model);
        QVERIFY2(rms_diff(separate, expert_logits) < rms_diff(base_logits, expert_logits),
                 qPrintable(QString("compressed %1 vs base %2")
                                .arg(rms_diff(separate, expert_logits))
                                .arg(rms_diff(base_logits, expert_logits))));
    }

    void reconstructedExpertEqualsApplyPath() {
        const CompressResult r = compress_expert(m_base, m_expert, options("recon.msd"));
        Model recon = meswitch::test::reconstructed_expert(m_base, r.artifact);
        Model model = Model::load(m_base, ModelOptions{1});
        AppliedDelta a(model, r.artifact, checkpoint_hash(m_base), DeltaMode::merged);
        QVERIFY(max_abs_diff(logits_of(recon), logits_of(model)) <= 1e-5);
        QCOMPARE(QString::fromStdString(a.expert_hash()),
                 QString::fromStdString(checkpoint_hash(m_expert)));
    }

    void layerWindowsGiveTheSameArtifact() {
        // A tiny statistics budget calibrates one decoder layer per pass; the result must
        // not depend on how the layers were grouped.
        CompressOptions one = options("window-one.msd");
        CompressOptions many = options("window-many.msd");
        many.gram_budget_bytes = 1;
        const CompressResult a = compress_expert(m_base, m_expert, one);
        const CompressResult b = compress_expert(m_base, m_expert, many);
        QCOMPARE(a.layers.size(), b.layers.size());
        for (std::size_t i = 0; i < a.layers.size(); ++i)
            QCOMPARE(a.layers[i].rel_output_error, b.layers[i].rel_output_error);
        QCOMPARE(a.delta_bytes, b.delta_bytes);
        const delta::MsdFile fa(a.artifact), fb(b.artifact);
        for (const auto& l : fa.layers()) {
            const auto x = fa.load(l.prefix), y = fb.load(l.prefix);
            QVERIFY2(x.codes == y.codes && x.scales == y.scales && x.salient_idx == y.salient_idx,
                     l.prefix.c_str());
        }
    }

    void artifactMetadataRecordsTheChoices() {
        CompressOptions o = options("meta.msd");
        o.embeddings = EmbeddingStorage::dense16;
        o.salient = "4";
        const CompressResult r = compress_expert(m_base, m_expert, o);
        const delta::MsdFile msd(r.artifact);
        QCOMPARE(QString::fromStdString(msd.header().extra.at("embedding_storage")),
                 QStringLiteral("dense16"));
        QCOMPARE(msd.header().bits, 2);
        QCOMPARE(QString::fromStdString(msd.header().salient.to_string()), QStringLiteral("4"));
        QCOMPARE(msd.header().salient_count, std::int64_t(4 * 14));
        QVERIFY(msd.find_layer("model.embed_tokens") == nullptr);
        const auto& dn = msd.dense_names();
        QVERIFY(std::find(dn.begin(), dn.end(), "model.embed_tokens.weight") != dn.end());
        QVERIFY(std::find(dn.begin(), dn.end(), "model.norm.weight") != dn.end());
        QCOMPARE(r.layers.size(), std::size_t(14));
        // Every stored byte is counted: codes, scales, zeros, salient values and indices,
        // dense deltas.
        std::int64_t bytes = 0;
        for (const auto& l : msd.layers()) bytes += static_cast<std::int64_t>(l.storage_bytes);
        for (const auto& n : dn) bytes += msd.load_dense(n).to_f32().size() * 2;
        QCOMPARE(r.delta_bytes, bytes);
    }

    void catalogRecordsArtifactAndRun() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        Catalog cat(h / "catalog.sqlite");
        ImportOptions bo;
        bo.name = "tiny";
        import_model(cat, m_base, bo);
        ImportOptions eo;
        eo.name = "tiny-math";
        eo.base = "tiny";
        eo.domain = "math";
        eo.examples = {"Q: 2+2=? A: 4", "Q: 3*5=? A: 15"};
        const ModelRecord e = import_model(cat, m_expert, eo);
        CompressOptions o;
        o.threads = 1;
        int calls = 0;
        double last = -1;
        bool monotone = true;
        const CompressResult r =
            compress_catalog_expert(cat, "tiny-math", h, o, [&](double f, std::string_view) {
                ++calls;
                monotone = monotone && f >= last;
                last = f;
            });
        QVERIFY(calls > 14);
        QVERIFY(monotone);
        QCOMPARE(last, 1.0);
        QCOMPARE(r.artifact, h / "deltas" / "tiny-math-meswitch-2bit.msd");
        QVERIFY(fs::exists(r.artifact));
        QVERIFY(r.artifact_id && r.run_id);
        const auto arts = cat.delta_artifacts(e.id);
        QCOMPARE(arts.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(arts[0].path), QString::fromStdString(r.artifact.string()));
        QCOMPARE(arts[0].bits, 2);
        QCOMPARE(arts[0].bytes, r.file_bytes);
        QCOMPARE(arts[0].bits_per_param, r.bits_per_param);
        const auto run = cat.compression_run(*r.run_id);
        QVERIFY(run);
        QCOMPARE(run->status, RunStatus::finished);
        QCOMPARE(run->artifact_id, r.artifact_id);
        QCOMPARE(run->layers.size(), r.layers.size());
        QCOMPARE(QString::fromStdString(run->layers[0].layer),
                 QStringLiteral("model.layers.0.self_attn.q_proj.weight"));
        QCOMPARE(run->layers[3].rel_output_error, r.layers[3].rel_output_error);
        QCOMPARE(run->layers[3].rows, r.layers[3].rows);
        QCOMPARE(run->mean_rel_output_error, r.mean_rel_output_error);
        // The domain examples were added to the calibration text.
        QVERIFY(r.calibration_tokens > 0);

        // A re-run to the same file replaces the artifact row, keeps both runs.
        const CompressResult r2 = compress_catalog_expert(cat, "tiny-math", h, o);
        QCOMPARE(cat.delta_artifacts(e.id).size(), std::size_t(1));
        QCOMPARE(cat.compression_runs(e.id).size(), std::size_t(2));
        QCOMPARE(cat.delta_artifacts(e.id)[0].id, *r2.artifact_id);

        // A failed run is recorded with its message and no artifact.
        CompressOptions bad = o;
        bad.calibration_file = h / "missing.txt";
        QVERIFY(!error_of([&] { compress_catalog_expert(cat, "tiny-math", h, bad); }).isEmpty());
        const auto runs = cat.compression_runs(e.id);
        QCOMPARE(runs.size(), std::size_t(3));
        QCOMPARE(runs.back().status, RunStatus::failed);
        QVERIFY(runs.back().message.find("missing.txt") != std::string::npos);
        QVERIFY(!runs.back().artifact_id);
        // A base is refused.
        ErrorKind kind{};
        QVERIFY(error_of([&] { compress_catalog_expert(cat, "tiny", h, o); }, &kind)
                    .contains("base model"));
        QCOMPARE(kind, ErrorKind::invalid_argument);
    }

    void cancellationLeavesNoFileAndNoRow() {
        QTemporaryDir home;
        const fs::path h = home.path().toStdString();
        Catalog cat(h / "catalog.sqlite");
        ImportOptions bo;
        bo.name = "tiny";
        import_model(cat, m_base, bo);
        ImportOptions eo;
        eo.name = "tiny-x";
        eo.base = "tiny";
        const ModelRecord e = import_model(cat, m_expert, eo);
        for (double at : {0.0, 0.5, 0.97}) {
            CancelToken cancel;
            CompressOptions o;
            o.threads = 1;
            ErrorKind kind{};
            const QString msg = error_of(
                [&] {
                    compress_catalog_expert(
                        cat, "tiny-x", h, o,
                        [&](double f, std::string_view) {
                            if (f >= at) cancel.cancel();
                        },
                        &cancel);
                },
                &kind);
            QVERIFY2(kind == ErrorKind::cancelled, qPrintable(msg));
            QVERIFY(cat.delta_artifacts(e.id).empty());
            QVERIFY(cat.compression_runs(e.id).empty());
            if (fs::exists(h / "deltas"))
                QVERIFY2(fs::is_empty(h / "deltas"), "a file was left in the deltas folder");
        }
    }

    void baseHashMismatchIsRefused() {
        const CompressResult r = compress_expert(m_base, m_expert, options("hash.msd"));
        Model other = Model::load(m_other_base, ModelOptions{1});
        const std::string other_hash = checkpoint_hash(m_other_base);
        const auto before = logits_of(other);
        for (DeltaMode mode : {DeltaMode::merged, DeltaMode::separate}) {
            ErrorKind kind{};
            const QString msg =
                error_of([&] { AppliedDelta a(other, r.artifact, other_hash, mode); }, &kind);
            QCOMPARE(kind, ErrorKind::invalid_argument);
            QVERIFY2(msg.contains(QString::fromStdString(r.base_hash)), qPrintable(msg));
            QVERIFY2(msg.contains(QString::fromStdString(other_hash)), qPrintable(msg));
        }
        QCOMPARE(max_abs_diff(logits_of(other), before), 0.0);  // left untouched
        // Mismatched models are refused when compressing, naming the problem.
        test::TinyModelSpec wide;
        wide.hidden = 48;
        wide.heads = 4;
        write_tiny_model(path("wide"), wide);
        QVERIFY(error_of([&] {
                    compress_expert(m_base, path("wide"), options("bad.msd"));
                }).contains("does not have the shape"));
        QVERIFY(!fs::exists(path("bad.msd")));
    }

    void optionErrorsAreClear() {
        CompressOptions o = options("opt.msd");
        o.method = "gptq";
        QVERIFY(error_of([&] { compress_expert(m_base, m_expert, o); }).contains("gptq"));
        o = options("opt.msd");
        o.bits = 7;
        QVERIFY(error_of([&] { compress_expert(m_base, m_expert, o); }).contains("1 to 4"));
        o = options("opt.msd");
        o.method = "rtn";
        o.salient = "3";
        QVERIFY(error_of([&] { compress_expert(m_base, m_expert, o); }).contains("salient"));
        QVERIFY(!fs::exists(path("opt.msd")));
    }

    void evalNllEqualsDirectComputation() {
        Model model = Model::load(m_base, ModelOptions{1});
        Model other = Model::load(m_expert, ModelOptions{1});
        const Tokenizer tok = Tokenizer::from_folder(m_base);
        const std::vector<std::string> lines = {"hello world", "", "the cat sat on the mat",
                                                "Q: 2+2=? A: 4"};
        const EvalResult r = evaluate(model, tok, lines, &other);
        // Direct: token by token through the KV cache, log-softmax in long double.
        long double nll = 0;
        std::int64_t count = 0;
        for (const auto& line : lines) {
            if (line.empty()) continue;
            std::vector<std::int32_t> ids{*model.config().bos_token_id};
            for (auto id : tok.encode(line, false)) ids.push_back(id);
            KvCache cache = model.make_cache(static_cast<std::int64_t>(ids.size()));
            for (std::size_t t = 0; t + 1 < ids.size(); ++t) {
                const std::int32_t one[] = {ids[t]};
                const auto lg = model.forward(one, cache);
                long double z = 0;
                for (float v : lg) z += std::exp(static_cast<long double>(v));
                nll += std::log(z) - lg[static_cast<std::size_t>(ids[t + 1])];
                ++count;
            }
        }
        QCOMPARE(r.tokens, count);
        QCOMPARE(r.lines, std::int64_t(3));
        QVERIFY2(
            std::abs(r.mean_nll - static_cast<double>(nll / count)) < 1e-5,
            qPrintable(QString("%1 vs %2").arg(r.mean_nll).arg(static_cast<double>(nll / count))));
        QVERIFY(std::abs(r.perplexity - std::exp(r.mean_nll)) < 1e-9);
        QVERIFY(r.kl && *r.kl > 0);
        // KL of a model against itself is zero.
        const EvalResult self = evaluate(model, tok, lines, &model);
        QVERIFY(self.kl && std::abs(*self.kl) < 1e-9);
        // Only empty lines: a clear error.
        QVERIFY(error_of([&] { evaluate(model, tok, {"", ""}); }).contains("no line"));
    }
};

QTEST_GUILESS_MAIN(TestDeltaPipeline)
#include "test_delta_pipeline.moc"
