// How the Studio writes numbers, sizes and compression summaries for people.
#pragma once

#include <QString>

#include <cstdint>
#include <vector>

#include "meswitch/catalog.h"

namespace Formatting {

// Parameter counts: "950", "260.0 K", "15.2 M", "7.24 B".
QString parameterCount(std::int64_t count);

// Byte sizes in binary units: "512 B", "1.5 KiB", "13.49 GiB".
QString byteSize(std::int64_t bytes);

// Display name of a compression method: "meswitch" -> "ME-Switch", "rtn" -> "RTN", ...
QString methodName(const std::string& method);

// One line for an expert's compressed deltas: "2-bit ME-Switch, 2.45 bits/param" for the newest
// artifact (plus "(+N more)"), or "not compressed".
QString compressionSummary(const std::vector<meswitch::DeltaArtifactRecord>& artifacts);

// "math, code" from a model's domains.
QString domainTags(const std::vector<meswitch::DomainRecord>& domains);

// A std::string (UTF-8) or std::filesystem::path as a QString.
inline QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

}  // namespace Formatting
