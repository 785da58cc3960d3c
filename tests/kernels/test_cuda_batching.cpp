// The CUDA backend's batched step (DeviceBackend::forward_batch over
// cuda::CudaModel::forward_batch) on tiny generated bases with three in-memory experts that
// between them hold every kind of term a sequence can carry: compressed decoder linears
// (all seven kinds), compressed and dense embeddings, compressed and dense heads, norm
// weights and biases. One batch mixes the base and the experts, prompts of different
// lengths, all-positions logits and sequences at different positions; three steps run
// (prefill, then decode at different offsets). Every sequence's logits must match
//  - the CPU backend's forward_batch on the same batch,
//  - the same sequence alone in a batch on the GPU, and
//  - CUDA forward() with that expert active in separate mode,
// within the dtype bounds of test_cuda_model (NMSE ≤ 1e-8 f32, ≤ 1e-3 bf16); the expert's
// logits must differ from the base's on the same tokens (the terms are applied), and the base
// weights stay bit-identical (a batched step never touches them). A delta holding a tensor that
// cannot be added per sequence is refused by batches_delta, naming it, and is served by the
// sequence-by-sequence fallback. Mixtral (the tiny-mixtral fixture) batches its attention
// deltas and refuses a router delta. Everything skips with "no CUDA device: <reason>" without
// a GPU.
#include <QtTest>

#include <map>

#include "gpu_test_util.h"
#include "meswitch/error.h"
#include "meswitch/model.h"
#include "serve/device_backend.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace gpu_test;
using meswitch::DType;
using meswitch::LinearKind;
namespace serve = meswitch::serve;
namespace delta = meswitch::delta;

Q_DECLARE_METATYPE(meswitch::DType)

namespace {

double bound_for(DType d) {
    return d == DType::f32 ? 1e-8 : d == DType::f16 ? 1e-5 : 1e-3;
}

std::filesystem::path tiny_base(const std::string& arch, DType dtype, bool tie) {
    meswitch::test::TinyModelSpec spec;
    spec.arch = arch;
    spec.dtype = dtype;
    spec.tie_embeddings = tie;
    spec.sliding_window = 6;  // mistral: shorter than the longest sequences below
    const auto dir = meswitch::test::output_dir("cuda_batching") /
                     (arch + "-" + meswitch::dtype_name(dtype) + (tie ? "-tied" : ""));
    meswitch::test::write_tiny_model(dir, spec);
    return dir;
}

bool has_weight(const meswitch::Model& m, const std::string& name) {
    for (const std::string& n : m.weight_names())
        if (n == name) return true;
    return false;
}

// A compressed delta for 2-D weight `weight` of `m` (random codes, small steps).
void add_linear(serve::HostDelta& h, const meswitch::Model& m, const std::string& weight,
                std::uint64_t seed) {
    const auto v = m.weight(weight);
    DeltaSpec s;
    s.rows = v.shape[0];
    s.cols = v.shape[1];
    s.salient = 2;
    s.scale = 0.004f;
    s.seed = seed;
    h.linears.push_back({weight.substr(0, weight.size() - 7), random_delta(s)});
}

// A dense delta of `weight`'s shape, uniform in ±scale, stored as `dtype`.
void add_dense(serve::HostDelta& h, const meswitch::Model& m, const std::string& weight,
               DType dtype, float scale, std::uint64_t seed) {
    delta::DenseDelta d;
    d.name = weight;
    d.dtype = dtype;
    d.shape = m.weight(weight).shape;
    std::size_t n = 1;
    for (auto s : d.shape) n *= static_cast<std::size_t>(s);
    const std::vector<float> v = random_vector(n, seed, -scale, scale);
    if (dtype == DType::f32) {
        d.f32 = v;
    } else {
        for (float x : v)
            d.bits16.push_back(dtype == DType::f16 ? meswitch::f32_to_f16(x)
                                                   : meswitch::f32_to_bf16(x));
    }
    h.dense.push_back(std::move(d));
}

// Expert `which` (0, 1, 2) of `m`: between them, every term forward_batch adds per sequence.
//  0: k, o, gate linears; final norm (f32); dense f16 embedding; biases where the base has them.
//  1: q, v, up, down linears; compressed embedding and head; input and post-attention norms.
//  2: all seven linears; a dense head (bf16; the dense embeddings when tied).
serve::HostDelta make_expert(const meswitch::Model& m, int which) {
    const meswitch::ModelConfig& c = m.config();
    const bool moe = c.arch == meswitch::ModelArch::mixtral;
    serve::HostDelta h;
    h.name = "expert" + std::to_string(which);
    std::vector<LinearKind> kinds;
    if (which == 0) kinds = {LinearKind::k_proj, LinearKind::o_proj, LinearKind::gate_proj};
    if (which == 1)
        kinds = {LinearKind::q_proj, LinearKind::v_proj, LinearKind::up_proj,
                 LinearKind::down_proj};
    if (which == 2)
        kinds = {LinearKind::q_proj,   LinearKind::k_proj,    LinearKind::v_proj,
                 LinearKind::o_proj,   LinearKind::gate_proj, LinearKind::up_proj,
                 LinearKind::down_proj};
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l)
        for (LinearKind kind : kinds) {
            if (moe && static_cast<int>(kind) > static_cast<int>(LinearKind::o_proj)) continue;
            add_linear(h, m, meswitch::linear_weight_name({l, kind}),
                       static_cast<std::uint64_t>(which * 1000 + l * 10 + static_cast<int>(kind)));
        }
    const std::string embed = "model.embed_tokens.weight", head = "lm_head.weight";
    const bool tied = c.tie_word_embeddings;
    const std::uint64_t seed = 77 + static_cast<std::uint64_t>(which);
    if (which == 0) {
        add_dense(h, m, "model.norm.weight", DType::f32, 0.05f, seed);
        add_dense(h, m, embed, DType::f16, 0.01f, seed + 10);
        for (const char* b :
             {"model.layers.0.self_attn.q_proj.bias", "model.layers.1.self_attn.v_proj.bias"})
            if (has_weight(m, b)) add_dense(h, m, b, DType::f32, 0.05f, seed + 20);
    } else if (which == 1) {
        add_linear(h, m, embed, seed + 30);
        if (!tied && has_weight(m, head)) add_linear(h, m, head, seed + 40);
        add_dense(h, m, "model.layers.1.input_layernorm.weight", DType::f16, 0.05f, seed + 50);
        add_dense(h, m, "model.layers.0.post_attention_layernorm.weight", DType::f32, 0.05f,
                  seed + 60);
    } else {
        add_dense(h, m, tied ? embed : head, DType::bf16, 0.01f, seed + 70);
    }
    return h;
}

// One sequence of the scenario: its expert (−1: the base) and its tokens at every step.
struct Seq {
    int expert = -1;
    std::vector<std::vector<std::int32_t>> steps;
    bool all_positions = false;
};

std::vector<std::int32_t> ids(std::int64_t vocab, int n, int seed) {
    std::vector<std::int32_t> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[i] = static_cast<std::int32_t>((i * 131 + seed * 17 + 1) % vocab);
    return v;
}

// The base and every expert, prompts of 1 to 9 tokens (two sequences sharing an expert, one
// with all positions), then steps of 1 or 2 tokens; sequence 1 runs sequence 0's tokens on the
// base (to see that expert 0's terms change its logits).
std::vector<Seq> scenario(std::int64_t vocab) {
    std::vector<Seq> s;
    auto add = [&](int expert, std::vector<int> lengths, int seed, bool all = false) {
        Seq q;
        q.expert = expert;
        q.all_positions = all;
        for (std::size_t i = 0; i < lengths.size(); ++i)
            q.steps.push_back(ids(vocab, lengths[i], seed * 10 + static_cast<int>(i)));
        s.push_back(std::move(q));
    };
    add(0, {7, 1, 1}, 1);
    s.push_back(s.front());
    s.back().expert = -1;
    add(1, {9, 2, 1}, 2);
    add(-1, {4, 1, 1}, 3);
    add(0, {1, 1, 2}, 4);
    add(2, {3, 1, 1}, 5);
    add(1, {2, 2, 1}, 6, true);
    add(2, {8, 1, 1}, 7, true);
    return s;
}

using StepLogits = std::vector<std::vector<float>>;  // per sequence

// Runs every step of `seqs` as one batch on `b` (fresh caches); logits per step per sequence.
std::vector<StepLogits> run_batched(serve::DeviceBackend& b,
                                    const std::vector<const serve::DeviceDelta*>& deltas,
                                    const std::vector<Seq>& seqs) {
    const std::int64_t vocab = b.config().vocab_size;
    std::vector<std::unique_ptr<serve::DeviceCache>> caches;
    for (std::size_t i = 0; i < seqs.size(); ++i) caches.push_back(b.make_cache(32));
    std::vector<StepLogits> out;
    for (std::size_t step = 0; step < seqs.front().steps.size(); ++step) {
        std::vector<serve::BatchEntry> batch;
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            const Seq& q = seqs[i];
            batch.push_back({q.steps[step], caches[i].get(),
                             q.expert < 0 ? nullptr : deltas[static_cast<std::size_t>(q.expert)],
                             q.all_positions});
        }
        const std::vector<float> all = b.forward_batch(batch);
        StepLogits per;
        std::size_t at = 0;
        for (const Seq& q : seqs) {
            const std::size_t n =
                (q.all_positions ? q.steps[step].size() : 1) * static_cast<std::size_t>(vocab);
            if (at + n > all.size()) return {};  // the caller's size checks fail
            per.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(at),
                             all.begin() + static_cast<std::ptrdiff_t>(at + n));
            at += n;
        }
        if (at != all.size()) return {};
        out.push_back(std::move(per));
    }
    return out;
}

// Sequence `q` by forward() with its expert active in separate mode (the base after).
std::vector<std::vector<float>> run_forward(serve::DeviceBackend& b,
                                            const serve::DeviceDelta* delta, const Seq& q) {
    b.activate(delta, meswitch::DeltaMode::separate);
    auto cache = b.make_cache(32);
    std::vector<std::vector<float>> out;
    for (const auto& tokens : q.steps) out.push_back(b.forward(tokens, *cache, q.all_positions));
    b.activate(nullptr, meswitch::DeltaMode::merged);
    return out;
}

QString where(const char* what, std::size_t step, std::size_t seq, double err) {
    return QString("%1: step %2 sequence %3 NMSE %4").arg(what).arg(step).arg(seq).arg(err);
}

}  // namespace

class TestCudaBatching : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { MESWITCH_REQUIRE_CUDA_DEVICE(); }

    void matches_cpu_and_single_sequences_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<DType>("dtype");
        QTest::addColumn<bool>("tie");
        QTest::newRow("llama-f32") << QString("llama") << DType::f32 << false;
        QTest::newRow("llama-bf16") << QString("llama") << DType::bf16 << false;
        QTest::newRow("llama-f32-tied") << QString("llama") << DType::f32 << true;
        QTest::newRow("qwen2-f32 (biases)") << QString("qwen2") << DType::f32 << false;
        QTest::newRow("mistral-f32 (window 6)") << QString("mistral") << DType::f32 << false;
    }
    void matches_cpu_and_single_sequences() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        QFETCH(QString, arch);
        QFETCH(DType, dtype);
        QFETCH(bool, tie);
        const double bound = bound_for(dtype);
        const auto dir = tiny_base(arch.toStdString(), dtype, tie);
        auto host = meswitch::Model::load(dir);
        std::vector<serve::HostDelta> experts;
        for (int e = 0; e < 3; ++e) experts.push_back(make_expert(host, e));
        auto cpu = serve::make_cpu_backend(meswitch::Model::load(dir));
        auto gpu = serve::open_backend("cuda", meswitch::Model::load(dir));
        QCOMPARE(QString::fromStdString(gpu->kind()), QString("cuda"));
        std::vector<std::unique_ptr<serve::DeviceDelta>> cd, gd;
        std::vector<const serve::DeviceDelta*> cdp, gdp;
        for (const auto& h : experts) {
            cd.push_back(cpu->upload(h));
            gd.push_back(gpu->upload(h));
            cdp.push_back(cd.back().get());
            gdp.push_back(gd.back().get());
            std::string why = "unset";
            QVERIFY2(gpu->batches_delta(*gd.back(), &why), why.c_str());
            QVERIFY(why.empty());
            QVERIFY2(cpu->batches_delta(*cd.back(), &why), why.c_str());
        }
        std::map<std::string, std::vector<std::byte>> original;
        for (const std::string& n : host.weight_names()) original[n] = gpu->read_weight(n);

        const std::vector<Seq> seqs = scenario(host.config().vocab_size);
        const std::vector<StepLogits> got = run_batched(*gpu, gdp, seqs);
        const std::vector<StepLogits> ref = run_batched(*cpu, cdp, seqs);
        QCOMPARE(got.size(), seqs.front().steps.size());
        QCOMPARE(ref.size(), got.size());
        for (std::size_t step = 0; step < got.size(); ++step)
            for (std::size_t i = 0; i < seqs.size(); ++i) {
                const double err = nmse(got[step][i], ref[step][i]);
                QVERIFY2(err <= bound, qPrintable(where("vs CPU forward_batch", step, i, err)));
            }
        // Expert 0's terms change the logits of the same tokens on the base (sequence 1).
        for (std::size_t step = 0; step < got.size(); ++step) {
            const double moved = nmse(got[step][0], got[step][1]);
            QVERIFY2(moved > 1e-6, qPrintable(where("expert vs base", step, 0, moved)));
        }
        for (const auto& [n, bytes] : original)
            QVERIFY2(gpu->read_weight(n) == bytes, ("weight changed: " + n).c_str());

        for (std::size_t i = 0; i < seqs.size(); ++i) {
            const Seq& q = seqs[i];
            const serve::DeviceDelta* d =
                q.expert < 0 ? nullptr : gdp[static_cast<std::size_t>(q.expert)];
            const std::vector<StepLogits> alone = run_batched(*gpu, gdp, {q});
            QCOMPARE(alone.size(), got.size());
            const auto single = run_forward(*gpu, d, q);
            for (std::size_t step = 0; step < got.size(); ++step) {
                double err = nmse(got[step][i], alone[step][0]);
                QVERIFY2(err <= bound, qPrintable(where("vs alone in a batch", step, i, err)));
                err = nmse(got[step][i], single[step]);
                QVERIFY2(err <= bound, qPrintable(where("vs separate forward()", step, i, err)));
            }
        }
        QVERIFY(gpu->active() == nullptr);
        for (const auto& [n, bytes] : original)
            QVERIFY2(gpu->read_weight(n) == bytes, ("weight not restored: " + n).c_str());
    }

    // With an expert merged in place, sequences without a delta run on it (and ones with a
    // delta on top of it), as on the CPU; with one active in separate mode the step is refused.
    void merged_expert_and_separate_refusal() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        const auto dir = tiny_base("llama", DType::f32, false);
        auto host = meswitch::Model::load(dir);
        const serve::HostDelta e0 = make_expert(host, 0), e1 = make_expert(host, 1);
        auto cpu = serve::make_cpu_backend(meswitch::Model::load(dir));
        auto gpu = serve::open_backend("cuda", meswitch::Model::load(dir));
        auto c0 = cpu->upload(e0), c1 = cpu->upload(e1);
        auto g0 = gpu->upload(e0), g1 = gpu->upload(e1);
        cpu->activate(c0.get(), meswitch::DeltaMode::merged);
        gpu->activate(g0.get(), meswitch::DeltaMode::merged);
        std::vector<Seq> seqs = scenario(host.config().vocab_size);
        for (Seq& q : seqs)
            if (q.expert != 1) q.expert = -1;  // the merged expert; expert 1 on top of it
        const auto got = run_batched(*gpu, {g0.get(), g1.get()}, seqs);
        const auto ref = run_batched(*cpu, {c0.get(), c1.get()}, seqs);
        QCOMPARE(got.size(), seqs.front().steps.size());
        QCOMPARE(ref.size(), got.size());
        for (std::size_t step = 0; step < got.size(); ++step)
            for (std::size_t i = 0; i < seqs.size(); ++i) {
                const double err = nmse(got[step][i], ref[step][i]);
                QVERIFY2(err <= bound_for(DType::f32),
                         qPrintable(where("merged vs CPU", step, i, err)));
            }

        gpu->activate(g0.get(), meswitch::DeltaMode::separate);
        auto cache = gpu->make_cache(8);
        const std::vector<std::int32_t> one = {5};
        const serve::BatchEntry entry{one, cache.get(), g1.get(), false};
        try {
            gpu->forward_batch(std::span<const serve::BatchEntry>(&entry, 1));
            QFAIL("forward_batch ran with an expert active in separate mode");
        } catch (const meswitch::Error& e) {
            QCOMPARE(e.kind(), meswitch::ErrorKind::invalid_argument);
        }
        QCOMPARE(cache->size(), std::int64_t(0));
        gpu->activate(nullptr, meswitch::DeltaMode::merged);
    }

    // A dense delta of a decoder linear cannot be added per sequence: batches_delta says so,
    // naming the tensor, and forward_batch still serves it (sequence by sequence, the base
    // active again after) with the logits of forward() in separate mode.
    void unbatchable_delta_falls_back() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        const auto dir = tiny_base("llama", DType::f32, false);
        auto host = meswitch::Model::load(dir);
        serve::HostDelta odd = make_expert(host, 1);
        odd.name = "odd";
        const std::string dense_linear = "model.layers.0.self_attn.k_proj.weight";
        add_dense(odd, host, dense_linear, DType::f16, 0.004f, 5);
        const serve::HostDelta fine = make_expert(host, 2);
        auto gpu = serve::open_backend("cuda", meswitch::Model::load(dir));
        auto god = gpu->upload(odd), gfine = gpu->upload(fine);
        std::string why;
        QVERIFY(!gpu->batches_delta(*god, &why));
        QVERIFY2(QString::fromStdString(why).contains(QString::fromStdString(dense_linear)),
                 why.c_str());
        QVERIFY(gpu->batches_delta(*gfine, &why));

        std::vector<Seq> seqs = scenario(host.config().vocab_size);
        for (Seq& q : seqs)
            if (q.expert >= 0) q.expert = q.expert == 1 ? 0 : 1;  // 0: odd, 1: fine
        const auto got = run_batched(*gpu, {god.get(), gfine.get()}, seqs);
        QCOMPARE(got.size(), seqs.front().steps.size());
        QVERIFY(gpu->active() == nullptr);
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            const Seq& q = seqs[i];
            const serve::DeviceDelta* d =
                q.expert < 0 ? nullptr : (q.expert == 0 ? god.get() : gfine.get());
            const auto single = run_forward(*gpu, d, q);
            for (std::size_t step = 0; step < got.size(); ++step) {
                const double err = nmse(got[step][i], single[step]);
                QVERIFY2(err <= bound_for(DType::f32),
                         qPrintable(where("fallback vs forward()", step, i, err)));
            }
        }
    }

    // Mixtral: attention deltas, norms and the (tied) embeddings batch per sequence, the MoE
    // block runs once over every row; a router delta is refused by batches_delta.
    void tiny_mixtral_batches_attention_deltas() {
        MESWITCH_REQUIRE_CUDA_DEVICE();
        MESWITCH_REQUIRE_FIXTURE(dir, "tiny-mixtral/base");
        auto host = meswitch::Model::load(dir);
        QVERIFY(host.config().arch == meswitch::ModelArch::mixtral);
        std::vector<serve::HostDelta> experts;
        for (int e = 0; e < 3; ++e) experts.push_back(make_expert(host, e));
        auto cpu = serve::make_cpu_backend(meswitch::Model::load(dir));
        auto gpu = serve::open_backend("cuda", meswitch::Model::load(dir));
        std::vector<std::unique_ptr<serve::DeviceDelta>> cd, gd;
        std::vector<const serve::DeviceDelta*> cdp, gdp;
        for (const auto& h : experts) {
            cd.push_back(cpu->upload(h));
            gd.push_back(gpu->upload(h));
            cdp.push_back(cd.back().get());
            gdp.push_back(gd.back().get());
            std::string why;
            QVERIFY2(gpu->batches_delta(*gd.back(), &why), why.c_str());
        }
        const std::vector<Seq> seqs = scenario(host.config().vocab_size);
        const auto got = run_batched(*gpu, gdp, seqs);
        const auto ref = run_batched(*cpu, cdp, seqs);
        QCOMPARE(got.size(), seqs.front().steps.size());
        QCOMPARE(ref.size(), got.size());
        for (std::size_t step = 0; step < got.size(); ++step)
            for (std::size_t i = 0; i < seqs.size(); ++i) {
                const double err = nmse(got[step][i], ref[step][i]);
                QVERIFY2(err <= bound_for(DType::f32),
                         qPrintable(where("Mixtral vs CPU", step, i, err)));
            }

        serve::HostDelta router;
        router.name = "router";
        add_linear(router, host, "model.layers.0.block_sparse_moe.gate.weight", 9);
        auto gr = gpu->upload(router);
        std::string why;
        QVERIFY(!gpu->batches_delta(*gr, &why));
        QVERIFY2(QString::fromStdString(why).contains("block_sparse_moe.gate"), why.c_str());
    }
};

QTEST_GUILESS_MAIN(TestCudaBatching)
#include "test_cuda_batching.moc"
