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
// Bookkeeping beside the shares (not served to the guest): which members use each placed
// host directory or file (refs/<key>/<member>), each member's rootfs (rootfs-ids/<dev>-<ino>),
// and the lock that serialises joining and leaving.
inline std::string pod_refs_dir(const std::string& sandbox_dir) {
  return sandbox_dir + "/pod/refs";
}
inline std::string pod_rootfs_ids_dir(const std::string& sandbox_dir) {
  return sandbox_dir + "/pod/rootfs-ids";
}
inline std::string pod_lock(const std::string& sandbox_dir) {
  return sandbox_dir + "/pod/lock";
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
  std::vector<std::string> injected;  // its rootfs mount placed in the VMM's mount namespace
  // Host directories and files it binds, each placed once per pod at
  // <volumes share>/<key> and shared by the members that bind it.
  std::vector<std::string> volume_keys;
  std::string rootfs_id;  // <dev>-<ino> of its rootfs (no two members may share one)

  bool member() const { return role == PodRole::kMember; }
  nlohmann::json to_json() const;
  [[nodiscard]] static Result<PodPlan> from_json(const nlohmann::json& j);
};

}  // namespace runvm::runtime::pod
