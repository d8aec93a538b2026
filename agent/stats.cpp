#include "agent/stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <sstream>

namespace runvm::agent {
namespace {

using nlohmann::json;
constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// Small kernel-made files only (cgroup files are well under this).
std::optional<std::string> read_small(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;
  }
  ::close(fd);
  return out;
}

std::optional<uint64_t> to_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A one-value file: a number or "max" (no limit).
std::optional<uint64_t> read_value(const std::string& path) {
  auto text = read_small(path);
  if (!text) return std::nullopt;
  std::string_view v = *text;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  if (v == "max") return kNoLimit;
  return to_u64(v);
}

// "key value" lines (cpu.stat, memory.stat, memory.events).
std::map<std::string, uint64_t> read_keyed(const std::string& path) {
  std::map<std::string, uint64_t> out;
  auto text = read_small(path);
  if (!text) return out;
  std::istringstream in(*text);
  std::string key, value;
  while (in >> key >> value)
    if (auto v = to_u64(value)) out[key] = *v;
  return out;
}

bool valid_raw_name(const std::string& k) {
  if (k.empty() || k.size() > 64) return false;
  for (unsigned char c : k)
    if (!(std::islower(c) || std::isdigit(c) || c == '_')) return false;
  return true;
}

Result<uint64_t> u64_field(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return uint64_t{0};
  if (!it->is_number_unsigned()) return Error(where + "." + key + ": expected unsigned integer");
  return it->get<uint64_t>();
}

Result<const json*> object_field(const json& obj, const char* key, const std::string& where) {
  static const json kEmpty = json::object();
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return &kEmpty;
  if (!it->is_object()) return Error(where + "." + key + ": expected object");
  return &*it;
}

Result<MemoryEntry> entry_from_json(const json& obj, const char* key, const std::string& where) {
  auto o = object_field(obj, key, where);
  if (!o) return o.error();
  const std::string at = where + "." + key;
  MemoryEntry e;
  for (auto [name, dst] : {std::pair{"limit", &e.limit}, std::pair{"usage", &e.usage},
                           std::pair{"max", &e.max}, std::pair{"failcnt", &e.failcnt}}) {
    auto v = u64_field(**o, name, at);
    if (!v) return v.error();
    *dst = *v;
  }
  return e;
}

json entry_json(const MemoryEntry& e) {
  return json{{"limit", e.limit}, {"usage", e.usage}, {"max", e.max}, {"failcnt", e.failcnt}};
}

}  // namespace

json to_json(const ContainerStats& s) {
  json cpu{
      {"usage", {{"total", s.cpu.total_ns}, {"kernel", s.cpu.kernel_ns}, {"user", s.cpu.user_ns}}},
      {"throttling",
       {{"periods", s.cpu.periods},
        {"throttledPeriods", s.cpu.throttled_periods},
        {"throttledTime", s.cpu.throttled_ns}}}};
  json memory{{"cache", s.memory.cache},
              {"usage", entry_json(s.memory.usage)},
              {"swap", entry_json(s.memory.swap)},
              {"raw", s.memory.raw}};
  return json{{"cpu", cpu},
              {"memory", memory},
              {"pids", {{"current", s.pids.current}, {"limit", s.pids.limit}}}};
}

Result<ContainerStats> stats_from_json(const json& j) {
  if (!j.is_object()) return Error("stats: expected object");
  ContainerStats s;
  auto cpu = object_field(j, "cpu", "stats");
  if (!cpu) return cpu.error();
  auto usage = object_field(**cpu, "usage", "stats.cpu");
  if (!usage) return usage.error();
  auto thr = object_field(**cpu, "throttling", "stats.cpu");
  if (!thr) return thr.error();
  struct Field {
    const json* obj;
    const char* key;
    const char* where;
    uint64_t* dst;
  };
  auto mem = object_field(j, "memory", "stats");
  if (!mem) return mem.error();
  auto pids = object_field(j, "pids", "stats");
  if (!pids) return pids.error();
  for (const Field& f :
       {Field{*usage, "total", "stats.cpu.usage", &s.cpu.total_ns},
        Field{*usage, "kernel", "stats.cpu.usage", &s.cpu.kernel_ns},
        Field{*usage, "user", "stats.cpu.usage", &s.cpu.user_ns},
        Field{*thr, "periods", "stats.cpu.throttling", &s.cpu.periods},
        Field{*thr, "throttledPeriods", "stats.cpu.throttling", &s.cpu.throttled_periods},
        Field{*thr, "throttledTime", "stats.cpu.throttling", &s.cpu.throttled_ns},
        Field{*mem, "cache", "stats.memory", &s.memory.cache},
        Field{*pids, "current", "stats.pids", &s.pids.current},
        Field{*pids, "limit", "stats.pids", &s.pids.limit}}) {
    auto v = u64_field(*f.obj, f.key, f.where);
    if (!v) return v.error();
    *f.dst = *v;
  }
  auto mu = entry_from_json(**mem, "usage", "stats.memory");
  if (!mu) return mu.error();
  s.memory.usage = *mu;
  auto sw = entry_from_json(**mem, "swap", "stats.memory");
  if (!sw) return sw.error();
  s.memory.swap = *sw;
  auto raw = object_field(**mem, "raw", "stats.memory");
  if (!raw) return raw.error();
  if ((*raw)->size() > kMaxRawStats) return Error("stats.memory.raw: too many entries");
  for (const auto& [k, v] : (*raw)->items()) {
    if (!valid_raw_name(k)) return Error("stats.memory.raw: invalid name");
    if (!v.is_number_unsigned())
      return Error("stats.memory.raw." + k + ": expected unsigned integer");
    s.memory.raw[k] = v.get<uint64_t>();
  }
  return s;
}

Result<ContainerStats> read_cgroup_stats(const std::string& dir) {
  if (::access((dir + "/cpu.stat").c_str(), R_OK) < 0)
    return Error::from_errno("cgroup " + dir + ": cpu.stat");
  ContainerStats s;
  auto cpu = read_keyed(dir + "/cpu.stat");
  // cgroup v2 counts microseconds; runc's stats are nanoseconds.
  s.cpu.total_ns = cpu["usage_usec"] * 1000;
  s.cpu.user_ns = cpu["user_usec"] * 1000;
  s.cpu.kernel_ns = cpu["system_usec"] * 1000;
  s.cpu.periods = cpu["nr_periods"];
  s.cpu.throttled_periods = cpu["nr_throttled"];
  s.cpu.throttled_ns = cpu["throttled_usec"] * 1000;

  s.memory.usage.usage = read_value(dir + "/memory.current").value_or(0);
  s.memory.usage.limit = read_value(dir + "/memory.max").value_or(kNoLimit);
  s.memory.usage.max = read_value(dir + "/memory.peak").value_or(0);
  auto events = read_keyed(dir + "/memory.events");
  s.memory.usage.failcnt = events["max"];
  s.memory.swap.usage = read_value(dir + "/memory.swap.current").value_or(0);
  s.memory.swap.limit = read_value(dir + "/memory.swap.max").value_or(kNoLimit);
  auto stat = read_keyed(dir + "/memory.stat");
  for (const auto& [k, v] : stat)
    if (valid_raw_name(k) && s.memory.raw.size() < kMaxRawStats) s.memory.raw[k] = v;
  s.memory.cache = stat["file"];

  s.pids.current = read_value(dir + "/pids.current").value_or(0);
  auto pids_max = read_value(dir + "/pids.max");
  s.pids.limit = pids_max && *pids_max != kNoLimit ? *pids_max : 0;
  return s;
}

}  // namespace runvm::agent
