// The container's user namespace (linux.namespaces "user" with uidMappings and
// gidMappings), as runc makes it: init enters a new one whose maps are written
// from the parent namespace, so the configured ids hold (uid_map "0 1000 2000"),
// and what the container creates on a share reaches the host with the mapped
// ids (the filesystem servers create files as the caller's guest uid/gid).
// It comes after the mounts and proc (made by the agent's privileged namespace)
// and before the process's identity, capabilities and seccomp filter.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::guest {

// uid_map/gid_map text: one "containerID hostID size" line per mapping.
[[nodiscard]] std::string format_id_map(const std::vector<oci::IdMapping>& maps);

// Two steps around the mounts, for the container's init: prepare() forks the
// helper that will write the maps (still in the agent's mount namespace, where
// /proc shows every guest pid); enter() unshares the user namespace, lets the
// helper write uid_map and gid_map, and waits for it.
class UserNamespaceEntry {
 public:
  UserNamespaceEntry(std::vector<oci::IdMapping> uids, std::vector<oci::IdMapping> gids)
      : uids_(std::move(uids)), gids_(std::move(gids)) {}
  ~UserNamespaceEntry();
  UserNamespaceEntry(const UserNamespaceEntry&) = delete;
  UserNamespaceEntry& operator=(const UserNamespaceEntry&) = delete;

  [[nodiscard]] Status prepare();
  [[nodiscard]] Status enter();

 private:
  std::vector<oci::IdMapping> uids_, gids_;
  int go_fd_ = -1;  // write end: one byte once we are in the new namespace
  int helper_ = -1;
};

// An exec: joins the user namespace of the container's init (`ns_fd` opened from
// /proc/<init>/ns/user before the exec entered the container's root).
[[nodiscard]] Status join_user_namespace(int ns_fd);

}  // namespace runvm::guest
