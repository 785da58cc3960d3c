// The serving benchmark behind `meswitch bench serve`: many clients asking for many experts at
// once, served by meswitch::Engine three ways — batched (max_batch = clients), one request at
// a time (max_batch = 1), and one at a time with the expert reloaded from its .msd file for
// every request.
//
// Workload: a synthetic base of a chosen shape (random weights, written to a scratch folder as
// a Hugging Face folder with a byte-fallback tokenizer), M synthetic 2-bit compressed deltas
// written as .msd files, and K requests of P seeded random prompt tokens, each for a random
// expert, arriving as a Poisson process at R requests/s (R = 0: all at once), at most N in
// flight (a closed loop: a request waits for a free client). Greedy decoding of T tokens with
// no EOS stop, so every request generates exactly T tokens and the three runs must generate
// the same tokens (same_tokens: batching must not change what greedy decoding picks).
//
// With a MoE folder (base/ and fine-tuned variant folders of one Mixtral model, e.g. the
// tiny-mixtral fixture) the experts are its variants instead: served by one engine through a
// consolidation plan (a scratch catalog holds the models and the plan), batched and one at a
// time, against engines restarted on a variant's full weights whenever the variant changes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/compress.h"
#include "meswitch/model.h"
#include "meswitch/pool.h"

namespace meswitch::serve {

// Writes a Hugging Face folder with seeded random weights of `config` (model::random_weights):
// model.safetensors, then config.json (a folder with a config.json is complete), and with
// `tokenizer` also a tokenizer.json + tokenizer_config.json (byte-fallback BPE over the
// config's vocabulary, no merges: every id decodes to text). Returns the weight bytes.
std::uint64_t write_synthetic_model(const std::filesystem::path& dir, const ModelConfig& config,
                                    DType dtype, std::uint64_t seed, int threads,
                                    const std::string& label, bool tokenizer);

// A synthetic fine-tune of the single-file model in base_dir, written to dir: every
// *_proj.weight becomes W + delta_scale·rms(W)·U·V/√rank + noise·rms(W)·N (U: rows × rank,
// V: rank × cols and N of unit variance, seeded by the tensor's name); the other tensors, the
// config and the tokenizer files are copied. Streams one tensor at a time. Returns the bytes.
struct SyntheticExpertOptions {
    int rank = 8;
    float delta_scale = 0.05f;
    float noise = 0.005f;
    std::uint64_t seed = 1;
    int threads = 0;
};
std::uint64_t write_synthetic_expert(const std::filesystem::path& dir,
                                     const std::filesystem::path& base_dir,
                                     const SyntheticExpertOptions& options);

struct BenchServeOptions {
    std::string shape = "small";  // bench_shape(): mistral7b, 1b, small, tiny
    DType dtype = DType::bf16;
    std::string device = "cpu";  // EngineOptions::device
    int threads = 0;
    int clients = 4;         // N: requests in flight at most; the batched run's max_batch
    int experts = 4;         // M
    double rate = 0;         // R: Poisson arrivals per second; 0: all arrive at once
    int requests = 16;       // K
    int prompt_tokens = 32;  // P
    int max_tokens = 32;     // T
    int bits = 2;
    DeltaMode mode = DeltaMode::separate;  // GenerateRequest::mode of every request
    std::uint64_t seed = 1;                // prompts, experts, arrivals
    std::filesystem::path scratch;         // "": the system temp folder
    // bench_serve_moe: the family's folder, and the positions (layer, expert) its plan shares
    // (-1: half of them). shape, dtype, bits, experts and mode do not apply.
    std::filesystem::path moe;
    std::int64_t moe_shared = -1;
};

struct ServeRunStats {
    std::string name;  // "batched", "one_at_a_time", "reload_per_request"
    int max_batch = 0;
    double wall_s = 0;  // first submit → last finish
    std::int64_t generated_tokens = 0;
    double tokens_per_second = 0;  // generated tokens / wall
    // Decode alone: Σ (tokens − 1) over the requests / the time at least one of them was
    // decoding (the union of their [first token, finish] intervals); prefill left out.
    double decode_tokens_per_second = 0;
    // Due with a client free → first token: RequestOutcome::first_token_ms plus any wait before
    // the engine got the request (an engine restart).
    double ttft_p50_ms = 0, ttft_p99_ms = 0;
    double per_token_p50_ms = 0, per_token_p99_ms = 0;  // decode_ms / (tokens − 1), per request
    double queue_p50_ms = 0, queue_p99_ms = 0;          // RequestOutcome::queue_ms
    int max_batch_seen = 0;  // the most over the requests' RequestOutcome::max_batch_seen
    std::vector<std::vector<std::int32_t>> tokens;  // per request, in workload order
};

struct BenchServeResult {
    std::string shape;
    std::string device;
    std::int64_t parameters = 0;
    std::uint64_t base_bytes = 0;   // the base's weights
    std::uint64_t delta_bytes = 0;  // one expert's .msd
    ServeRunStats batched, one_at_a_time, reload;
    bool same_tokens = false;              // batched == one at a time, every request
    bool reload_same_tokens = false;       // reload per request == one at a time
    std::vector<int> mismatched_requests;  // batched vs one at a time
    std::string note;
};

BenchServeResult bench_serve(const BenchServeOptions& options,
                             const std::function<void(std::string_view)>& progress = {});

struct BenchServeMoeResult {
    std::string device;
    std::filesystem::path base;
    std::vector<std::string> variants;  // folder names
    std::int64_t positions = 0, shared_positions = 0;
    std::uint64_t expert_bytes = 0;                 // the plan's expert blocks
    std::uint64_t expert_bytes_unconsolidated = 0;  // every variant its own blocks
    ServeRunStats consolidated;                     // max_batch = clients
    ServeRunStats consolidated_one_at_a_time;       // max_batch = 1
    ServeRunStats restart;  // full weights, an engine (max_batch = clients) per switch
    int restarts = 0;
    double restart_ms_mean = 0;  // stop an engine + start one on the next variant
    bool same_tokens = false;    // consolidated batched == one at a time, every request
    std::vector<int> mismatched_requests;
};

BenchServeMoeResult bench_serve_moe(const BenchServeOptions& options,
                                    const std::function<void(std::string_view)>& progress = {});

}  // namespace meswitch::serve
