// Method and zero-format names, salient-channel specifications.
#include <cmath>
#include <cstdio>
#include <string>

#include "delta/quant/quantize.h"
#include "meswitch/error.h"

namespace meswitch::delta {

const char* method_name(Method method) {
    switch (method) {
        case Method::meswitch:
            return "meswitch";
        case Method::rtn:
            return "rtn";
        case Method::bitdelta:
            return "bitdelta";
    }
    return "unknown";
}

std::optional<Method> parse_method(std::string_view name) {
    for (Method m : {Method::meswitch, Method::rtn, Method::bitdelta})
        if (name == method_name(m)) return m;
    return std::nullopt;
}

const char* zero_format_name(ZeroFormat format) {
    switch (format) {
        case ZeroFormat::midpoint:
            return "midpoint";
        case ZeroFormat::u8:
            return "u8";
        case ZeroFormat::f16:
            return "f16";
    }
    return "unknown";
}

std::int64_t SalientSpec::count(std::int64_t cols) const {
    if (cols <= 0 || !(value > 0)) return 0;
    double k = is_fraction ? std::round(value * static_cast<double>(cols)) : std::round(value);
    if (k >= static_cast<double>(cols)) return cols;
    return static_cast<std::int64_t>(k);
}

std::string SalientSpec::to_string() const {
    char buf[64];
    if (is_fraction)
        std::snprintf(buf, sizeof buf, "%g%%", value * 100.0);
    else
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(std::llround(value)));
    return buf;
}

SalientSpec SalientSpec::parse(std::string_view text) {
    auto fail = [&] {
        throw Error(ErrorKind::invalid_argument,
                    "salient channels '" + std::string(text) +
                        "': expected a count (\"16\") or a percentage (\"1%\", 0..100)");
    };
    std::string s(text);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
    if (s.empty()) fail();
    bool percent = s.back() == '%';
    if (percent) s.pop_back();
    if (s.empty() || s.size() > 32) fail();
    for (char c : s)
        if (!((c >= '0' && c <= '9') || c == '.')) fail();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0) fail();
    SalientSpec spec;
    if (percent) {
        if (v > 100) fail();
        spec.is_fraction = true;
        spec.value = v / 100.0;
    } else {
        if (v != std::floor(v) || v > 1e9) fail();
        spec.is_fraction = false;
        spec.value = v;
    }
    return spec;
}

}  // namespace meswitch::delta
