// Container statistics: what the guest reads from the container's cgroup v2 and
// what `runvm events` prints. The JSON shape is runc's events "data" object
// (cpu.usage, cpu.throttling, memory.usage/swap/raw, pids), so tools that read
// runc's stats read ours. Everything the guest sends is parsed back through
// stats_from_json, which keeps only known fields with sane values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace runvm::agent {

struct MemoryEntry {
  uint64_t limit = 0;  // bytes; UINT64_MAX = no limit (runc's value for "max")
  uint64_t usage = 0;
  uint64_t max = 0;  // peak usage, where the kernel has memory.peak
  uint64_t failcnt = 0;
  bool operator==(const MemoryEntry&) const = default;
};

struct ContainerStats {
  struct Cpu {
    uint64_t total_ns = 0;
    uint64_t kernel_ns = 0;
    uint64_t user_ns = 0;
    uint64_t periods = 0;
    uint64_t throttled_periods = 0;
    uint64_t throttled_ns = 0;
    bool operator==(const Cpu&) const = default;
  } cpu;
  struct Memory {
    uint64_t cache = 0;  // page cache ("file" in memory.stat)
    MemoryEntry usage;
    MemoryEntry swap;
    std::map<std::string, uint64_t> raw;  // memory.stat
    bool operator==(const Memory&) const = default;
  } memory;
  struct Pids {
    uint64_t current = 0;
    uint64_t limit = 0;  // 0 = no limit
    bool operator==(const Pids&) const = default;
  } pids;
  bool operator==(const ContainerStats&) const = default;
};

// runc's events "data" object.
[[nodiscard]] nlohmann::json to_json(const ContainerStats& s);
// Inverse of to_json; untrusted input: unknown fields are dropped, a wrong type or
// more than kMaxRawStats raw entries is an error.
[[nodiscard]] Result<ContainerStats> stats_from_json(const nlohmann::json& j);
inline constexpr size_t kMaxRawStats = 128;

// Reads a cgroup v2 directory (cpu.stat, memory.current/max/peak/stat/events,
// memory.swap.current/max, pids.current/max). Files of controllers that are not
// enabled are skipped; cpu.stat must exist.
[[nodiscard]] Result<ContainerStats> read_cgroup_stats(const std::string& dir);

}  // namespace runvm::agent
