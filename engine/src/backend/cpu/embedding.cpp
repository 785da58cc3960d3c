// Token embedding lookup: rows of the table widened to float32.
#include <string>

#include "backend/cpu/ops.h"
#include "meswitch/error.h"

namespace meswitch::cpu {

void embedding(const Matrix& table, std::span<const std::int32_t> ids, float* out) {
    for (std::size_t t = 0; t < ids.size(); ++t) {
        const std::int32_t id = ids[t];
        if (id < 0 || id >= table.rows)
            throw Error(ErrorKind::invalid_argument, "token id " + std::to_string(id) +
                                                         " at position " + std::to_string(t) +
                                                         " is outside the vocabulary (" +
                                                         std::to_string(table.rows) + " tokens)");
        widen_to_f32(table.dtype, table.row(id), out + t * table.cols,
                     static_cast<std::size_t>(table.cols));
    }
}

}  // namespace meswitch::cpu
