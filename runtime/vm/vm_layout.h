// Files of one container's microVM inside its state directory, and the plan
// (vm.json) create hands to the supervisor.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "runtime/pod/pod_plan.h"
#include "runtime/vm/host_cgroup.h"
#include "runtime/vm/host_namespaces.h"
#include "runtime/vm/vm_settings.h"

namespace runvm::runtime::vm {

class VmLayout {
 public:
  explicit VmLayout(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  std::string plan() const { return dir_ + "/vm.json"; }
  std::string control_socket() const { return dir_ + "/ctl.sock"; }
  // What the VMM itself writes, in a directory of their own: the VMM's root
  // (vmm/jail/mount_jail.h) holds this directory, not ctl.sock or vm.json.
  std::string vm_dir() const { return dir_ + "/vm"; }
  std::string vsock_socket() const { return vm_dir() + "/vsock.sock"; }
  std::string console_log() const { return vm_dir() + "/console.log"; }
  std::string vmm_log() const { return dir_ + "/vmm.log"; }
  std::string start_trace() const { return dir_ + "/start-trace.json"; }  // start_trace.h
  // Placeholders the bind-mounted files are bound onto (volumes.h).
  std::string files_dir() const { return dir_ + "/files"; }
  // The ifindex of the link the guest NIC is attached to (net_cleanup.h).
  std::string net_attached() const { return dir_ + "/net-attached"; }
  // A pod member's config.json with its mounts turned into guest paths (runtime/pod).
  std::string pod_config() const { return dir_ + "/pod-config.json"; }

 private:
  std::string dir_;
};

struct VmPlan {
  std::string id;
  std::string config_path;  // the bundle's config.json, sent to the agent
  std::string rootfs;       // shared as virtio-fs agent::kRootfsTag
  bool rootfs_readonly = false;
  VmSettings settings;
  HostNamespaces namespaces;         // the supervisor's, entered before any hook runs
  HostCgroup cgroup;                 // linux.cgroupsPath on the host; the supervisor joins it first
  std::optional<int> oom_score_adj;  // process.oomScoreAdj, set by the supervisor for the VMM
  pod::PodPlan pod;                  // a pod's sandbox or member (runtime/pod/README.md)
};

[[nodiscard]] Status write_plan(const VmLayout& layout, const VmPlan& plan);
[[nodiscard]] Result<VmPlan> read_plan(const VmLayout& layout);

// Removes the host cgroup the plan names (none: nothing to do). Every path that
// removes a started container's state calls it first: afterwards nothing knows it.
[[nodiscard]] Status remove_host_cgroup_of(const VmLayout& layout);

}  // namespace runvm::runtime::vm
