#include "formatting.h"

#include <QCoreApplication>
#include <QStringList>

#include <algorithm>
#include <array>
#include <cmath>

namespace Formatting {

QString parameterCount(std::int64_t count) {
    struct Unit {
        double scale;
        const char* suffix;
        int decimals;
    };
    static constexpr std::array<Unit, 4> units = {
        {{1e12, "T", 2}, {1e9, "B", 2}, {1e6, "M", 1}, {1e3, "K", 1}}};
    const double value = static_cast<double>(count);
    for (const Unit& u : units) {
        if (std::abs(value) >= u.scale)
            return QStringLiteral("%1 %2")
                .arg(value / u.scale, 0, 'f', u.decimals)
                .arg(QLatin1String(u.suffix));
    }
    return QString::number(count);
}

QString byteSize(std::int64_t bytes) {
    static constexpr std::array<const char*, 5> units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return QStringLiteral("%1 B").arg(bytes);
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    value /= 1024.0;
    while (value >= 1024.0 && unit + 1 < units.size()) {
        value /= 1024.0;
        ++unit;
    }
    const int decimals = value >= 100 ? 1 : 2;
    return QStringLiteral("%1 %2").arg(value, 0, 'f', decimals).arg(QLatin1String(units[unit]));
}

QString methodName(const std::string& method) {
    if (method == "meswitch") return QStringLiteral("ME-Switch");
    if (method == "rtn") return QStringLiteral("RTN");
    if (method == "bitdelta") return QStringLiteral("BitDelta");
    return qs(method);
}

QString compressionSummary(const std::vector<meswitch::DeltaArtifactRecord>& artifacts) {
    if (artifacts.empty()) return QCoreApplication::translate("Formatting", "not compressed");
    const auto newest = std::max_element(artifacts.begin(), artifacts.end(),
                                         [](const auto& a, const auto& b) { return a.id < b.id; });
    QString text = QCoreApplication::translate("Formatting", "%1-bit %2, %3 bits/param")
                       .arg(newest->bits)
                       .arg(methodName(newest->method))
                       .arg(newest->bits_per_param, 0, 'f', 2);
    if (artifacts.size() > 1)
        text = QCoreApplication::translate("Formatting", "%1 (+%2 more)")
                   .arg(text)
                   .arg(artifacts.size() - 1);
    return text;
}

QString domainTags(const std::vector<meswitch::DomainRecord>& domains) {
    QStringList names;
    for (const auto& d : domains) names << qs(d.name);
    return names.join(QStringLiteral(", "));
}

}  // namespace Formatting
