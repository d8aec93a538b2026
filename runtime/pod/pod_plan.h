// A container's place in a pod, kept in its vm.json plan: a sandbox serves the pod
// shares; a member records where it was placed in its sandbox's VM, so delete can undo it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "runtime/pod/pod_role.h"

namespace runvm::runtime::pod {

// The two pod shares every sandbox VM serves: members' root filesystems (the rootfs
// share policy: set-uid files and file capabilities kept) and their bind mounts (the
// volume policy), each member in a directory of its own.
inline constexpr const char* kPodRootfsTag = "runvm-pod";
inline constexpr const char* kPodVolumesTag = "runvm-podvol";

// The shares' host directories in the sandbox's state directory.
inline std::string pod_rootfs_dir(const std::string& sandbox_dir) {
  return sandbox_dir + "/pod/rootfs";
}
inline std::string pod_volumes_dir(const std::string& sandbox_dir) {
  return sandbox_dir + "/pod/volumes";
}

struct PodPlan {
  PodRole role = PodRole::kStandalone;
  // kMember:
  std::string sandbox_id;
  std::string sandbox_dir;   // the sandbox's state directory
  std::string name;          // its directory in both pod shares: <id>-<random>
  std::string guest_rootfs;  // its rootfs as the guest sees it
  pid_t vmm_pid = 0;         // the pod's runvm-vmm (host pid) and its start time
  uint64_t vmm_start_time = 0;
  std::vector<std::string> injected;  // mounts placed in the VMM's mount namespace

  bool member() const { return role == PodRole::kMember; }
  nlohmann::json to_json() const;
  [[nodiscard]] static Result<PodPlan> from_json(const nlohmann::json& j);
};

}  // namespace runvm::runtime::pod
