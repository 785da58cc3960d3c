#include "model/synthetic.h"

#include <cmath>
#include <cstring>

#include "core/thread_pool.h"
#include "meswitch/error.h"

namespace meswitch::model {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint64_t hash_name(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

// Fills `count` elements of `dtype` with center + uniform(-scale, scale).
void fill(HostTensor& t, std::uint64_t seed, float center, float scale, ThreadPool& pool) {
    const std::size_t esize = dtype_size(t.dtype);
    const std::size_t count = t.data.size() / esize;
    constexpr std::size_t block = 1 << 16;
    const std::size_t blocks = (count + block - 1) / block;
    pool.parallel_for(blocks, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b) {
            std::uint64_t state = seed ^ (b * 0xD1B54A32D192ED03ull);
            const std::size_t end = std::min(count, (b + 1) * block);
            for (std::size_t i = b * block; i < end; ++i) {
                const float u = static_cast<float>(splitmix64(state) >> 40) * 0x1.0p-24f;  // [0,1)
                const float v = center + scale * (2.0f * u - 1.0f);
                std::byte* dst = t.data.data() + i * esize;
                if (t.dtype == DType::f32) {
                    std::memcpy(dst, &v, 4);
                } else {
                    const std::uint16_t bits =
                        t.dtype == DType::bf16 ? f32_to_bf16(v) : f32_to_f16(v);
                    std::memcpy(dst, &bits, 2);
                }
            }
        }
    });
}

}  // namespace

std::map<std::string, HostTensor> random_weights(const ModelConfig& config, DType dtype,
                                                 std::uint64_t seed, int threads) {
    if (dtype != DType::f32 && dtype != DType::f16 && dtype != DType::bf16)
        throw Error(ErrorKind::unsupported, std::string("random_weights: dtype ") +
                                                dtype_name(dtype) + " (F32, F16, BF16 only)");
    ThreadPool pool(threads);
    std::map<std::string, HostTensor> out;
    for (const ExpectedTensor& e : expected_tensors(config)) {
        HostTensor t;
        t.dtype = dtype;
        t.shape = e.shape;
        std::size_t numel = 1;
        for (auto d : e.shape) numel *= static_cast<std::size_t>(d);
        t.data.resize(numel * dtype_size(dtype));
        const std::uint64_t s = seed ^ hash_name(e.name);
        const bool is_norm = e.name.find("norm") != std::string::npos;
        const bool is_bias = e.name.size() > 5 && e.name.ends_with(".bias");
        if (is_norm) {
            fill(t, s, 1.0f, 0.1f, pool);
        } else if (is_bias) {
            fill(t, s, 0.0f, 0.05f, pool);
        } else if (e.name == "model.embed_tokens.weight") {
            fill(t, s, 0.0f, 1.0f, pool);
        } else {
            const float in = static_cast<float>(e.shape.back());
            fill(t, s, 0.0f, std::sqrt(3.0f / in), pool);
        }
        out.emplace(e.name, std::move(t));
    }
    return out;
}

}  // namespace meswitch::model
