// Peak f32 fused multiply-add throughput of one thread: the compute bound that batched
// prefill (GEMM with f16/bf16 weights widened to f32 in registers) is compared against.
#pragma once

#include <cstddef>

namespace meswitch::cpu {

// Runs `iterations` rounds of independent FMA chains on the widest SIMD target this CPU
// has and returns a value that depends on every chain (keep it, or the loop may vanish).
// *flops receives the floating-point operations done (2 per lane per FMA).
float fma_chains(std::size_t iterations, double* flops);

}  // namespace meswitch::cpu
