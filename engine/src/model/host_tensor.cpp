// Owned host tensors: views and conversion from float32.
#include <cstring>

#include "meswitch/error.h"
#include "meswitch/model.h"

namespace meswitch {

TensorView HostTensor::view() const {
    TensorView v;
    v.dtype = dtype;
    v.shape = shape;
    v.data = data.data();
    v.nbytes = data.size();
    return v;
}

HostTensor HostTensor::from_f32(std::vector<std::int64_t> shape, std::span<const float> values,
                                DType dtype) {
    std::size_t numel = 1;
    for (auto d : shape) {
        if (d < 0) throw Error(ErrorKind::invalid_argument, "HostTensor: negative dimension");
        numel *= static_cast<std::size_t>(d);
    }
    if (numel != values.size())
        throw Error(ErrorKind::invalid_argument, "HostTensor: " + std::to_string(values.size()) +
                                                     " values for a shape of " +
                                                     std::to_string(numel) + " elements");
    HostTensor t;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.data.resize(numel * dtype_size(dtype));
    switch (dtype) {
        case DType::f32:
            std::memcpy(t.data.data(), values.data(), numel * sizeof(float));
            break;
        case DType::bf16:
        case DType::f16: {
            for (std::size_t i = 0; i < numel; ++i) {
                const std::uint16_t bits =
                    dtype == DType::bf16 ? f32_to_bf16(values[i]) : f32_to_f16(values[i]);
                std::memcpy(t.data.data() + 2 * i, &bits, 2);
            }
            break;
        }
        default:
            throw Error(ErrorKind::unsupported, std::string("HostTensor::from_f32: dtype ") +
                                                    dtype_name(dtype) +
                                                    " is not supported (F32, F16, BF16)");
    }
    return t;
}

}  // namespace meswitch
