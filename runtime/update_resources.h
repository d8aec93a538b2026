// `runvm update`: the new linux.resources from a -r document and runc's flags.
// As in runc, the flags win over the document; values are strings as typed
// (memory values take k/m/g/t suffixes, "-1" means unlimited).
#pragma once

#include <string>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::runtime {

struct UpdateFlags {
  std::string blkio_weight, cpu_period, cpu_quota, cpu_share, cpu_rt_period, cpu_rt_runtime;
  std::string cpuset_cpus, cpuset_mems, memory, memory_reservation, memory_swap, pids_limit;
  std::string l3_cache_schema, mem_bw_schema;
};

// "512m" -> 536870912; "-1" -> -1. Errors name the flag.
[[nodiscard]] Result<int64_t> parse_memory_bytes(const std::string& flag, const std::string& v);

// Applies the flags that are set over `base`. Errors name the flag
// ("--cpu-quota: invalid value \"x\"").
[[nodiscard]] Result<oci::Resources> apply_update_flags(oci::Resources base, const UpdateFlags& f);

}  // namespace runvm::runtime
