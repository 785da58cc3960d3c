// Fuzz target: a whole safetensors file (8-byte header length, JSON header, data area) opened
// by io::SafetensorsFile; every tensor is viewed and every byte of it read, and the documented
// layout guarantees are checked (offsets inside the data area, shape × dtype size = byte
// length, header + data = file, views at their offsets, names found by find()).
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.h"
#include "io/safetensors.h"
#include "meswitch/error.h"

using namespace meswitch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto file = fuzz::scratch() / "model.safetensors";
    fuzz::write_file(file, data, size);
    try {
        const io::SafetensorsFile st(file);
        // Reaching here means the file was accepted: the data area is the rest of the file.
        FUZZ_CHECK(size >= 8);
        std::uint64_t header_len = 0;
        for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
        FUZZ_CHECK(header_len > 0 && header_len <= size - 8);
        FUZZ_CHECK(8 + header_len + st.data_bytes() == size);

        for (const auto& [key, value] : st.metadata()) {
            fuzz::consume(key);
            fuzz::consume(value);
        }
        const std::uint8_t* data_area = data + 8 + header_len;
        const std::byte* first_view = nullptr;
        std::uint64_t first_begin = 0;
        std::vector<float> widened;
        for (const io::TensorInfo& t : st.tensors()) {
            FUZZ_CHECK(t.begin <= t.end && t.end <= st.data_bytes());
            FUZZ_CHECK(st.find(t.name) == &t);
            const TensorView v = st.view(t);
            FUZZ_CHECK(v.dtype == t.dtype && v.shape == t.shape);
            FUZZ_CHECK(v.nbytes == t.end - t.begin);
            FUZZ_CHECK(std::uint64_t(v.numel()) * dtype_size(v.dtype) == v.nbytes);
            if (!first_view) first_view = v.data, first_begin = t.begin;
            // Views sit at their offsets within one mapping of the whole file.
            FUZZ_CHECK(v.data - first_view == std::int64_t(t.begin) - std::int64_t(first_begin));
            // The mapped bytes are the file's bytes.
            FUZZ_CHECK(v.nbytes == 0 || std::memcmp(v.data, data_area + t.begin, v.nbytes) == 0);
            fuzz::consume(v.data, v.nbytes);
            if (v.dtype == DType::f32 || v.dtype == DType::f16 || v.dtype == DType::bf16) {
                widened.resize(std::size_t(v.numel()));
                convert_to_f32(v.dtype, v.data, widened.data(), widened.size());
            }
            (void)v.shape_string();
            const TensorView by_name = st.view(t.name);
            FUZZ_CHECK(by_name.data == v.data && by_name.nbytes == v.nbytes);
        }
    } catch (const Error&) {
        // Refusing a malformed file with a message is the expected outcome.
    }
    return 0;
}
