// runvm update [-r resources.json | --memory N ...] <id>: change resource limits.
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "oci/parse.h"
#include "oci/state.h"
#include "runtime/commands/common.h"
#include "runtime/commands/verbs.h"

namespace runvm::runtime {

namespace {
struct UpdateOptions {
  std::string id;
  std::string resources;  // file, or "-" for stdin
  std::string blkio_weight, cpu_period, cpu_quota, cpu_share, cpu_rt_period, cpu_rt_runtime;
  std::string cpuset_cpus, cpuset_mems, memory, memory_reservation, memory_swap, pids_limit;
  std::string l3_cache_schema, mem_bw_schema;
};

// The -r document must be a valid resources object before it reaches the guest.
Status check_resources(const std::string& source) {
  std::string text;
  if (source == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto file = oci::read_file(source);
    if (!file) return file.error();
    text = std::move(*file);
  }
  auto resources = oci::parse_resources(text);
  if (!resources) return resources.error().wrap(source == "-" ? "stdin" : source);
  return {};
}
}  // namespace

Action setup_update(CLI::App& cmd) {
  auto o = std::make_shared<UpdateOptions>();
  cmd.add_option("-r,--resources", o->resources,
                 "path to the file containing the resources to update or '-' for stdin");
  cmd.add_option("--blkio-weight", o->blkio_weight, "per cgroup weight, 10 to 1000");
  cmd.add_option("--cpu-period", o->cpu_period, "CPU CFS period (usecs)");
  cmd.add_option("--cpu-quota", o->cpu_quota, "CPU CFS hardcap limit (usecs)");
  cmd.add_option("--cpu-share", o->cpu_share, "CPU shares");
  cmd.add_option("--cpu-rt-period", o->cpu_rt_period, "CPU realtime period (usecs)");
  cmd.add_option("--cpu-rt-runtime", o->cpu_rt_runtime, "CPU realtime hardcap limit (usecs)");
  cmd.add_option("--cpuset-cpus", o->cpuset_cpus, "CPU(s) to use");
  cmd.add_option("--cpuset-mems", o->cpuset_mems, "memory node(s) to use");
  cmd.add_option("--memory", o->memory, "memory limit (in bytes)");
  cmd.add_option("--memory-reservation", o->memory_reservation, "memory soft limit (in bytes)");
  cmd.add_option("--memory-swap", o->memory_swap, "total memory usage (memory + swap)");
  cmd.add_option("--pids-limit", o->pids_limit, "maximum number of pids");
  cmd.add_option("--l3-cache-schema", o->l3_cache_schema, "Intel RDT/CAT L3 cache schema");
  cmd.add_option("--mem-bw-schema", o->mem_bw_schema, "Intel RDT/MBA memory bandwidth schema");
  cmd.add_option("container-id", o->id, "container id")->required();
  return [o](CommandContext& ctx) -> Result<int> {
    const std::string where = command_context("update", o->id);
    auto state = load_container(ctx, o->id);
    if (!state) return state.error().wrap(where);
    if (!o->resources.empty()) {
      if (auto ok = check_resources(o->resources); !ok) return ok.error().wrap(where);
    }
    if (state->status == oci::ContainerStatus::kStopped) {
      return Error(std::string(kNotRunningMessage), ESRCH).wrap(where);
    }
    return not_implemented("updating the microVM's resources").wrap(where);
  };
}

}  // namespace runvm::runtime
