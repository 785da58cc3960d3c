// ExpertPool: residency under a memory budget (LRU) and switching.
#include "serve/expert_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "meswitch/error.h"

namespace meswitch::serve {

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

std::string mib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    return buf;
}

}  // namespace

ExpertPool::ExpertPool(DeviceBackend& backend, std::uint64_t budget_bytes)
    : backend_(backend), budget_(budget_bytes) {}

ExpertPool::~ExpertPool() {
    try {
        backend_.activate(nullptr, DeltaMode::merged);
    } catch (...) {  // the backend goes away too; nothing to report to
    }
    entries_.clear();
}

void ExpertPool::add(HostDelta delta) {
    if (delta.name.empty())
        throw Error(ErrorKind::invalid_argument, "expert pool: an expert needs a name");
    if (entries_.count(delta.name))
        throw Error(ErrorKind::invalid_argument,
                    "expert pool: an expert named '" + delta.name + "' is already loaded");
    std::string name = delta.name;
    Entry e;
    e.host = std::move(delta);
    e.order = ++loads_;
    entries_.emplace(std::move(name), std::move(e));
}

void ExpertPool::remove(std::string_view name) {
    auto it = entries_.find(name);
    if (it == entries_.end())
        throw Error(ErrorKind::not_found,
                    "expert pool: no expert named '" + std::string(name) + "' is loaded");
    if (pinned(name))
        throw Error(ErrorKind::busy, "expert '" + std::string(name) +
                                         "' is answering requests; unload it when they finish");
    if (active_ == name) {
        backend_.activate(nullptr, mode_);
        active_.clear();
    }
    entries_.erase(it);
}

bool ExpertPool::contains(std::string_view name) const {
    return entries_.find(name) != entries_.end();
}

std::uint64_t ExpertPool::resident_bytes() const {
    std::uint64_t n = 0;
    for (const auto& [name, e] : entries_)
        if (e.device) n += e.device->bytes();
    return n;
}

void ExpertPool::evict(Entry& e, std::string_view name) {
    if (active_ == name) {
        backend_.activate(nullptr, mode_);
        active_.clear();
    }
    e.device.reset();
}

bool ExpertPool::evict_one(std::string_view keep, std::vector<std::string>* evicted) {
    Entry* victim = nullptr;
    std::string victim_name;
    for (auto& [name, e] : entries_) {
        if (!e.device || name == keep || pinned(name)) continue;
        if (!victim || e.last_used < victim->last_used) {
            victim = &e;
            victim_name = name;
        }
    }
    if (!victim) return false;
    evict(*victim, victim_name);
    if (evicted) evicted->push_back(victim_name);
    return true;
}

void ExpertPool::upload(Entry& e, SwitchReport& report) {
    {
        const std::uint64_t need = e.host.bytes();
        if (need > budget_)
            throw Error(ErrorKind::out_of_memory,
                        "expert '" + report.expert + "' needs " + mib(need) +
                            " of device memory for its delta, but the pool's budget for deltas "
                            "is " +
                            mib(budget_) + "; raise the budget or use a smaller delta");
        while (resident_bytes() + need > budget_) {
            if (evict_one(active_, &report.evicted)) continue;
            if (active_.empty() || pinned(active_))
                throw Error(ErrorKind::out_of_memory,
                            "expert '" + report.expert + "' needs " + mib(need) +
                                " for its delta, and the other resident experts (" +
                                mib(resident_bytes()) +
                                ") are answering requests; it waits for room");
            report.evicted.push_back(active_);
            evict(entries_.find(active_)->second, std::string(active_));
        }
        const auto t = std::chrono::steady_clock::now();
        for (;;) {
            try {
                e.device = backend_.upload(e.host);
                break;
            } catch (const Error& err) {
                if (err.kind() != ErrorKind::out_of_memory) throw;
                if (evict_one(active_, &report.evicted)) continue;
                if (!active_.empty() && !pinned(active_)) {
                    report.evicted.push_back(active_);
                    evict(entries_.find(active_)->second, std::string(active_));
                    continue;
                }
                throw Error(ErrorKind::out_of_memory,
                            "the device has no memory for the delta of expert '" + report.expert +
                                "' (" + mib(need) +
                                ") even with every other delta evicted: " + err.what());
            }
        }
        report.uploaded = true;
        report.upload_ms = ms_since(t);
    }
}

const DeviceDelta* ExpertPool::resident(std::string_view name, SwitchReport* out) {
    SwitchReport local;
    SwitchReport& report = out ? *out : local;
    report.expert = std::string(name);
    auto it = entries_.find(name);
    if (it == entries_.end())
        throw Error(ErrorKind::not_found,
                    "expert pool: no expert named '" + std::string(name) + "' is loaded");
    Entry& e = it->second;
    if (!e.device) upload(e, report);
    e.last_used = ++clock_;
    return e.device.get();
}

bool ExpertPool::pinned(std::string_view name) const {
    const auto it = pins_.find(name);
    return it != pins_.end() && it->second > 0;
}

void ExpertPool::pin(std::string_view name) {
    auto it = pins_.find(name);
    if (it == pins_.end()) it = pins_.emplace(std::string(name), 0).first;
    ++it->second;
}

void ExpertPool::unpin(std::string_view name) {
    const auto it = pins_.find(name);
    if (it != pins_.end() && --it->second <= 0) pins_.erase(it);
}

SwitchReport ExpertPool::activate(std::string_view name, DeltaMode mode) {
    SwitchReport report;
    report.expert = std::string(name);
    if (name.empty()) {
        const auto t = std::chrono::steady_clock::now();
        backend_.activate(nullptr, mode);
        active_.clear();
        report.activate_ms = ms_since(t);
        return report;
    }
    auto it = entries_.find(name);
    if (it == entries_.end())
        throw Error(ErrorKind::not_found,
                    "expert pool: no expert named '" + std::string(name) + "' is loaded");
    Entry& e = it->second;
    if (!e.device) upload(e, report);
    const auto t = std::chrono::steady_clock::now();
    try {
        backend_.activate(e.device.get(), mode);
    } catch (...) {
        active_.clear();  // the backend is back at the base
        throw;
    }
    report.activate_ms = ms_since(t);
    active_ = report.expert;
    mode_ = mode;
    e.last_used = ++clock_;
    return report;
}

void ExpertPool::set_budget(std::uint64_t budget_bytes) {
    budget_ = budget_bytes;
    while (resident_bytes() > budget_) {
        if (evict_one(active_, nullptr)) continue;
        if (active_.empty()) break;
        evict(entries_.find(active_)->second, std::string(active_));
    }
}

PoolStatus ExpertPool::status() const {
    PoolStatus s;
    s.device = backend_.device_name();
    s.device_total_bytes = backend_.total_memory();
    s.device_free_bytes = backend_.free_memory();
    s.base_bytes = backend_.base_bytes();
    s.budget_bytes = budget_;
    s.resident_bytes = resident_bytes();
    s.restore_overhead_bytes = backend_.restore_overhead_bytes();
    s.active = active_;
    if (!active_.empty()) s.active_mode = mode_ == DeltaMode::merged ? "in-place" : "separate";
    std::vector<std::pair<std::uint64_t, ExpertResidency>> rows;
    for (const auto& [name, e] : entries_) {
        ExpertResidency r;
        r.name = name;
        r.bytes = e.device ? e.device->bytes() : e.host.bytes();
        r.resident = static_cast<bool>(e.device);
        r.active = name == active_;
        r.last_used = e.last_used;
        rows.emplace_back(e.order, std::move(r));
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [order, r] : rows) s.experts.push_back(std::move(r));
    return s;
}

}  // namespace meswitch::serve
