// The host cgroup at linux.cgroupsPath (issue 17 item 5, issue 10's host limits).
// runc puts the container there; runvm puts the supervisor and with it the VMM
// (vCPU threads, device threads), so the guest can take no more of the host
// than the container was given. Kata's sandbox cgroup is the model.
//
// What is written there (cgroup v2; the limits inside the guest stay as they are):
//   cpu.max, cpu.weight, cpuset.cpus/mems  the config's, bounding the vCPU threads
//   memory.max   the VM's memory (already sized to the container's limit plus
//                the guest's own room, vm_sizing.h) + kVmmOverheadMib, when the
//                config has a memory limit
//   pids.max     kVmmPidsBase + vCPUs + 4 per filesystem device, when the config
//                has a pids limit (that limit itself counts guest processes)
// The directory: cgroupsPath "/a/b" or "a/b" is <root>/a/b (runc's cgroupfs
// driver); with --systemd-cgroup, "slice:prefix:name" is
// <root>/<slice path>/<prefix>-<name>.scope, the slice expanded as systemd
// does ("a-b.slice" -> a.slice/a-b.slice). No D-Bus: the directory is made
// directly, which is what systemd would make for the scope.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::runtime::vm {

inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
inline constexpr uint64_t kVmmOverheadMib = 192;
inline constexpr int64_t kVmmPidsBase = 64;

struct HostCgroup {
  std::string dir;  // absolute; empty: no host cgroup
  oci::Resources resources;
  unsigned fs_devices = 0;  // for the pids limit when `update` adds one

  [[nodiscard]] nlohmann::json to_json() const;
  [[nodiscard]] static Result<HostCgroup> from_json(const nlohmann::json& j);
};

// The directory for `cgroups_path` under `root`. Errors name the path:
// "linux.cgroupsPath \"x:y\": expected slice:prefix:name with --systemd-cgroup".
[[nodiscard]] Result<std::string> host_cgroup_dir(const std::string& cgroups_path, bool systemd,
                                                  const std::string& root = kCgroupRoot);

// The host-side limits for a VM of `vm_memory_mib` and `vcpus` with `fs_devices`
// filesystem devices running a container with `config` (may be null).
[[nodiscard]] oci::Resources host_cgroup_resources(const oci::Resources* config,
                                                   uint64_t vm_memory_mib, unsigned vcpus,
                                                   unsigned fs_devices);

// Creates the directory (and its parents), enables the controllers the limits
// need in every ancestor below the cgroup root, writes the limits and moves the
// calling process in. A process that is already there is fine.
[[nodiscard]] Status enter_host_cgroup(const HostCgroup& cg, const std::string& root = kCgroupRoot);

// New limits (runvm update): the same conversion, written to the existing directory.
[[nodiscard]] Status update_host_cgroup(const HostCgroup& cg);

// Removes the directory once its processes are gone (waits up to `wait_ms`).
// Parents are left: other containers may share them, as with runc.
[[nodiscard]] Status remove_host_cgroup(const std::string& dir, int wait_ms = 2000);

}  // namespace runvm::runtime::vm
