// The classifier's blob in the catalog: little-endian fields and a trailing XXH64 checksum,
// checked field by field on load so that a damaged row gives a clear error (and a retrain).
#include <xxhash.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "meswitch/error.h"
#include "router/classifier.h"

namespace meswitch::router {

namespace {

constexpr char magic[4] = {'M', 'S', 'R', 'C'};
constexpr std::uint32_t format_version = 1;
constexpr std::uint32_t max_classes = 4096;
constexpr std::uint32_t max_dim = 1u << 20;

static_assert(std::endian::native == std::endian::little, "blob I/O assumes a little-endian host");

class Writer {
public:
    template <typename T>
    void put(T v) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
        out.insert(out.end(), p, p + sizeof(T));
    }
    std::vector<std::uint8_t> out;
};

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}
    template <typename T>
    T get(const char* what) {
        if (data_.size() - pos_ < sizeof(T))
            throw Error(ErrorKind::format, std::string("router classifier blob: truncated at ") +
                                               what + " (offset " + std::to_string(pos_) + " of " +
                                               std::to_string(data_.size()) + " bytes)");
        T v;
        std::memcpy(&v, data_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    double finite(const char* what) {
        const double v = get<double>(what);
        if (!std::isfinite(v))
            throw Error(ErrorKind::format,
                        std::string("router classifier blob: non-finite value in ") + what);
        return v;
    }
    std::size_t pos() const { return pos_; }

private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
};

}  // namespace

std::vector<std::uint8_t> Classifier::serialize() const {
    Writer w;
    for (char c : magic) w.put(c);
    w.put(format_version);
    w.put(static_cast<std::uint32_t>(classes_));
    w.put(static_cast<std::uint32_t>(dim()));
    w.put(temperature_);
    for (double v : mean_) w.put(v);
    for (double v : inv_std_) w.put(v);
    for (double v : weights_) w.put(v);
    for (double v : biases_) w.put(v);
    w.put(static_cast<std::uint64_t>(XXH64(w.out.data(), w.out.size(), 0)));
    return std::move(w.out);
}

Classifier Classifier::deserialize(std::span<const std::uint8_t> blob) {
    if (blob.size() < 4 + 4 + 4 + 4 + 8 + 8)
        throw Error(ErrorKind::format, "router classifier blob: " + std::to_string(blob.size()) +
                                           " bytes is too short to be a classifier");
    if (std::memcmp(blob.data(), magic, 4) != 0)
        throw Error(ErrorKind::format, "router classifier blob: not a classifier (bad magic)");
    const std::size_t body = blob.size() - 8;
    std::uint64_t stored = 0;
    std::memcpy(&stored, blob.data() + body, 8);
    if (stored != XXH64(blob.data(), body, 0))
        throw Error(ErrorKind::format, "router classifier blob: checksum mismatch (damaged data)");
    Reader r(blob.first(body));
    for (int i = 0; i < 4; ++i) r.get<char>("magic");
    const auto version = r.get<std::uint32_t>("format version");
    if (version != format_version)
        throw Error(ErrorKind::format,
                    "router classifier blob: format version " + std::to_string(version) +
                        " is not supported (expected " + std::to_string(format_version) + ")");
    const auto classes = r.get<std::uint32_t>("class count");
    const auto dim = r.get<std::uint32_t>("feature count");
    if (classes == 0 || classes > max_classes || dim == 0 || dim > max_dim)
        throw Error(ErrorKind::format, "router classifier blob: implausible shape " +
                                           std::to_string(classes) + " classes × " +
                                           std::to_string(dim) + " features");
    const std::size_t expected =
        r.pos() + 8 + 8 * (2 * std::size_t{dim} + std::size_t{classes} * dim + classes);
    if (expected != body)
        throw Error(ErrorKind::format, "router classifier blob: " + std::to_string(body) +
                                           " bytes of data, the header implies " +
                                           std::to_string(expected));
    Classifier c;
    c.classes_ = static_cast<int>(classes);
    c.temperature_ = r.finite("temperature");
    if (!(c.temperature_ > 0))
        throw Error(ErrorKind::format, "router classifier blob: temperature must be positive");
    c.mean_.resize(dim);
    c.inv_std_.resize(dim);
    c.weights_.resize(std::size_t{classes} * dim);
    c.biases_.resize(classes);
    for (double& v : c.mean_) v = r.finite("feature means");
    for (double& v : c.inv_std_) v = r.finite("feature scales");
    for (double& v : c.weights_) v = r.finite("weights");
    for (double& v : c.biases_) v = r.finite("biases");
    return c;
}

}  // namespace meswitch::router
