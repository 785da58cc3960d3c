// CUDA kernels vs the CPU backend ("test-backend-ops"): same inputs, outputs compared by
// normalised mean squared error NMSE = Σ(gpu − cpu)² / Σ cpu², or bit for bit where the
// kernel promises exactness. Every test skips with "no CUDA device: <reason>" without a GPU.
//
// Bounds: embedding, add, convert, argmax, delta_apply, dense_delta_apply: exact.
// rmsnorm, rope, swiglu, attention, delta_matmul, cuBLAS linear on f32: NMSE ≤ 1e-10
// (float32 sums in another order). cuBLAS linear on f16 weights: ≤ 1e-6, on bf16: ≤ 1e-4
// (activations rounded to the weights' type before the GEMM; the CPU keeps them in f32).
#include <QtTest>

#include <algorithm>
#include <cstring>

#include "add.cuh"
#include "argmax.cuh"
#include "attention.cuh"
#include "backend/cpu/ops.h"
#include "backend/cpu/rows.h"
#include "backend/cuda/allocator.h"
#include "backend/cuda/cublas_handle.h"
#include "convert.cuh"
#include "core/thread_pool.h"
#include "delta_apply.cuh"
#include "delta_matmul.cuh"
#include "embedding.cuh"
#include "gather_rows.cuh"
#include "gpu_test_util.h"
#include "rmsnorm.cuh"
#include "rope.cuh"
#include "scatter_add.cuh"
#include "swiglu.cuh"

using namespace gpu_test;
using meswitch::DType;
namespace k = meswitch::kernels;
namespace delta = meswitch::delta;

Q_DECLARE_METATYPE(meswitch::DType)
Q_DECLARE_METATYPE(meswitch::delta::ZeroFormat)

namespace {

k::WType wtype(DType d) {
    return static_cast<k::WType>(static_cast<int>(d));
}

// The device form of a CompressedLinear for the delta kernels (test-owned buffers).
struct TestDelta {
    std::vector<std::unique_ptr<DeviceBytes>> bufs;
    k::PackedDelta p;
    explicit TestDelta(const delta::CompressedLinear& c) {
        auto up = [&](const void* h, std::size_t n) {
            bufs.push_back(std::make_unique<DeviceBytes>(h, n));
            return bufs.back()->ptr;
        };
        std::vector<std::int32_t> col_src(static_cast<std::size_t>(c.cols));
        std::int32_t code = 0;
        std::size_t s = 0;
        for (std::int64_t col = 0; col < c.cols; ++col) {
            if (s < c.salient_idx.size() && c.salient_idx[s] == col)
                col_src[col] = -static_cast<std::int32_t>(s++) - 1;
            else
                col_src[col] = code++;
        }
        p.rows = c.rows;
        p.cols = c.cols;
        p.bits = c.bits;
        p.row_bytes = c.row_bytes;
        p.codes = static_cast<const std::uint8_t*>(up(c.codes.data(), c.codes.size()));
        p.scales = static_cast<const std::uint16_t*>(up(c.scales.data(), c.scales.size() * 2));
        p.per_row_scale = c.scales.size() == 1 ? 0 : 1;
        p.zero_format = static_cast<int>(c.zero_format);
        if (!c.zeros.empty())
            p.zeros = static_cast<const std::uint16_t*>(up(c.zeros.data(), c.zeros.size() * 2));
        p.salient = c.salient_count();
        if (p.salient > 0) {
            p.salient_idx = static_cast<const std::int32_t*>(
                up(c.salient_idx.data(), c.salient_idx.size() * 4));
            p.salient_values = static_cast<const std::uint16_t*>(
                up(c.salient_values.data(), c.salient_values.size() * 2));
        }
        p.salient_bf16 = c.salient_dtype == DType::bf16 ? 1 : 0;
        p.col_src = static_cast<const std::int32_t*>(up(col_src.data(), col_src.size() * 4));
    }
};

void sync_ok() {
    QCOMPARE(cudaDeviceSynchronize(), cudaSuccess);
}

}  // namespace

class TestKernels : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { MESWITCH_REQUIRE_CUDA_DEVICE(); }

    void rmsnorm_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::newRow("decode 4096") << 1 << 4096;
        QTest::newRow("prefill 7x64") << 7 << 64;
        QTest::newRow("odd 3x1000") << 3 << 1000;
        QTest::newRow("wide 2x14336") << 2 << 14336;
    }
    void rmsnorm() {  // NMSE ≤ 1e-10
        QFETCH(int, rows);
        QFETCH(int, cols);
        const auto x = random_vector(std::size_t(rows) * cols, 1);
        const auto w = random_vector(cols, 2, 0.5f, 1.5f);
        std::vector<float> ref(x.size());
        meswitch::cpu::rmsnorm(x.data(), w.data(), ref.data(), rows, cols, 1e-5f);
        DeviceBytes dx(x), dw(w), dy(x.size() * 4);
        QCOMPARE(k::rmsnorm_f32(dx.as<float>(), dw.as<float>(), dy.as<float>(), rows, cols, 1e-5f,
                                nullptr),
                 cudaSuccess);
        sync_ok();
        const double err = nmse(dy.download<float>(x.size()), ref);
        QVERIFY2(err <= 1e-10, qPrintable(QString("NMSE %1").arg(err)));
    }

    void embedding_data() {
        QTest::addColumn<DType>("dtype");
        QTest::newRow("f32") << DType::f32;
        QTest::newRow("f16") << DType::f16;
        QTest::newRow("bf16") << DType::bf16;
    }
    void embedding() {  // exact
        QFETCH(DType, dtype);
        const std::int64_t vocab = 301, cols = 77;
        const auto table = encode(random_vector(vocab * cols, 3), dtype);
        const std::vector<std::int32_t> ids = {0, 300, 5, 5, 123};
        std::vector<float> ref(ids.size() * cols);
        meswitch::cpu::embedding({dtype, vocab, cols, table.data()}, ids, ref.data());
        DeviceBytes dt(table), di(ids), dout(ref.size() * 4);
        QCOMPARE(k::embedding(dt.ptr, wtype(dtype), cols, di.as<std::int32_t>(), int(ids.size()),
                              dout.as<float>(), nullptr),
                 cudaSuccess);
        sync_ok();
        QVERIFY(dout.download<float>(ref.size()) == ref);
    }

    void rope_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("pos0");
        QTest::addColumn<int>("scaling");  // 0 none, 1 linear, 2 llama3
        QTest::newRow("prefill 5x4x8") << 5 << 4 << 8 << 0 << 0;
        QTest::newRow("decode 1x32x128 at 1000") << 1 << 32 << 128 << 1000 << 0;
        QTest::newRow("odd heads 3x7x64 linear") << 3 << 7 << 64 << 17 << 1;
        QTest::newRow("llama3 2x8x128 at 9000") << 2 << 8 << 128 << 9000 << 2;
    }
    void rope() {  // NMSE ≤ 1e-10
        QFETCH(int, rows);
        QFETCH(int, heads);
        QFETCH(int, head_dim);
        QFETCH(int, pos0);
        QFETCH(int, scaling);
        meswitch::RopeScaling sc;
        sc.type = scaling == 0   ? meswitch::RopeScaling::Type::none
                  : scaling == 1 ? meswitch::RopeScaling::Type::linear
                                 : meswitch::RopeScaling::Type::llama3;
        sc.factor = scaling == 1 ? 2.0 : 8.0;
        const auto inv = meswitch::cpu::rope_inv_freq(head_dim, 500000.0, sc);
        auto x = random_vector(std::size_t(rows) * heads * head_dim, 4);
        DeviceBytes dx(x), dinv(inv);
        meswitch::cpu::rope(x.data(), rows, heads, head_dim, pos0, inv);
        QCOMPARE(k::rope_f32(dx.as<float>(), rows, heads, head_dim, std::int64_t(heads) * head_dim,
                             pos0, dinv.as<float>(), nullptr),
                 cudaSuccess);
        sync_ok();
        const double err = nmse(dx.download<float>(x.size()), x);
        QVERIFY2(err <= 1e-10, qPrintable(QString("NMSE %1").arg(err)));
    }

    void swiglu_and_add() {  // swiglu NMSE ≤ 1e-10; add, add_bias exact
        const std::size_t n = 3 * 1001;
        const auto g = random_vector(n, 5, -6.f, 6.f), u = random_vector(n, 6);
        std::vector<float> ref(n);
        meswitch::cpu::swiglu(g.data(), u.data(), ref.data(), n);
        DeviceBytes dg(g), du(u), dout(n * 4);
        QCOMPARE(k::swiglu_f32(dg.as<float>(), du.as<float>(), dout.as<float>(), n, nullptr),
                 cudaSuccess);
        sync_ok();
        const double err = nmse(dout.download<float>(n), ref);
        QVERIFY2(err <= 1e-10, qPrintable(QString("swiglu NMSE %1").arg(err)));

        auto y = g;
        meswitch::cpu::add(y.data(), u.data(), n);
        const auto bias = random_vector(1001, 8);
        meswitch::cpu::add_bias(y.data(), bias.data(), 3, 1001);
        DeviceBytes dy(g), db(bias);
        QCOMPARE(k::add_f32(dy.as<float>(), du.as<float>(), n, nullptr), cudaSuccess);
        QCOMPARE(k::add_bias_f32(dy.as<float>(), db.as<float>(), 3, 1001, nullptr), cudaSuccess);
        sync_ok();
        QVERIFY(dy.download<float>(n) == y);
    }

    void gather_rows_and_scatter_add() {  // exact (the product is rounded before the add)
        const std::int64_t src_rows = 37, cols = 131, n = 19;
        const auto src = random_vector(static_cast<std::size_t>(src_rows * cols), 21);
        std::vector<std::int32_t> rows(static_cast<std::size_t>(src_rows));
        for (std::int32_t i = 0; i < src_rows; ++i) rows[static_cast<std::size_t>(i)] = i;
        std::shuffle(rows.begin(), rows.end(), std::mt19937(22));
        rows.resize(static_cast<std::size_t>(n));  // distinct, in no particular order
        std::vector<float> gathered(static_cast<std::size_t>(n * cols));
        meswitch::cpu::gather_rows(src.data(), cols, rows.data(), n, gathered.data());
        DeviceBytes dsrc(src), drows(rows), dgathered(gathered.size() * 4);
        QCOMPARE(k::gather_rows_f32(dsrc.as<float>(), cols, drows.as<std::int32_t>(), n,
                                    dgathered.as<float>(), nullptr),
                 cudaSuccess);
        sync_ok();
        QVERIFY(dgathered.download<float>(gathered.size()) == gathered);

        const auto weights = random_vector(static_cast<std::size_t>(n), 23, 0.f, 1.f);
        const auto y0 = random_vector(src.size(), 24);
        auto y = y0;
        meswitch::cpu::scatter_add_weighted(y.data(), cols, rows.data(), weights.data(),
                                            gathered.data(), n);
        QVERIFY(y != y0);
        DeviceBytes dy(y0), dw(weights);
        QCOMPARE(k::scatter_add_weighted_f32(dy.as<float>(), cols, drows.as<std::int32_t>(),
                                             dw.as<float>(), dgathered.as<float>(), n, nullptr),
                 cudaSuccess);
        sync_ok();
        QVERIFY(dy.download<float>(y.size()) == y);
    }

    void convert_and_argmax() {  // exact
        const std::size_t n = 4099;
        auto x = random_vector(n, 9, -70000.f, 70000.f);
        x[17] = 1e-42f;  // subnormal
        for (DType dt : {DType::f16, DType::bf16}) {
            DeviceBytes dx(x), dh(n * 2);
            QCOMPARE(k::convert_from_f32(dx.as<float>(), dh.ptr, wtype(dt), n, nullptr),
                     cudaSuccess);
            sync_ok();
            QVERIFY(dh.download<std::byte>(n * 2) == encode(x, dt));
            DeviceBytes back(n * 4);
            QCOMPARE(k::convert_to_f32(dh.ptr, wtype(dt), back.as<float>(), n, nullptr),
                     cudaSuccess);
            sync_ok();
            const auto enc = encode(x, dt);
            std::vector<float> ref(n);
            meswitch::convert_to_f32(dt, enc.data(), ref.data(), n);
            QVERIFY(back.download<float>(n) == ref);
        }
        auto logits = random_vector(32003, 10);
        logits[31000] = 50.f;
        logits[777] = 50.f;  // tie: the first wins
        DeviceBytes dl(logits), di(4);
        QCOMPARE(k::argmax_f32(dl.as<float>(), std::int64_t(logits.size()), di.as<std::int32_t>(),
                               nullptr),
                 cudaSuccess);
        sync_ok();
        QCOMPARE(di.download<std::int32_t>(1)[0],
                 std::int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin()));
    }

    void attention_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("pos0");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kv_heads");
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("window");
        QTest::newRow("prefill 9 tokens GQA 8/4 d8") << 9 << 0 << 8 << 4 << 8 << 0;
        QTest::newRow("decode at 300, 32/8 d128") << 1 << 300 << 32 << 8 << 128 << 0;
        QTest::newRow("prefill after 20, MHA d64") << 13 << 20 << 4 << 4 << 64 << 0;
        QTest::newRow("sliding window 16, decode at 100") << 1 << 100 << 6 << 2 << 96 << 16;
        QTest::newRow("sliding window 5, prefill 11") << 11 << 3 << 4 << 1 << 256 << 5;
        QTest::newRow("odd head_dim 34") << 3 << 2 << 3 << 1 << 34 << 0;
    }
    void attention() {  // NMSE ≤ 1e-10
        QFETCH(int, rows);
        QFETCH(int, pos0);
        QFETCH(int, heads);
        QFETCH(int, kv_heads);
        QFETCH(int, head_dim);
        QFETCH(int, window);
        const std::int64_t kvd = std::int64_t(kv_heads) * head_dim,
                           stride = kvd + 3;  // padded rows
        const std::int64_t positions = pos0 + rows;
        const auto q = random_vector(std::size_t(rows) * heads * head_dim, 11);
        const auto keys = random_vector(std::size_t(positions * stride), 12);
        const auto vals = random_vector(std::size_t(positions * stride), 13);
        std::vector<float> ref(q.size());
        meswitch::ThreadPool pool(2);
        meswitch::cpu::AttentionShape shape{
            heads, kv_heads, head_dim, window ? std::optional<std::int64_t>(window) : std::nullopt};
        meswitch::cpu::attention(q.data(), rows, pos0, keys.data(), vals.data(), stride, shape,
                                 ref.data(), pool);
        DeviceBytes dq(q), dk(keys), dv(vals), dout(ref.size() * 4);
        k::AttentionArgs a;
        a.q = dq.as<float>();
        a.rows = rows;
        a.pos0 = pos0;
        a.keys = dk.as<float>();
        a.values = dv.as<float>();
        a.kv_stride = stride;
        a.heads = heads;
        a.kv_heads = kv_heads;
        a.head_dim = head_dim;
        a.window = window;
        a.out = dout.as<float>();
        QCOMPARE(k::attention_f32(a, nullptr), cudaSuccess);
        sync_ok();
        const double err = nmse(dout.download<float>(ref.size()), ref);
        QVERIFY2(err <= 1e-10, qPrintable(QString("NMSE %1").arg(err)));
    }

    void linear_data() {
        QTest::addColumn<DType>("dtype");
        QTest::addColumn<int>("rows");
        QTest::addColumn<double>("bound");
        QTest::newRow("f32 decode") << DType::f32 << 1 << 1e-10;
        QTest::newRow("f32 prefill 7") << DType::f32 << 7 << 1e-10;
        QTest::newRow("f16 decode") << DType::f16 << 1 << 1e-6;
        QTest::newRow("bf16 prefill 5") << DType::bf16 << 5 << 1e-4;
    }
    void linear() {
        QFETCH(DType, dtype);
        QFETCH(int, rows);
        QFETCH(double, bound);
        const std::int64_t out = 173, in = 259;
        const auto w = encode(random_vector(out * in, 14, -0.1f, 0.1f), dtype);
        const auto x = random_vector(std::size_t(rows) * in, 15);
        std::vector<float> ref(std::size_t(rows) * out);
        meswitch::ThreadPool pool(2);
        meswitch::cpu::matmul(x.data(), rows, {dtype, out, in, w.data()}, ref.data(), pool);
        DeviceBytes dw(w), dx(x), dxh(x.size() * 4), dy(ref.size() * 4);
        QCOMPARE(k::convert_from_f32(dx.as<float>(), dxh.ptr, wtype(dtype), x.size(), nullptr),
                 cudaSuccess);
        meswitch::cuda::CublasHandle blas(nullptr);
        blas.linear(dxh.ptr, rows, dw.ptr, wtype(dtype), out, in, dy.as<float>());
        sync_ok();
        const double err = nmse(dy.download<float>(ref.size()), ref);
        QVERIFY2(err <= bound, qPrintable(QString("NMSE %1 > %2").arg(err).arg(bound)));
    }

    void delta_apply_data() {
        QTest::addColumn<DType>("dtype");
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("salient");
        QTest::addColumn<delta::ZeroFormat>("zero");
        QTest::addColumn<bool>("bf16_salient");
        QTest::addColumn<bool>("per_matrix");
        QTest::addColumn<int>("cols");
        using Z = delta::ZeroFormat;
        QTest::newRow("bf16 2-bit u8 zeros")
            << DType::bf16 << 2 << 5 << Z::u8 << false << false << 531;
        QTest::newRow("f16 2-bit no salient")
            << DType::f16 << 2 << 0 << Z::u8 << false << false << 531;
        QTest::newRow("f32 3-bit f16 zeros bf16 salient")
            << DType::f32 << 3 << 7 << Z::f16 << true << false << 531;
        QTest::newRow("bf16 1-bit midpoint per-matrix")
            << DType::bf16 << 1 << 0 << Z::midpoint << false << true << 531;
        QTest::newRow("f16 4-bit u8") << DType::f16 << 4 << 2 << Z::u8 << true << false << 531;
        // 16-byte vector path: rows of 8 bf16/f16 or 4 f32 columns per thread step
        QTest::newRow("bf16 2-bit 512 cols (vector path)")
            << DType::bf16 << 2 << 5 << Z::u8 << false << false << 512;
        QTest::newRow("f32 2-bit 260 cols (vector path)")
            << DType::f32 << 2 << 4 << Z::u8 << false << false << 260;
        QTest::newRow("f16 3-bit 1024 cols no salient (vector path)")
            << DType::f16 << 3 << 0 << Z::f16 << true << false << 1024;
    }
    void delta_apply() {  // bit-identical to cpu::apply_delta, in place and out of place
        QFETCH(DType, dtype);
        QFETCH(int, bits);
        QFETCH(int, salient);
        QFETCH(delta::ZeroFormat, zero);
        QFETCH(bool, bf16_salient);
        QFETCH(bool, per_matrix);
        QFETCH(int, cols);
        DeltaSpec s;
        s.rows = 37;
        s.cols = cols;
        s.bits = bits;
        s.salient = salient;
        s.zero_format = zero;
        s.salient_dtype = bf16_salient ? DType::bf16 : DType::f16;
        s.per_matrix_scale = per_matrix;
        const auto c = random_delta(s);
        const auto base = encode(random_vector(s.rows * s.cols, 16, -0.2f, 0.2f), dtype);
        std::vector<std::byte> ref(base.size());
        meswitch::cpu::apply_delta(c, dtype, base.data(), ref.data());
        TestDelta td(c);
        DeviceBytes dbase(base), dout(base.size());
        QCOMPARE(k::delta_apply(td.p, dbase.ptr, dout.ptr, wtype(dtype), nullptr), cudaSuccess);
        QCOMPARE(k::delta_apply(td.p, dbase.ptr, dbase.ptr, wtype(dtype), nullptr), cudaSuccess);
        sync_ok();
        QVERIFY(dout.download<std::byte>(base.size()) == ref);
        QVERIFY(dbase.download<std::byte>(base.size()) == ref);
    }

    void dense_delta_apply() {  // bit-identical to cpu::apply_dense_delta
        const std::size_t n = 1237;
        for (DType dt : {DType::f32, DType::f16, DType::bf16}) {
            const auto base = encode(random_vector(n, 17), dt);
            const auto d = encode(random_vector(n, 18, -0.01f, 0.01f), DType::f16);
            std::vector<std::byte> ref(base.size());
            meswitch::cpu::apply_dense_delta(dt, base.data(), ref.data(), DType::f16, d.data(), n);
            DeviceBytes db(base), dd(d);
            QCOMPARE(
                k::dense_delta_apply(db.ptr, db.ptr, wtype(dt), dd.ptr, k::WType::f16, n, nullptr),
                cudaSuccess);
            sync_ok();
            QVERIFY(db.download<std::byte>(base.size()) == ref);
        }
    }

    void delta_matmul_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("salient");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::newRow("decode GEMV 2-bit") << 1 << 2 << 20 << 301 << 4096;
        QTest::newRow("prefill 3 tokens 2-bit") << 3 << 2 << 5 << 64 << 173;
        QTest::newRow("prefill 8 tokens 2-bit no salient") << 8 << 2 << 0 << 37 << 128;
        QTest::newRow("prefill 13 tokens 3-bit") << 13 << 3 << 9 << 45 << 517;
        QTest::newRow("decode 1-bit") << 1 << 1 << 3 << 33 << 999;
        QTest::newRow("prefill 17 tokens 4-bit") << 17 << 4 << 1 << 19 << 250;
    }
    void delta_matmul() {  // NMSE ≤ 1e-10 vs delta::add_delta_product, y accumulated
        QFETCH(int, n);
        QFETCH(int, bits);
        QFETCH(int, salient);
        QFETCH(int, rows);
        QFETCH(int, cols);
        DeltaSpec s;
        s.rows = rows;
        s.cols = cols;
        s.bits = bits;
        s.salient = salient;
        s.seed = 100 + n;
        const auto c = random_delta(s);
        const auto x = random_vector(std::size_t(n) * cols, 19);
        auto y = random_vector(std::size_t(n) * rows, 20);
        TestDelta td(c);
        DeviceBytes dx(x), dy(y), scratch(std::size_t(k::delta_scratch_floats(td.p, n)) * 4);
        delta::add_delta_product(c, x.data(), n, y.data());
        QCOMPARE(
            k::delta_matmul(td.p, dx.as<float>(), n, dy.as<float>(), scratch.as<float>(), nullptr),
            cudaSuccess);
        sync_ok();
        const double err = nmse(dy.download<float>(y.size()), y);
        QVERIFY2(err <= 1e-10, qPrintable(QString("NMSE %1").arg(err)));
    }

    void allocator_out_of_memory() {
        // A failed allocation is a clear Error(out_of_memory) and the allocator stays usable.
        meswitch::cuda::select_device(0);
        auto alloc_ptr = meswitch::cuda::DeviceAllocator::create();
        auto& alloc = *alloc_ptr;
        auto small = alloc.allocate(1000, "probe");
        QVERIFY(small);
        const auto mem = meswitch::cuda::memory_info();
        try {
            auto huge = alloc.allocate(mem.total * 4, "a test tensor");
            QFAIL("allocating 4x the device memory succeeded");
        } catch (const meswitch::Error& e) {
            QCOMPARE(e.kind(), meswitch::ErrorKind::out_of_memory);
            QVERIFY2(QString(e.what()).contains("CUDA out of memory") &&
                         QString(e.what()).contains("a test tensor") &&
                         QString(e.what()).contains("free of"),
                     e.what());
        }
        auto again = alloc.allocate(1 << 20, "after the failure");
        QVERIFY(again);
        QCOMPARE(cudaMemset(again.get(), 0, 1 << 20), cudaSuccess);
        small.reset();
        auto reused = alloc.allocate(900, "reuse");  // same 1 KiB class as `small`
        QVERIFY(alloc.bytes_cached() == 0);
        QCOMPARE(alloc.bytes_in_use(), std::uint64_t(1024 + (1u << 20)));
        QVERIFY(reused);
    }
};

QTEST_GUILESS_MAIN(TestKernels)
#include "test_kernels.moc"
