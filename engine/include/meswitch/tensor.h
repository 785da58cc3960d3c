// Element types and non-owning views of tensors (row-major, as stored in safetensors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meswitch {

// Values are stable identifiers; never reuse or renumber them.
enum class DType : std::uint8_t { f32 = 0, f16 = 1, bf16 = 2, i8 = 3, u8 = 4, i32 = 5, i64 = 6, f64 = 7 };

std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);                        // safetensors spelling: "F32", "BF16", ...
std::optional<DType> parse_dtype(std::string_view name);    // inverse of dtype_name

float bf16_to_f32(std::uint16_t bits);
std::uint16_t f32_to_bf16(float value);  // round to nearest even; NaN stays NaN
float f16_to_f32(std::uint16_t bits);
std::uint16_t f32_to_f16(float value);   // round to nearest even; overflow → inf

struct TensorView {
    DType dtype = DType::f32;
    std::vector<std::int64_t> shape;
    const std::byte* data = nullptr;  // not owned; e.g. inside a memory-mapped file
    std::size_t nbytes = 0;

    std::int64_t numel() const;
    std::string shape_string() const;  // "[64, 172]"
};

// Widens (or copies) `count` elements of an f32/f16/bf16 buffer into float.
// Throws Error(unsupported) for other dtypes.
void convert_to_f32(DType dtype, const void* src, float* dst, std::size_t count);

}  // namespace meswitch
