// runvm update [-r resources.json | --memory N ...] <id>: change resource limits.
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "base/file_io.h"
#include "oci/parse.h"
#include "oci/state.h"
#include "oci/validate.h"
#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"
#include "runtime/update_resources.h"
#include "runtime/vm/supervisor_client.h"

namespace runvm::runtime {

namespace {
struct UpdateOptions {
  std::string id;
  std::string resources;  // file, or "-" for stdin
  UpdateFlags flags;
};

// The -r document: a linux.resources object.
Result<oci::Resources> read_resources(const std::string& source) {
  std::string text;
  if (source == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto file = read_file(source);
    if (!file) return file.error();
    text = std::move(*file);
  }
  auto resources = oci::parse_resources(text);
  if (!resources) return resources.error().wrap(source == "-" ? "stdin" : source);
  return resources;
}
}  // namespace

Action setup_update(CLI::App& cmd) {
  auto o = std::make_shared<UpdateOptions>();
  UpdateFlags& f = o->flags;
  cmd.add_option("-r,--resources", o->resources,
                 "path to the file containing the resources to update or '-' for stdin");
  cmd.add_option("--blkio-weight", f.blkio_weight, "per cgroup weight, 10 to 1000");
  cmd.add_option("--cpu-period", f.cpu_period, "CPU CFS period (usecs)");
  cmd.add_option("--cpu-quota", f.cpu_quota, "CPU CFS hardcap limit (usecs)");
  cmd.add_option("--cpu-share", f.cpu_share, "CPU shares");
  cmd.add_option("--cpu-rt-period", f.cpu_rt_period, "CPU realtime period (usecs)");
  cmd.add_option("--cpu-rt-runtime", f.cpu_rt_runtime, "CPU realtime hardcap limit (usecs)");
  cmd.add_option("--cpuset-cpus", f.cpuset_cpus, "CPU(s) to use");
  cmd.add_option("--cpuset-mems", f.cpuset_mems, "memory node(s) to use");
  cmd.add_option("--memory", f.memory, "memory limit (in bytes)");
  cmd.add_option("--memory-reservation", f.memory_reservation, "memory soft limit (in bytes)");
  cmd.add_option("--memory-swap", f.memory_swap, "total memory usage (memory + swap)");
  cmd.add_option("--pids-limit", f.pids_limit, "maximum number of pids");
  cmd.add_option("--l3-cache-schema", f.l3_cache_schema, "Intel RDT/CAT L3 cache schema");
  cmd.add_option("--mem-bw-schema", f.mem_bw_schema, "Intel RDT/MBA memory bandwidth schema");
  cmd.add_option("container-id", o->id, "container id")->required();
  return [o](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("update", o->id);
    auto state = load_container(ctx, o->id);
    if (!state) return state.error().wrap(where);
    oci::Resources base;
    if (!o->resources.empty()) {
      auto doc = read_resources(o->resources);
      if (!doc) return doc.error().wrap(where);
      base = std::move(*doc);
    }
    auto resources = apply_update_flags(std::move(base), o->flags);
    if (!resources) return resources.error().wrap(where);
    auto violations = oci::validate_resources(*resources);
    if (!violations.empty())
      return Error(violations.front().path + ": " + violations.front().reason, EINVAL).wrap(where);
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error(std::string(kNotRunningMessage), ESRCH).wrap(where);
    }
    // The limits apply to the container's cgroup in the guest; the microVM keeps its size
    // (no memory or vCPU hotplug yet).
    if (auto ok = vm::update_container(*state, oci::to_json(*resources)); !ok)
      return ok.error().wrap(where);
    return 0;
  };
}

}  // namespace runvm::runtime
