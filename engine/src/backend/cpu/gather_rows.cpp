// Row gather: out[i, :] = src[rows[i], :].
#include <cstring>

#include "backend/cpu/rows.h"

namespace meswitch::cpu {

void gather_rows(const float* src, std::int64_t cols, const std::int32_t* rows, std::int64_t n,
                 float* out) {
    for (std::int64_t i = 0; i < n; ++i)
        std::memcpy(out + i * cols, src + static_cast<std::int64_t>(rows[i]) * cols,
                    static_cast<std::size_t>(cols) * sizeof(float));
}

}  // namespace meswitch::cpu
