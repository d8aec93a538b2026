#include "runtime/update_resources.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace runvm::runtime {
namespace {

Error bad(const std::string& flag, const std::string& v) {
  return Error("--" + flag + ": invalid value \"" + v + "\"", EINVAL);
}

template <typename T>
Result<T> parse_int(const std::string& flag, const std::string& v) {
  T out{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) return bad(flag, v);
  return out;
}

// Sets `dst` from a flag's text when the flag was given.
template <typename T>
Status set_number(const char* flag, const std::string& v, std::optional<T>& dst) {
  if (v.empty()) return {};
  auto n = parse_int<T>(flag, v);
  if (!n) return n.error();
  dst = *n;
  return {};
}

}  // namespace

Result<int64_t> parse_memory_bytes(const std::string& flag, const std::string& v) {
  if (v == "-1") return int64_t{-1};
  // Digits, then an optional unit (k, m, g, t; "b", "kb", "KiB" spellings too), binary
  // multiples as in runc (docker/go-units RAMInBytes).
  size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  if (i == 0) return bad(flag, v);
  auto n = parse_int<uint64_t>(flag, v.substr(0, i));
  if (!n) return n.error();
  std::string unit;
  for (char c : v.substr(i)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  int shift = 0;
  if (unit.empty() || unit == "b")
    shift = 0;
  else if (unit == "k")
    shift = 10;
  else if (unit == "m")
    shift = 20;
  else if (unit == "g")
    shift = 30;
  else if (unit == "t")
    shift = 40;
  else
    return bad(flag, v);
  if (*n > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) >> shift))
    return Error("--" + flag + ": value too large", ERANGE);
  return static_cast<int64_t>(*n << shift);
}

Result<oci::Resources> apply_update_flags(oci::Resources r, const UpdateFlags& f) {
  if (!f.l3_cache_schema.empty() || !f.mem_bw_schema.empty())
    return Error("Intel RDT (--l3-cache-schema, --mem-bw-schema) is not available in a microVM",
                 ENOTSUP);
  auto memory = [&]() -> oci::Memory& {
    if (!r.memory) r.memory = oci::Memory{};
    return *r.memory;
  };
  auto cpu = [&]() -> oci::CPU& {
    if (!r.cpu) r.cpu = oci::CPU{};
    return *r.cpu;
  };
  struct MemFlag {
    const char* name;
    const std::string* value;
    std::optional<int64_t> oci::Memory::*field;
  };
  for (const MemFlag& m :
       {MemFlag{"memory", &f.memory, &oci::Memory::limit},
        MemFlag{"memory-reservation", &f.memory_reservation, &oci::Memory::reservation},
        MemFlag{"memory-swap", &f.memory_swap, &oci::Memory::swap}}) {
    if (m.value->empty()) continue;
    auto v = parse_memory_bytes(m.name, *m.value);
    if (!v) return v.error();
    memory().*m.field = *v;
  }
  const bool any_cpu =
      !(f.cpu_share + f.cpu_period + f.cpu_quota + f.cpu_rt_period + f.cpu_rt_runtime).empty();
  if (any_cpu) {
    oci::CPU& c = cpu();
    for (Status s : {set_number("cpu-share", f.cpu_share, c.shares),
                     set_number("cpu-period", f.cpu_period, c.period),
                     set_number("cpu-quota", f.cpu_quota, c.quota),
                     set_number("cpu-rt-period", f.cpu_rt_period, c.realtimePeriod),
                     set_number("cpu-rt-runtime", f.cpu_rt_runtime, c.realtimeRuntime)})
      if (!s) return s.error();
  }
  if (!f.cpuset_cpus.empty()) cpu().cpus = f.cpuset_cpus;
  if (!f.cpuset_mems.empty()) cpu().mems = f.cpuset_mems;
  if (!f.pids_limit.empty()) {
    auto v = parse_int<int64_t>("pids-limit", f.pids_limit);
    if (!v) return v.error();
    r.pids = oci::Pids{*v};
  }
  if (!f.blkio_weight.empty()) {
    auto v = parse_int<uint16_t>("blkio-weight", f.blkio_weight);
    if (!v) return v.error();
    if (!r.blockIO) r.blockIO = oci::BlockIO{};
    r.blockIO->weight = *v;
  }
  return r;
}

}  // namespace runvm::runtime
