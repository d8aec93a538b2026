// The guest's agent::Launcher: applies the OCI config of the container inside
// the VM. prepare() builds the container's filesystem and guest-wide settings
// once; each process then enters the rootfs (init) or joins init's (exec) and
// applies its process settings in runc's order:
//   rlimits, oom_score_adj, ioPriority, scheduler, no_new_privs, seccomp (when no_new_privs is off:
//   it needs CAP_SYS_ADMIN), bounding set, user/groups/umask, cwd, capabilities, [hold until
//   start], seccomp (when no_new_privs is on: as late as possible), execve.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "agent/launcher.h"
#include "guest-init/cgroups.h"
#include "oci/spec.h"

namespace runvm::guest {

// Applies an OCI process's settings to the calling process (the forked child).
// `seccomp` is applied before the hold only when noNewPrivileges is off.
// `enter_user_ns`, when given, runs after the settings that need the agent's
// privileges (rlimits, oom_score_adj, I/O priority, scheduler) and before the
// identity, capabilities and seccomp, which belong to the new user namespace.
[[nodiscard]] Status apply_process(const oci::Process& p, const oci::Seccomp* seccomp,
                                   const std::function<Status()>& enter_user_ns = {});
// The part after the hold: seccomp when noNewPrivileges is on.
[[nodiscard]] Status finish_process(const oci::Process& p, const oci::Seccomp* seccomp);

// The cgroup of a pod VM's further container (the first one has kContainerCgroup).
std::string member_cgroup(const std::string& container_id);

class GuestLauncher : public agent::Launcher {
 public:
  // `rootfs`: where the container's root filesystem is mounted in the guest.
  // `cgroup_dir`: the cgroup v2 directory for linux.resources (created on prepare).
  explicit GuestLauncher(std::string rootfs, std::string cgroup_dir = kContainerCgroup)
      : rootfs_(std::move(rootfs)), cgroup_dir_(std::move(cgroup_dir)) {}

  [[nodiscard]] Status prepare(const std::string& container_id,
                               const nlohmann::json& config) override;
  [[nodiscard]] Status setup_child(const agent::ProcessSpec& p, int init_pid) override;
  [[nodiscard]] Status finish_child(const agent::ProcessSpec& p) override;
  // The container's own devpts (mounted by prepare), so ttyname() works inside.
  agent::PtmxLocation ptmx_location(int init_pid) override;
  // A `pid` entry in linux.namespaces: init is pid 1 of a new pid namespace, as
  // under runc, and execs join it.
  agent::PidNamespace pid_namespace(int init_pid) override;
  [[nodiscard]] Result<agent::ContainerStats> stats() override;
  [[nodiscard]] Status update(const nlohmann::json& resources) override;
  [[nodiscard]] Status configure_network(const agent::NetworkConfig& network) override;
  // A pod member's end: its mounts below the rootfs and its cgroup go.
  [[nodiscard]] Status release() override;

 private:
  [[nodiscard]] Result<oci::Process> process_of(const agent::ProcessSpec& p) const;
  const oci::Seccomp* seccomp() const;

  std::string rootfs_;
  std::string cgroup_dir_;
  bool use_cgroup_ = false;
  bool new_pid_ns_ = false;
  bool new_user_ns_ = false;
  std::optional<oci::Spec> spec_;
};

}  // namespace runvm::guest
