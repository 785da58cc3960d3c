// The ExpertPool: one base resident on a device, many experts' compressed deltas kept in
// host memory, as many of them resident on the device as a memory budget allows (least
// recently used evicted first: an evicted delta stays in host memory, ready to upload
// again), and one of them active at a time, in place or computed separately.
//
//   ExpertPool pool(*backend, 512ull << 20);         // 512 MiB for resident deltas
//   pool.add(HostDelta::load("math.msd", "math", base_hash));
//   pool.activate("math", DeltaMode::merged);        // upload if needed, then apply
//   backend->forward(...);
//   pool.activate("", DeltaMode::merged);            // the base alone, bit-exact
//
// The pool is the only owner of device deltas: nothing else frees them. Not thread-safe:
// the engine thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "meswitch/pool.h"
#include "serve/device_backend.h"

namespace meswitch::serve {

struct SwitchReport {
    std::string expert;                // "" for the base
    bool uploaded = false;             // it was not resident before
    std::vector<std::string> evicted;  // made room for it
    double upload_ms = 0;
    double activate_ms = 0;  // restore of the previous + apply of the new
};

class ExpertPool {
public:
    // budget_bytes: device memory for resident deltas (not counting the base).
    ExpertPool(DeviceBackend& backend, std::uint64_t budget_bytes);
    ~ExpertPool();  // restores the base, frees every device delta
    ExpertPool(const ExpertPool&) = delete;
    ExpertPool& operator=(const ExpertPool&) = delete;

    // Registers an expert's delta (host memory only; uploaded on first activation).
    // Error(invalid_argument) when the name is empty or taken.
    void add(HostDelta delta);
    // Forgets an expert (the base becomes active if it was). Error(not_found).
    void remove(std::string_view name);
    bool contains(std::string_view name) const;

    // Makes `name` active ("" = the base alone). Uploads it when it is not resident,
    // evicting least-recently-used deltas (never the active one, unless nothing else
    // makes room) until it fits in the budget. Error(out_of_memory) when it cannot fit
    // even alone, or the device refuses the memory: then the previous expert stays active
    // if it is still resident, else the base; the pool stays usable either way.
    SwitchReport activate(std::string_view name, DeltaMode mode);

    // Makes `name`'s delta resident without activating it (for sequences that add it
    // separately in a batched step) and returns it; uploads and evicts as activate() does,
    // never evicting a pinned expert. Error(not_found), Error(out_of_memory).
    const DeviceDelta* resident(std::string_view name, SwitchReport* report = nullptr);
    // A pinned expert stays resident (running sequences use it); pins count.
    void pin(std::string_view name);
    void unpin(std::string_view name);

    // Evicts deltas (LRU first, the active one last) until the resident ones fit.
    void set_budget(std::uint64_t budget_bytes);
    std::uint64_t budget() const { return budget_; }
    std::uint64_t resident_bytes() const;
    std::string active() const { return active_; }
    PoolStatus status() const;

private:
    struct Entry {
        HostDelta host;
        std::unique_ptr<DeviceDelta> device;  // null: evicted (host only)
        std::uint64_t last_used = 0;
        std::uint64_t order = 0;  // load order
    };
    // Evicts the least recently used resident delta other than `keep`; false if none.
    bool evict_one(std::string_view keep, std::vector<std::string>* evicted);
    void upload(Entry& e, SwitchReport& report);
    bool pinned(std::string_view name) const;
    void evict(Entry& e, std::string_view name);

    DeviceBackend& backend_;
    std::uint64_t budget_;
    std::map<std::string, Entry, std::less<>> entries_;
    std::string active_;
    std::map<std::string, int, std::less<>> pins_;
    DeltaMode mode_ = DeltaMode::merged;
    std::uint64_t clock_ = 0, loads_ = 0;
};

}  // namespace meswitch::serve
