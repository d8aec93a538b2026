// The namespaces the supervisor lives in on the host. Its pid is what `state`,
// --pid-file and the hooks report, and tools act on /proc/<pid>/ns/* (Docker's
// libnetwork-setkey prestart hook configures /proc/<pid>/ns/net, CNI does the
// same). So before any hook runs the supervisor joins or creates the container's
// namespaces: network (the config's `path`, else a fresh one with lo up), and
// fresh uts (with the config's hostname), ipc, cgroup and mount namespaces for
// entries without a path. Nothing that enters them can then touch the host's.
// No network entry means the container shares the runtime's network (runc's
// host networking): the supervisor stays there and the VM gets no NIC.
// A pid entry makes the supervisor pid 1 of a new pid namespace (new_pid; done
// by launch_vm when it forks the supervisor, the others by the supervisor
// itself). Not done: user and time, which stay the guest's.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::runtime::vm {

struct HostNamespaces {
  std::string net_path;   // join this network namespace
  bool new_net = false;   // else unshare a network namespace and bring lo up
  int unshare_flags = 0;  // CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWNS
  std::string hostname;   // set in the new uts namespace when not empty
  // The network namespace `runvm create` ran in (the runtime's own): the VM's NIC is
  // never attached there, whatever the config's path says (0: unknown).
  uint64_t runtime_net_ino = 0;
  bool new_pid = false;  // the supervisor is forked as pid 1 of a new pid namespace

  // True when the container has a network namespace of its own to wire a NIC into.
  bool wants_nic() const { return new_net || !net_path.empty(); }

  [[nodiscard]] nlohmann::json to_json() const;
  [[nodiscard]] static Result<HostNamespaces> from_json(const nlohmann::json& j);
};

// What `spec`'s linux.namespaces ask of the host side (see above).
// `pod_member`: a pod's app container (runtime/pod), whose ipc/uts paths are its sandbox's.
[[nodiscard]] HostNamespaces plan_host_namespaces(const oci::Spec& spec, bool pod_member = false);

// Every namespace entry with a path must name a namespace of its type, as runc
// checks: "linux.namespaces[2] (ipc): /proc/1/ns/net is a namespace of type network, not ipc".
// A pod member may name its sandbox's ipc and uts namespaces (shared in the pod VM), not the
// host's; a pid path is refused naming shareProcessNamespace.
[[nodiscard]] Status check_namespace_paths(const oci::Spec& spec, bool pod_member = false);

// The pid, ipc and uts entries must be there: leaving one out asks runc to share
// the host's namespace (Docker --pid=host, --ipc=host, --uts=host), which a
// container in its own guest kernel cannot do. The error names the entry and the
// Docker flag. (A missing cgroup, user or time entry means the guest's, which is
// what the host's gives a runc container in practice; docs/status.md.)
[[nodiscard]] Status check_required_namespaces(const oci::Spec& spec);

// The inode of the caller's network namespace (/proc/self/ns/net).
[[nodiscard]] Result<uint64_t> current_net_ino();

// Moves the calling process (single-threaded) into the namespaces of `ns`.
[[nodiscard]] Status enter_host_namespaces(const HostNamespaces& ns);

}  // namespace runvm::runtime::vm
