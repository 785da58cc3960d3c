// Helpers shared by the GPU tests: normalised error, seeded data, random compressed
// deltas in the .msd layout, a device buffer for tests, and the skip without a device.
#pragma once

#include <cuda_runtime.h>

#include <QtTest>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cuda/device.h"
#include "delta/quant/packing.h"
#include "delta/quant/quantize.h"
#include "meswitch/tensor.h"

// QSKIPs the calling test function (or the whole test case from initTestCase) when no CUDA
// device can be used, naming the reason.
#define MESWITCH_REQUIRE_CUDA_DEVICE()                                                        \
    do {                                                                                      \
        const std::string meswitch_reason_ = ::meswitch::cuda::no_device_reason();            \
        if (!meswitch_reason_.empty())                                                        \
            QSKIP(qPrintable(QString::fromStdString("no CUDA device: " + meswitch_reason_))); \
    } while (0)

namespace gpu_test {

// Normalised mean squared error Σ(got − ref)² / Σ ref² (ggml test-backend-ops).
inline double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < ref.size() && i < got.size(); ++i) {
        const double d = double(got[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    if (got.size() != ref.size()) return 1e30;
    return den > 0 ? num / den : num;
}

inline std::vector<float> random_vector(std::size_t n, std::uint64_t seed, float lo = -2.f,
                                        float hi = 2.f) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

// Values of `dtype` (f32/f16/bf16) as stored bytes.
inline std::vector<std::byte> encode(const std::vector<float>& v, meswitch::DType dtype) {
    using meswitch::DType;
    std::vector<std::byte> out(v.size() * meswitch::dtype_size(dtype));
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (dtype == DType::f32) {
            std::memcpy(out.data() + 4 * i, &v[i], 4);
        } else {
            const std::uint16_t b =
                dtype == DType::f16 ? meswitch::f32_to_f16(v[i]) : meswitch::f32_to_bf16(v[i]);
            std::memcpy(out.data() + 2 * i, &b, 2);
        }
    }
    return out;
}

// An owned device allocation for tests (plain cudaMalloc; the test checks the results).
struct DeviceBytes {
    void* ptr = nullptr;
    std::size_t size = 0;
    explicit DeviceBytes(std::size_t n) : size(n) {
        if (cudaMalloc(&ptr, n ? n : 1) != cudaSuccess) ptr = nullptr;
    }
    DeviceBytes(const void* host, std::size_t n) : DeviceBytes(n) {
        if (ptr && n) cudaMemcpy(ptr, host, n, cudaMemcpyHostToDevice);
    }
    template <class T>
    explicit DeviceBytes(const std::vector<T>& host)
        : DeviceBytes(host.data(), host.size() * sizeof(T)) {}
    ~DeviceBytes() { cudaFree(ptr); }
    DeviceBytes(const DeviceBytes&) = delete;
    DeviceBytes& operator=(const DeviceBytes&) = delete;
    template <class T>
    T* as() const {
        return static_cast<T*>(ptr);
    }
    template <class T>
    std::vector<T> download(std::size_t count) const {
        std::vector<T> out(count);
        cudaMemcpy(out.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost);
        return out;
    }
};

struct DeltaSpec {
    std::int64_t rows = 16, cols = 40;
    int bits = 2;
    std::int64_t salient = 3;
    meswitch::delta::ZeroFormat zero_format = meswitch::delta::ZeroFormat::u8;
    meswitch::DType salient_dtype = meswitch::DType::f16;
    bool per_matrix_scale = false;
    float scale = 0.01f;
    std::uint64_t seed = 7;
};

// A valid CompressedLinear with random codes, step sizes, zero points and salient columns.
inline meswitch::delta::CompressedLinear random_delta(const DeltaSpec& s) {
    using namespace meswitch;
    using namespace meswitch::delta;
    std::mt19937_64 rng(s.seed);
    CompressedLinear c;
    c.rows = s.rows;
    c.cols = s.cols;
    c.method = Method::meswitch;
    c.bits = s.bits;
    c.zero_format = s.zero_format;
    c.salient_dtype = s.salient_dtype;
    std::vector<std::int32_t> all(static_cast<std::size_t>(s.cols));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int32_t>(i);
    std::shuffle(all.begin(), all.end(), rng);
    c.salient_idx.assign(all.begin(), all.begin() + s.salient);
    std::sort(c.salient_idx.begin(), c.salient_idx.end());
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (std::int64_t i = 0; i < s.rows * s.salient; ++i) {
        const float v = 0.05f * u(rng);
        c.salient_values.push_back(s.salient_dtype == DType::bf16 ? f32_to_bf16(v) : f32_to_f16(v));
    }
    const std::int64_t n = s.cols - s.salient;
    c.row_bytes = packed_bytes(n, s.bits);
    c.codes.assign(static_cast<std::size_t>(s.rows * c.row_bytes), 0);
    std::vector<std::uint8_t> codes(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < s.rows; ++r) {
        for (auto& q : codes) q = static_cast<std::uint8_t>(rng() % (1u << s.bits));
        pack_codes(codes.data(), n, s.bits, c.codes.data() + r * c.row_bytes);
    }
    const std::int64_t scales = s.per_matrix_scale ? 1 : s.rows;
    for (std::int64_t r = 0; r < scales; ++r)
        c.scales.push_back(f32_to_f16(s.scale * (0.5f + 0.5f * (u(rng) + 1.f))));
    const int levels = (1 << s.bits) - 1;
    for (std::int64_t r = 0; r < s.rows; ++r) {
        if (s.zero_format == ZeroFormat::u8)
            c.zeros.push_back(static_cast<std::uint16_t>(rng() % 256));
        else if (s.zero_format == ZeroFormat::f16)
            c.zeros.push_back(f32_to_f16(levels * 0.5f * (1.f + 0.3f * u(rng))));
    }
    c.validate("random test delta");
    return c;
}

}  // namespace gpu_test
