// Reading an .msd artifact into host memory for the ExpertPool.
#include "serve/host_delta.h"

#include <set>

#include "meswitch/error.h"

namespace meswitch::serve {

std::uint64_t HostDelta::bytes() const {
    std::uint64_t n = 0;
    for (const auto& l : linears) n += l.linear.storage_bytes();
    for (const auto& d : dense) n += d.bits16.size() * 2 + d.f32.size() * 4;
    return n;
}

HostDelta HostDelta::load(const std::filesystem::path& msd_file, std::string_view name,
                          std::string_view base_hash) {
    const delta::MsdFile msd(msd_file);
    const delta::MsdHeader& h = msd.header();
    if (!base_hash.empty() && h.base_hash != base_hash)
        throw Error(ErrorKind::invalid_argument,
                    msd_file.string() + " is a delta against base " +
                        (h.base_name.empty() ? std::string() : "'" + h.base_name + "' ") +
                        "with content hash " + h.base_hash + ", but the loaded base's hash is " +
                        std::string(base_hash) + "; load it beside the base it was made from");
    HostDelta d;
    d.name = std::string(name);
    d.base_hash = h.base_hash;
    d.expert_hash = h.expert_hash;
    d.source = msd_file;
    std::set<std::string> seen;
    for (const auto& info : msd.layers()) {
        seen.insert(info.prefix + ".weight");
        d.linears.push_back({info.prefix, msd.load(info.prefix)});
    }
    for (const std::string& n : msd.dense_names()) {
        if (!seen.insert(n).second)
            throw Error(ErrorKind::format, msd_file.string() + ": tensor '" + n +
                                               "' has both a compressed and a dense delta");
        d.dense.push_back(msd.load_dense(n));
    }
    return d;
}

}  // namespace meswitch::serve
