// In-place apply and exact restore of a delta (see inplace_delta.h).
#include "serve/inplace_delta.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "core/thread_pool.h"
#include "meswitch/error.h"

namespace meswitch::serve {

namespace {

// One dtype's element access: load as float, store rounded, raw bits.
struct F32 {
    using bits_t = std::uint32_t;
    static float load(bits_t b) {
        float f;
        std::memcpy(&f, &b, 4);
        return f;
    }
    static bits_t store(float f) {
        bits_t b;
        std::memcpy(&b, &f, 4);
        return b;
    }
};
// Inline copies of bf16_to_f32 / f32_to_bf16 (core/tensor.cpp), bit for bit: this loop runs
// over every weight of the model at each switch.
struct BF16 {
    using bits_t = std::uint16_t;
    static float load(bits_t b) {
        const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }
    static bits_t store(float f) {
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<bits_t>((u >> 16) | 0x0040u);
        return static_cast<bits_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    }
};
struct F16 {
    using bits_t = std::uint16_t;
    static float load(bits_t b) { return f16_to_f32(b); }
    static bits_t store(float f) { return f32_to_f16(f); }
};

void check_weight(const MutableWeight& w) {
    if (w.rows < 0 || w.cols < 0 || (w.rows * w.cols > 0 && !w.data))
        throw Error(ErrorKind::invalid_argument, "in-place delta: bad weight view");
    if (static_cast<std::uint64_t>(w.rows) * static_cast<std::uint64_t>(w.cols) >= (1ull << 32))
        throw Error(ErrorKind::unsupported,
                    "in-place delta: a weight of " + std::to_string(w.rows) + "×" +
                        std::to_string(w.cols) + " elements (2³² or more) is not supported");
}

// w ← round(w − Δ̂) on rows [begin, end), then the patch entries inside those rows.
template <class T>
void restore_range(const MutableWeight& w, const DeltaRowFn& delta_row, std::size_t begin,
                   std::size_t end, const RestorePatch& patch) {
    using bits_t = typename T::bits_t;
    auto* data = reinterpret_cast<bits_t*>(w.data);
    const auto cols = static_cast<std::size_t>(w.cols);
    std::vector<float> d(cols);
    for (std::size_t r = begin; r < end; ++r) {
        delta_row(static_cast<std::int64_t>(r), d.data());
        bits_t* row = data + r * cols;
        for (std::size_t c = 0; c < cols; ++c) row[c] = T::store(T::load(row[c]) - d[c]);
    }
    for (std::size_t i = 0; i < patch.index.size(); ++i) {
        const std::size_t at = patch.index[i];
        if (at >= begin * cols && at < end * cols) data[at] = static_cast<bits_t>(patch.bits[i]);
    }
}

struct Part {
    std::size_t begin = 0, end = 0;  // rows done
    RestorePatch patch;
};

// Rows in parallel. A row is written only once its patch entries are recorded, so a failure
// (an allocation) at any point can be undone exactly: every chunk restores the rows it
// wrote, and the caller is left with the weight as it was.
template <class T>
RestorePatch apply_rows(const MutableWeight& w, const DeltaRowFn& delta_row, ThreadPool* pool) {
    using bits_t = typename T::bits_t;
    auto* data = reinterpret_cast<bits_t*>(w.data);
    const auto cols = static_cast<std::size_t>(w.cols);
    std::mutex mutex;
    std::vector<Part> parts;
    auto body = [&](std::size_t begin, std::size_t end) {
        Part part;
        part.begin = part.end = begin;
        try {
            std::vector<float> d(cols);
            std::vector<bits_t> out(cols);
            for (std::size_t r = begin; r < end; ++r) {
                delta_row(static_cast<std::int64_t>(r), d.data());
                const bits_t* row = data + r * cols;
                for (std::size_t c = 0; c < cols; ++c) {
                    const bits_t applied = T::store(T::load(row[c]) + d[c]);
                    if (T::store(T::load(applied) - d[c]) != row[c]) {
                        part.patch.index.push_back(static_cast<std::uint32_t>(r * cols + c));
                        part.patch.bits.push_back(row[c]);
                    }
                    out[c] = applied;
                }
                std::memcpy(data + r * cols, out.data(), cols * sizeof(bits_t));
                part.end = r + 1;
            }
            std::lock_guard lock(mutex);
            parts.push_back(std::move(part));
        } catch (...) {
            restore_range<T>(w, delta_row, part.begin, part.end, part.patch);
            throw;
        }
    };
    const auto rows = static_cast<std::size_t>(w.rows);
    try {
        if (pool)
            pool->parallel_for(rows, body, 16);
        else
            body(0, rows);
    } catch (...) {
        for (const Part& p : parts) restore_range<T>(w, delta_row, p.begin, p.end, p.patch);
        throw;
    }
    std::sort(parts.begin(), parts.end(),
              [](const Part& a, const Part& b) { return a.begin < b.begin; });
    RestorePatch patch;
    std::size_t total = 0;
    for (const Part& p : parts) total += p.patch.index.size();
    try {
        patch.index.reserve(total);
        patch.bits.reserve(total);
    } catch (...) {
        for (const Part& p : parts) restore_range<T>(w, delta_row, p.begin, p.end, p.patch);
        throw;
    }
    for (const Part& p : parts) {
        patch.index.insert(patch.index.end(), p.patch.index.begin(), p.patch.index.end());
        patch.bits.insert(patch.bits.end(), p.patch.bits.begin(), p.patch.bits.end());
    }
    const std::size_t weight_bytes = rows * cols * sizeof(bits_t);
    if (patch.bytes() <= weight_bytes) return patch;
    // The patch would cost more than the weight: keep the original bits instead.
    RestorePatch copy;
    try {
        copy.pristine.resize(weight_bytes);
    } catch (...) {
        return patch;  // the larger patch is exact too
    }
    restore_range<T>(w, delta_row, 0, rows, patch);
    std::memcpy(copy.pristine.data(), w.data, weight_bytes);
    auto write = [&](std::size_t begin, std::size_t end) {
        std::vector<float> d(cols);
        for (std::size_t r = begin; r < end; ++r) {
            delta_row(static_cast<std::int64_t>(r), d.data());
            bits_t* row = data + r * cols;
            for (std::size_t c = 0; c < cols; ++c) row[c] = T::store(T::load(row[c]) + d[c]);
        }
    };
    if (pool)
        pool->parallel_for(rows, write, 16);
    else
        write(0, rows);
    return copy;
}

template <class T>
void restore_rows(const MutableWeight& w, const DeltaRowFn& delta_row, const RestorePatch& patch,
                  ThreadPool* pool) {
    const std::uint64_t numel =
        static_cast<std::uint64_t>(w.rows) * static_cast<std::uint64_t>(w.cols);
    for (std::uint32_t i : patch.index)
        if (i >= numel)
            throw Error(ErrorKind::invalid_argument, "restore: patch index out of range");
    using bits_t = typename T::bits_t;
    auto* data = reinterpret_cast<bits_t*>(w.data);
    if (!patch.pristine.empty()) {
        if (patch.pristine.size() != numel * sizeof(bits_t))
            throw Error(ErrorKind::invalid_argument, "restore: pristine copy of the wrong size");
        std::memcpy(w.data, patch.pristine.data(), patch.pristine.size());
        return;
    }
    const auto cols = static_cast<std::size_t>(w.cols);
    auto body = [&](std::size_t begin, std::size_t end) {
        std::vector<float> d(cols);
        for (std::size_t r = begin; r < end; ++r) {
            delta_row(static_cast<std::int64_t>(r), d.data());
            bits_t* row = data + r * cols;
            for (std::size_t c = 0; c < cols; ++c) row[c] = T::store(T::load(row[c]) - d[c]);
        }
    };
    const auto rows = static_cast<std::size_t>(w.rows);
    if (pool)
        pool->parallel_for(rows, body, 16);
    else
        body(0, rows);
    for (std::size_t i = 0; i < patch.index.size(); ++i)
        data[patch.index[i]] = static_cast<bits_t>(patch.bits[i]);
}

}  // namespace

RestorePatch apply_in_place(const MutableWeight& w, const DeltaRowFn& delta_row, ThreadPool* pool) {
    check_weight(w);
    switch (w.dtype) {
        case DType::f32:
            return apply_rows<F32>(w, delta_row, pool);
        case DType::bf16:
            return apply_rows<BF16>(w, delta_row, pool);
        case DType::f16:
            return apply_rows<F16>(w, delta_row, pool);
        default:
            throw Error(ErrorKind::unsupported, std::string("in-place delta: weight dtype ") +
                                                    dtype_name(w.dtype) +
                                                    " is not supported (F32, F16, BF16)");
    }
}

void restore_in_place(const MutableWeight& w, const DeltaRowFn& delta_row,
                      const RestorePatch& patch, ThreadPool* pool) {
    check_weight(w);
    if (patch.index.size() != patch.bits.size())
        throw Error(ErrorKind::invalid_argument, "restore: malformed patch");
    switch (w.dtype) {
        case DType::f32:
            return restore_rows<F32>(w, delta_row, patch, pool);
        case DType::bf16:
            return restore_rows<BF16>(w, delta_row, patch, pool);
        case DType::f16:
            return restore_rows<F16>(w, delta_row, patch, pool);
        default:
            throw Error(ErrorKind::unsupported, std::string("restore: weight dtype ") +
                                                    dtype_name(w.dtype) + " is not supported");
    }
}

}  // namespace meswitch::serve
