// y += x·Δ̂ᵀ from the packed delta (see delta_product.h for the arithmetic).
//
// Layout. A row's codes are read in blocks of B bytes (B = the SIMD width: 64 on AVX-512).
// Byte i of block b holds P = 8/bits codes: slot k is coded column (b·B + i)·P + k. Shifting
// the block right by k·bits and masking gives, in byte lane i, the code of slot k; so the
// activations are laid out per block and slot, act[(b·P + k)·B + i] = x[(b·B + i)·P + k],
// and each (block, slot) is one u8 × s8 dot product of B lanes. 3-bit rows are unpacked to
// one code per byte first and use P = 1.
#include "backend/cpu/delta_product.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/thread_pool.h"
#include "delta/quant/packing.h"
#include "delta/quant/quantize.h"
#include "meswitch/error.h"

#ifndef MESWITCH_DELTA_ACTS_ONCE
#define MESWITCH_DELTA_ACTS_ONCE
namespace meswitch::cpu {
// Activations of one call, rounded and permuted for one target's block size.
struct DeltaActs {
    std::int64_t n = 0;       // activation rows
    std::int64_t blocks = 0;  // code blocks per weight row
    std::int64_t stride = 0;  // bytes of hi (and of lo) per activation row
    std::vector<std::int8_t> hi, lo;
    std::vector<float> step;  // n: the activation row's step (its largest |x| / kLevels)
    std::vector<float> zsum;  // n: Σ of the rounded coded activations
    std::vector<float> xs;    // n × k: the salient activations
};
// One step covers |x| up to 127·257 steps, so v = 256·hi + lo fits two signed bytes.
constexpr float kLevels = 32639.0f;
}  // namespace meswitch::cpu
#endif

#define HWY_WANT_AVX3_DL  // AVX-512 VNNI (vpdpbusd); Highway leaves it out by default
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/delta_product.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace meswitch::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#undef MESWITCH_DELTA_SIMD
#if HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX2 || \
    HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
#define MESWITCH_DELTA_SIMD 1
#else
#define MESWITCH_DELTA_SIMD 0
#endif

// The slot and tile loops must unroll, or their vector arrays live on the stack.
#ifndef MESWITCH_UNROLL
#if defined(__clang__)
#define MESWITCH_UNROLL _Pragma("unroll")
#else
#define MESWITCH_UNROLL _Pragma("GCC unroll 8")
#endif
#endif

#if MESWITCH_DELTA_SIMD
using DU8 = hn::ScalableTag<std::uint8_t>;
using DI8 = hn::ScalableTag<std::int8_t>;
using DU16 = hn::ScalableTag<std::uint16_t>;
using DI32 = hn::ScalableTag<std::int32_t>;
using DF = hn::ScalableTag<float>;
using VU8 = hn::Vec<DU8>;
using VI8 = hn::Vec<DI8>;
using VI32 = hn::Vec<DI32>;

// acc[m] += Σ_{i<4} a[4m+i]·b[4m+i], a unsigned (codes ≤ 15), b signed. Without VNNI the
// pairwise 16-bit sums cannot saturate: 2 · 15 · 128 < 32767.
HWY_INLINE VI32 DotAcc(VI32 acc, VU8 a, VI8 b) {
#if HWY_TARGET == HWY_AVX3_DL
    // Highway 1.0's AVX3_DL target string enables "avxvnni" instead of "avx512vnni", so the
    // intrinsic cannot be inlined here; the instruction itself is part of the target.
    __m512i r = acc.raw;
    asm("vpdpbusd %2, %1, %0" : "+v"(r) : "v"(a.raw), "v"(b.raw));
    return VI32{r};
#elif HWY_TARGET == HWY_AVX3
    const __m512i pairs = _mm512_maddubs_epi16(a.raw, b.raw);
    return VI32{_mm512_add_epi32(acc.raw, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)))};
#elif HWY_TARGET == HWY_AVX2
    const __m256i pairs = _mm256_maddubs_epi16(a.raw, b.raw);
    return VI32{_mm256_add_epi32(acc.raw, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))};
#else
    const __m128i pairs = _mm_maddubs_epi16(a.raw, b.raw);
    return VI32{_mm_add_epi32(acc.raw, _mm_madd_epi16(pairs, _mm_set1_epi16(1)))};
#endif
}

HWY_INLINE std::int64_t BlockBytes() {
    return static_cast<std::int64_t>(hn::Lanes(DU8()));
}
#else
HWY_INLINE std::int64_t BlockBytes() {
    return 16;
}
#endif

// Codes per byte in the kernel's view of a row (3-bit rows are unpacked: one per byte).
int PerByte(int bits) {
    return bits == 3 ? 1 : 8 / bits;
}

// Rounds `count` activations of one block to v = 256·hi + lo (nearest, ties to even) and
// stores code j's activation where the kernel's slot j % PER of byte j / PER reads it.
// Returns Σ v.
template <int PER>
std::int64_t QuantizeBlock(const float* xc, std::int64_t count, float inv, std::int64_t bb,
                           std::int8_t* hi, std::int8_t* lo) {
    std::int64_t vsum = 0;
    for (std::int64_t j = 0; j < count; ++j) {
        int v = static_cast<int>(std::rint(xc[j] * inv));  // |x·inv| <= kLevels (+ rounding)
        v = std::clamp(v, -static_cast<int>(kLevels), static_cast<int>(kLevels));
        const int h = (v + 128) >> 8;
        const std::int64_t pos = (j % PER) * bb + j / PER;
        hi[pos] = static_cast<std::int8_t>(h);
        lo[pos] = static_cast<std::int8_t>(v - h * 256);
        vsum += v;
    }
    return vsum;
}

void PrepareActs(const PackedDelta& d, const float* x, std::int64_t n, DeltaActs& a) {
    const std::int64_t bb = BlockBytes();
    const int per = PerByte(d.bits);
    const std::int64_t row_len = d.bits == 3 ? d.coded : d.row_bytes;
    const std::int64_t k = static_cast<std::int64_t>(d.salient.size());
    a.n = n;
    a.blocks = (row_len + bb - 1) / bb;
    a.stride = a.blocks * per * bb;
    a.hi.assign(static_cast<std::size_t>(n * a.stride), 0);
    a.lo.assign(a.hi.size(), 0);
    a.step.assign(static_cast<std::size_t>(n), 0.0f);
    a.zsum.assign(static_cast<std::size_t>(n), 0.0f);
    a.xs.resize(static_cast<std::size_t>(n * k));
    thread_local std::vector<float> xc;
    xc.resize(static_cast<std::size_t>(d.coded));
    const std::int64_t block_codes = bb * per;
    for (std::int64_t t = 0; t < n; ++t) {
        const float* xt = x + t * d.cols;
        std::int64_t at = 0;
        for (const auto& [first, len] : d.runs) {
            std::memcpy(xc.data() + at, xt + first, static_cast<std::size_t>(len) * sizeof(float));
            at += len;
        }
        for (std::int64_t j = 0; j < k; ++j)
            a.xs[static_cast<std::size_t>(t * k + j)] = xt[d.salient[static_cast<std::size_t>(j)]];
        float m = 0.0f;
        bool finite = true;
        for (std::int64_t j = 0; j < d.coded; ++j) {
            m = std::max(m, std::fabs(xc[j]));
            finite = finite && std::isfinite(xc[j]);
        }
        if (!finite) {  // NaN or Inf: let it show in every output
            a.step[static_cast<std::size_t>(t)] = std::nanf("");
            a.zsum[static_cast<std::size_t>(t)] = std::nanf("");
            continue;
        }
        if (m == 0.0f) continue;
        const float step = m / kLevels, inv = kLevels / m;
        a.step[static_cast<std::size_t>(t)] = step;
        std::int8_t* hi = a.hi.data() + t * a.stride;
        std::int8_t* lo = a.lo.data() + t * a.stride;
        std::int64_t vsum = 0;
        for (std::int64_t b = 0; b < a.blocks; ++b) {
            const std::int64_t j0 = b * block_codes;
            const std::int64_t j1 = std::min(d.coded, j0 + block_codes);
            std::int8_t* bh = hi + b * per * bb;
            std::int8_t* bl = lo + b * per * bb;
            vsum += per == 8   ? QuantizeBlock<8>(xc.data() + j0, j1 - j0, inv, bb, bh, bl)
                    : per == 4 ? QuantizeBlock<4>(xc.data() + j0, j1 - j0, inv, bb, bh, bl)
                    : per == 2 ? QuantizeBlock<2>(xc.data() + j0, j1 - j0, inv, bb, bh, bl)
                               : QuantizeBlock<1>(xc.data() + j0, j1 - j0, inv, bb, bh, bl);
        }
        a.zsum[static_cast<std::size_t>(t)] =
            static_cast<float>(static_cast<double>(step) * static_cast<double>(vsum));
    }
}

#if MESWITCH_DELTA_SIMD
// The lanes of v summed down to one 128-bit vector (4 partial sums).
template <class D>
HWY_INLINE hn::Vec<hn::Full128<float>> To128(D d, hn::Vec<D> v) {
    if constexpr (hn::MaxLanes(D()) > 4) {
        const hn::Half<D> dh;
        return To128(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)));
    } else {
        return v;
    }
}

// The float total of one row's hi/lo integer sums, always in the same order whatever the
// kernel (lanes halved down to four, then (a0 + a2) + (a1 + a3)), times the activation
// row's step: every path of the product gives a row the same bits for any number of rows.
HWY_INLINE float RowTotal(VI32 ah, VI32 al, float step) {
    const DF df;
    const hn::Full128<float> d4;
    const auto v =
        To128(df, hn::MulAdd(hn::ConvertTo(df, ah), hn::Set(df, 256.0f), hn::ConvertTo(df, al)));
    alignas(16) float l[4];
    hn::Store(v, d4, l);
    const float sum = (l[0] + l[2]) + (l[1] + l[3]);
    return sum * step;
}

#endif

// y += s · (dot − z · zsum), one expression for every path (the same contraction at every
// site: the compiler sees the same expression tree).
HWY_INLINE void AddCoded(float& y, float s, float dot, float z, float zsum) {
    y += s * (dot - z * zsum);
}

// Σ_coded q·x for weight row `codes` (row_len bytes in the kernel's view) and activation
// rows [t0, t0 + NT), into dot[0 .. NT). BITS 8 stands for unpacked 3-bit rows.
// Blocks may read past the row into the next row's codes (their activations are zero);
// only bytes at or past `end`, the end of the buffer, are never read. The integer sums
// cannot overflow: |Σ q·hi| <= cols · 15 · 128 < 2^31 for cols < 2^20.
template <int BITS, int NT>
void RowDots(const std::uint8_t* codes, std::int64_t row_len, const std::uint8_t* end,
             const DeltaActs& a, std::int64_t t0, float* dot) {
    constexpr int PER = 8 / BITS;
#if MESWITCH_DELTA_SIMD
    const DU8 du8;
    const DI8 di8;
    const DU16 du16;
    const DI32 di32;
    const DF df;
    const std::int64_t bb = BlockBytes();
    const auto mask = hn::Set(du8, static_cast<std::uint8_t>(BITS == 8 ? 0xFF : (1u << BITS) - 1u));
    // One activation row: a chain per slot, so that the dot products' latencies overlap;
    // several rows: one chain per row (and hi/lo) already gives enough independent chains.
    constexpr int CH = NT == 1 ? PER : 1;
    VI32 ah[NT][CH], al[NT][CH];
    MESWITCH_UNROLL
    for (int t = 0; t < NT; ++t) {
        MESWITCH_UNROLL
        for (int c = 0; c < CH; ++c) ah[t][c] = al[t][c] = hn::Zero(di32);
    }
    const std::int8_t* hi[NT];
    const std::int8_t* lo[NT];
    MESWITCH_UNROLL
    for (int t = 0; t < NT; ++t) {
        hi[t] = a.hi.data() + (t0 + t) * a.stride;
        lo[t] = a.lo.data() + (t0 + t) * a.stride;
    }
    alignas(64) std::uint8_t tail[64];
    for (std::int64_t b = 0; b < a.blocks; ++b) {
        const std::uint8_t* src = codes + b * bb;
        if (src + bb > end) {
            std::memset(tail, 0, sizeof tail);
            std::memcpy(tail, src, static_cast<std::size_t>(row_len - b * bb));
            src = tail;
        }
        const VU8 c = hn::LoadU(du8, src);
        const std::int64_t off = b * PER * bb;
        MESWITCH_UNROLL
        for (int k = 0; k < PER; ++k) {
            const VU8 q =
                BITS == 8 ? c
                : k == 0
                    ? hn::And(c, mask)
                    : hn::And(hn::BitCast(du8, hn::ShiftRightSame(hn::BitCast(du16, c), k * BITS)),
                              mask);
            MESWITCH_UNROLL
            for (int t = 0; t < NT; ++t) {
                const int ch = CH == 1 ? 0 : k;
                ah[t][ch] = DotAcc(ah[t][ch], q, hn::LoadU(di8, hi[t] + off + k * bb));
                al[t][ch] = DotAcc(al[t][ch], q, hn::LoadU(di8, lo[t] + off + k * bb));
            }
        }
    }
    MESWITCH_UNROLL
    for (int t = 0; t < NT; ++t) {
        MESWITCH_UNROLL
        for (int c = 1; c < CH; ++c) {
            ah[t][0] = hn::Add(ah[t][0], ah[t][c]);
            al[t][0] = hn::Add(al[t][0], al[t][c]);
        }
        dot[t] = RowTotal(ah[t][0], al[t][0], a.step[static_cast<std::size_t>(t0 + t)]);
    }
#else
    const std::int64_t bb = BlockBytes();
    const unsigned mask = BITS == 8 ? 0xFFu : (1u << BITS) - 1u;
    for (int t = 0; t < NT; ++t) {
        const std::int8_t* hi = a.hi.data() + (t0 + t) * a.stride;
        const std::int8_t* lo = a.lo.data() + (t0 + t) * a.stride;
        std::int64_t s = 0;
        for (std::int64_t b = 0; b < a.blocks; ++b) {
            for (std::int64_t i = 0; i < bb && b * bb + i < row_len; ++i) {
                const unsigned byte = codes[b * bb + i];
                for (int k = 0; k < PER; ++k) {
                    const unsigned q = (byte >> (k * BITS)) & mask;
                    const std::int64_t pos = (b * PER + k) * bb + i;
                    s += static_cast<std::int64_t>(q) * (256 * hi[pos] + lo[pos]);
                }
            }
        }
        dot[t] =
            static_cast<float>(static_cast<double>(s) * a.step[static_cast<std::size_t>(t0 + t)]);
    }
#endif
}

#if MESWITCH_DELTA_SIMD
// Code plane k of every byte (its bits k·BITS … upwards, still to be masked). On AVX-512 VBMI
// one vpmultishiftqb (port 5) per vector, leaving port 0 to the dot products; elsewhere a
// 16-bit shift.
template <int BITS>
HWY_INLINE VU8 PlaneBits(VU8 c, int k, DU16 du16) {
#if HWY_TARGET == HWY_AVX3_DL
    (void)du16;
    // Byte i of each qword takes the 8 bits from bit 8·(i % 8) + k·BITS (mod 64) of it.
    const std::uint64_t base = 0x3830282018100800ull;
    const std::uint64_t add = 0x0101010101010101ull * static_cast<std::uint64_t>(k * BITS);
    const __m512i ctrl = _mm512_set1_epi64(static_cast<long long>(base + add));
    __m512i r = c.raw;
    asm("vpmultishiftqb %1, %2, %0" : "=v"(r) : "v"(r), "v"(ctrl));
    return VU8{r};
#else
    const DU8 du8;
    return hn::BitCast(du8, hn::ShiftRightSame(hn::BitCast(du16, c), k * BITS));
#endif
}

// Σ_coded q·x for R weight rows (codes, codes + stride, …) and NT activation rows from t0
// into dot[r * NT + t]: each block's codes are loaded once for all activation rows and each
// activation vector once for all weight rows (R · NT · 2 accumulators, at most 16).
template <int BITS, int R, int NT>
void MultiDots(const std::uint8_t* codes, std::int64_t stride, std::int64_t row_len,
               const std::uint8_t* end, const DeltaActs& a, std::int64_t t0, float* dot) {
    constexpr int PER = 8 / BITS;
    const DU8 du8;
    const DI8 di8;
    const DU16 du16;
    const DI32 di32;
    const std::int64_t bb = BlockBytes();
    const auto mask = hn::Set(du8, static_cast<std::uint8_t>((1u << BITS) - 1u));
    VI32 ah[R][NT], al[R][NT];
    MESWITCH_UNROLL
    for (int r = 0; r < R; ++r) {
        MESWITCH_UNROLL
        for (int t = 0; t < NT; ++t) ah[r][t] = al[r][t] = hn::Zero(di32);
    }
    const std::int8_t* hi[NT];
    const std::int8_t* lo[NT];
    MESWITCH_UNROLL
    for (int t = 0; t < NT; ++t) {
        hi[t] = a.hi.data() + (t0 + t) * a.stride;
        lo[t] = a.lo.data() + (t0 + t) * a.stride;
    }
    alignas(64) std::uint8_t tail[R][64];
    for (std::int64_t b = 0; b < a.blocks; ++b) {
        VU8 c[R];
        MESWITCH_UNROLL
        for (int r = 0; r < R; ++r) {
            const std::uint8_t* src = codes + r * stride + b * bb;
            if (src + bb > end) {
                std::memset(tail[r], 0, sizeof tail[r]);
                std::memcpy(tail[r], src, static_cast<std::size_t>(row_len - b * bb));
                src = tail[r];
            }
            c[r] = hn::LoadU(du8, src);
        }
        const std::int64_t off = b * PER * bb;
        MESWITCH_UNROLL
        for (int k = 0; k < PER; ++k) {
            VU8 q[R];
            MESWITCH_UNROLL
            for (int r = 0; r < R; ++r)
                q[r] = k == 0 ? hn::And(c[r], mask) : hn::And(PlaneBits<BITS>(c[r], k, du16), mask);
            MESWITCH_UNROLL
            for (int t = 0; t < NT; ++t) {
                const auto h = hn::LoadU(di8, hi[t] + off + k * bb);
                const auto l = hn::LoadU(di8, lo[t] + off + k * bb);
                MESWITCH_UNROLL
                for (int r = 0; r < R; ++r) {
                    ah[r][t] = DotAcc(ah[r][t], q[r], h);
                    al[r][t] = DotAcc(al[r][t], q[r], l);
                }
            }
        }
    }
    MESWITCH_UNROLL
    for (int r = 0; r < R; ++r) {
        MESWITCH_UNROLL
        for (int t = 0; t < NT; ++t)
            dot[r * NT + t] =
                RowTotal(ah[r][t], al[r][t], a.step[static_cast<std::size_t>(t0 + t)]);
    }
}

// R weight rows from r × NT activation rows from t, added to y.
template <int BITS, int R, int NT>
void MultiBlock(const PackedDelta& d, const DeltaActs& a, float* y, std::int64_t r, std::int64_t t,
                std::int64_t row_len, const std::uint8_t* end) {
    float dot[R * NT];
    MultiDots<BITS, R, NT>(d.codes + r * d.row_bytes, d.row_bytes, row_len, end, a, t, dot);
    for (int i = 0; i < R; ++i)
        for (int j = 0; j < NT; ++j)
            AddCoded(y[(t + j) * d.rows + r + i], d.scale[static_cast<std::size_t>(r + i)],
                     dot[i * NT + j], d.zero[static_cast<std::size_t>(r + i)],
                     a.zsum[static_cast<std::size_t>(t + j)]);
}
#endif

template <int BITS>
void RowsPer(const PackedDelta& d, const DeltaActs& a, float* y, std::int64_t r0, std::int64_t r1) {
    const std::int64_t k = static_cast<std::int64_t>(d.salient.size());
    const std::int64_t row_len = d.bits == 3 ? d.coded : d.row_bytes;
    thread_local std::vector<std::uint8_t> unpacked;
    if (d.bits == 3) unpacked.assign(static_cast<std::size_t>(d.coded + 64), 0);
    const std::uint8_t* packed_end = d.codes + d.rows * d.row_bytes;
    std::int64_t r = r0;
#if MESWITCH_DELTA_SIMD
    if constexpr (BITS != 8) {
        // Tiles of weight rows × activation rows (4 × 1, 4 × 2, 2 × 3, 2 × 4).
        const std::int64_t n = a.n;
        for (; r + 4 <= r1; r += 4) {
            std::int64_t t = 0;
            if (n == 1) {
                MultiBlock<BITS, 4, 1>(d, a, y, r, 0, row_len, packed_end);
                continue;
            }
            for (; t + 4 <= n; t += 4) {
                MultiBlock<BITS, 2, 4>(d, a, y, r, t, row_len, packed_end);
                MultiBlock<BITS, 2, 4>(d, a, y, r + 2, t, row_len, packed_end);
            }
            switch (n - t) {
                case 1:
                    MultiBlock<BITS, 4, 1>(d, a, y, r, t, row_len, packed_end);
                    break;
                case 2:
                    MultiBlock<BITS, 4, 2>(d, a, y, r, t, row_len, packed_end);
                    break;
                case 3:
                    MultiBlock<BITS, 2, 3>(d, a, y, r, t, row_len, packed_end);
                    MultiBlock<BITS, 2, 3>(d, a, y, r + 2, t, row_len, packed_end);
                    break;
                default:
                    break;
            }
        }
    }
#endif
    for (; r < r1; ++r) {
        const std::uint8_t* codes = d.codes + r * d.row_bytes;
        const std::uint8_t* end = packed_end;
        if (d.bits == 3) {
            delta::unpack_codes(codes, d.coded, 3, unpacked.data());
            codes = unpacked.data();
            end = codes + unpacked.size();
        }
        const float s = d.scale[static_cast<std::size_t>(r)];
        const float z = d.zero[static_cast<std::size_t>(r)];
        for (std::int64_t t = 0; t < a.n; t += 4) {
            float dot[4];
            const std::int64_t nt = std::min<std::int64_t>(4, a.n - t);
            switch (nt) {
                case 1:
                    RowDots<BITS, 1>(codes, row_len, end, a, t, dot);
                    break;
                case 2:
                    RowDots<BITS, 2>(codes, row_len, end, a, t, dot);
                    break;
                case 3:
                    RowDots<BITS, 3>(codes, row_len, end, a, t, dot);
                    break;
                default:
                    RowDots<BITS, 4>(codes, row_len, end, a, t, dot);
                    break;
            }
            for (std::int64_t i = 0; i < nt; ++i)
                AddCoded(y[(t + i) * d.rows + r], s, dot[i], z,
                         a.zsum[static_cast<std::size_t>(t + i)]);
        }
    }
    // Salient columns, column by column across the rows (vectorises; values stored k-major).
    for (std::int64_t t = 0; t < a.n; ++t) {
        float* yt = y + t * d.rows;
        for (std::int64_t j = 0; j < k; ++j) {
            const float xv = a.xs[static_cast<std::size_t>(t * k + j)];
            const float* v = d.salient_values.data() + j * d.rows;
            for (std::int64_t r = r0; r < r1; ++r) yt[r] += xv * v[r];
        }
    }
}

void DeltaRows(const PackedDelta& d, const DeltaActs& a, float* y, std::int64_t r0,
               std::int64_t r1) {
    switch (d.bits) {
        case 1:
            return RowsPer<1>(d, a, y, r0, r1);
        case 2:
            return RowsPer<2>(d, a, y, r0, r1);
        case 4:
            return RowsPer<4>(d, a, y, r0, r1);
        default:  // 3: unpacked to a byte per code
            return RowsPer<8>(d, a, y, r0, r1);
    }
}

}  // namespace meswitch::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace meswitch::cpu {

HWY_EXPORT(PrepareActs);
HWY_EXPORT(DeltaRows);

PackedDelta prepare_delta(const delta::CompressedLinear& c) {
    c.validate("compressed layer");
    if (c.cols >= (std::int64_t{1} << 20))  // the 32-bit integer sums of a row could overflow
        throw Error(ErrorKind::unsupported,
                    "separate computation: layers of 2^20 input features or more are not "
                    "supported (this one has " +
                        std::to_string(c.cols) + ")");
    PackedDelta d;
    d.rows = c.rows;
    d.cols = c.cols;
    d.bits = c.bits;
    d.codes = c.codes.data();
    d.row_bytes = c.row_bytes;
    d.coded = c.cols - c.salient_count();
    d.scale.resize(static_cast<std::size_t>(c.rows));
    d.zero.resize(d.scale.size());
    for (std::int64_t r = 0; r < c.rows; ++r) {
        d.scale[static_cast<std::size_t>(r)] = c.scale_at(r);
        d.zero[static_cast<std::size_t>(r)] = c.zero_at(r);
    }
    d.salient = c.salient_idx;
    const std::int64_t k = c.salient_count();
    d.salient_values.resize(c.salient_values.size());
    for (std::int64_t r = 0; r < c.rows; ++r)
        for (std::int64_t j = 0; j < k; ++j) {
            const std::uint16_t v = c.salient_values[static_cast<std::size_t>(r * k + j)];
            d.salient_values[static_cast<std::size_t>(j * c.rows + r)] =
                c.salient_dtype == DType::bf16 ? bf16_to_f32(v) : f16_to_f32(v);
        }
    std::int64_t col = 0;
    for (std::size_t s = 0; s <= c.salient_idx.size(); ++s) {
        const std::int64_t end = s < c.salient_idx.size() ? c.salient_idx[s] : c.cols;
        if (end > col) d.runs.emplace_back(col, end - col);
        col = end + 1;
    }
    return d;
}

DeltaProduct prepare_product(const PackedDelta& d, const float* x, std::int64_t n, float* y) {
    thread_local DeltaActs acts;
    if (n > 0 && d.rows > 0) HWY_DYNAMIC_DISPATCH(PrepareActs)(d, x, n, acts);
    return DeltaProduct(&d, n > 0 ? &acts : nullptr, y);
}

DeltaActsStore::DeltaActsStore() : acts_(std::make_unique<DeltaActs>()) {}
DeltaActsStore::~DeltaActsStore() = default;
DeltaActsStore::DeltaActsStore(DeltaActsStore&&) noexcept = default;
DeltaActsStore& DeltaActsStore::operator=(DeltaActsStore&&) noexcept = default;

DeltaProduct prepare_product(const PackedDelta& d, const float* x, std::int64_t n, float* y,
                             DeltaActsStore& store) {
    if (n > 0 && d.rows > 0) HWY_DYNAMIC_DISPATCH(PrepareActs)(d, x, n, *store.acts_);
    return DeltaProduct(&d, n > 0 ? store.acts_.get() : nullptr, y);
}

void DeltaProduct::add_rows(std::int64_t r0, std::int64_t r1) const {
    if (!acts_ || r0 >= r1) return;
    HWY_DYNAMIC_DISPATCH(DeltaRows)(*delta_, *acts_, y_, r0, r1);
}

void add_delta_product(const PackedDelta& d, const float* x, std::int64_t n, float* y,
                       ThreadPool& pool) {
    if (n <= 0 || d.rows <= 0) return;
    const DeltaProduct product = prepare_product(d, x, n, y);
    pool.parallel_for(
        static_cast<std::size_t>(d.rows),
        [&](std::size_t b, std::size_t e) {
            product.add_rows(static_cast<std::int64_t>(b), static_cast<std::int64_t>(e));
        },
        8);
}

}  // namespace meswitch::cpu
#endif  // HWY_ONCE
