// The decode benchmark on the GPU (meswitch bench decode --device cuda): prefill, greedy
// decode at batch 1 with the token fed back on the device, and the device's measured read
// bandwidth as the bound (every weight byte is read once per generated token).
#include <cuda_runtime_api.h>

#include <chrono>

#include "backend/cuda/allocator.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_model.h"
#include "meswitch/error.h"
#include "read_bandwidth.cuh"

namespace meswitch::cuda {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Best of a few streaming reads of 1 GiB (less when the device is short of memory).
double measure_device_read_gbps(DeviceAllocator& alloc) {
    const MemoryInfo mem = memory_info();
    std::size_t bytes = std::size_t{1} << 30;
    while (bytes > (std::size_t{64} << 20) && bytes > mem.free / 2) bytes /= 2;
    DeviceBuffer buf = alloc.allocate(bytes, "bandwidth probe");
    DeviceBuffer sink = alloc.allocate(4, "bandwidth probe");
    MESWITCH_CUDA_CHECK(cudaMemset(buf.get(), 0, bytes));
    cudaEvent_t start = nullptr, stop = nullptr;
    MESWITCH_CUDA_CHECK(cudaEventCreate(&start));
    MESWITCH_CUDA_CHECK(cudaEventCreate(&stop));
    double best = 0;
    for (int pass = 0; pass < 5; ++pass) {
        cudaEventRecord(start);
        MESWITCH_CUDA_CHECK(kernels::read_sum_f32(
            buf.as<float>(), static_cast<std::int64_t>(bytes / 4), sink.as<float>(), nullptr));
        cudaEventRecord(stop);
        MESWITCH_CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        if (ms > 0) best = std::max(best, static_cast<double>(bytes) / (ms * 1e-3) / 1e9);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return best;
}

}  // namespace

BenchDecodeResult bench_decode_cuda(const Model& model, int prefill_tokens, int decode_tokens,
                                    int device) {
    const ModelConfig& config = model.config();
    if (prefill_tokens < 1 || decode_tokens < 1)
        throw Error(ErrorKind::invalid_argument,
                    "bench_decode: prefill_tokens and decode_tokens must be at least 1");
    if (prefill_tokens + decode_tokens > config.max_position_embeddings)
        throw Error(ErrorKind::invalid_argument,
                    "bench_decode: prefill + decode tokens exceed max_position_embeddings (" +
                        std::to_string(config.max_position_embeddings) + ")");
    CudaModelOptions o;
    o.device = device;
    o.cache_capacity = prefill_tokens + decode_tokens + 1;
    CudaModel gpu(model, o);
    BenchDecodeResult r;
    r.threads = 0;
    r.total_weight_bytes = gpu.weight_bytes();
    r.weight_bytes_per_token = gpu.weight_bytes_per_token();

    std::vector<std::int32_t> prompt(static_cast<std::size_t>(prefill_tokens));
    for (std::size_t i = 0; i < prompt.size(); ++i)
        prompt[i] = static_cast<std::int32_t>((i * 7919 + 13) %
                                              static_cast<std::size_t>(config.vocab_size));
    // Warm-up (cuBLAS heuristics, first launches), then the timed runs on a fresh cache.
    // The full prompt first, so that the workspace is allocated before any timing.
    gpu.forward(prompt);
    gpu.clear_cache();
    gpu.generate_greedy(std::span(prompt).first(1), 2);
    gpu.clear_cache();

    auto t0 = clock_type::now();
    ForwardOptions last_only;
    gpu.forward(prompt, last_only);
    r.prefill_tokens_per_second = prefill_tokens / seconds_since(t0);
    gpu.clear_cache();
    gpu.forward(prompt, last_only);
    // generate_greedy(p, n) runs p, then n − 1 single-token steps: from one prompt token at
    // the end of the cache that is decode_tokens + 1 single-token forward passes.
    const std::int32_t one[1] = {prompt.back()};
    gpu.truncate_cache(gpu.cache_size() - 1);
    t0 = clock_type::now();
    gpu.generate_greedy(one, decode_tokens + 1);
    r.decode_tokens_per_second = (decode_tokens + 1) / seconds_since(t0);
    r.memory_bandwidth_gbps = measure_device_read_gbps(gpu.allocator());
    r.bandwidth_bound_tokens_per_second =
        r.memory_bandwidth_gbps * 1e9 / static_cast<double>(r.weight_bytes_per_token);
    r.fraction_of_bound = r.decode_tokens_per_second / r.bandwidth_bound_tokens_per_second;
    return r;
}

}  // namespace meswitch::cuda
