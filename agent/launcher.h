// How the agent turns a ProcessSpec into a running process. The agent owns
// fork, stdio, the hold until Start and the final execve; a Launcher supplies
// the container specifics around them. guest-init's launcher applies the OCI
// config (rootfs, mounts, user, capabilities, seccomp, ...); HostLauncher only
// what makes sense for a plain process on the host (used by unit tests).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent/protocol.h"
#include "agent/pty.h"
#include "agent/stats.h"
#include "base/result.h"

namespace runvm::agent {

// The pid namespace a process is forked into: the agent's own (default), a new
// one whose pid 1 it is (a container's init), or that of a running process (an
// exec joining its container's init).
struct PidNamespace {
  bool create = false;
  int join_pid = 0;
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // In the agent, once, on Create, before the init process is forked.
  [[nodiscard]] virtual Status prepare(const std::string& container_id,
                                       const nlohmann::json& config) = 0;
  // In the forked child, stdio already on fds 0..2, before the hold. `init_pid`
  // is the container's init process for an exec (to join its namespaces), 0 for init.
  [[nodiscard]] virtual Status setup_child(const ProcessSpec& p, int init_pid) = 0;
  // In the forked child right before execve (after Start for init): the steps
  // that must come last, such as loading the seccomp filter.
  [[nodiscard]] virtual Status finish_child(const ProcessSpec& p) = 0;
  // In the agent, after create: the container's cgroup statistics, and new
  // linux.resources limits (an OCI object, still to be validated). A launcher without
  // a cgroup of its own answers ENOTSUP.
  // The devpts instance a terminal process gets its pty from (agent/pty.h); empty
  // means the agent's own /dev/ptmx. `init_pid` as in setup_child.
  virtual PtmxLocation ptmx_location(int /*init_pid*/) { return {}; }
  // In the agent, before the fork. `init_pid` as in setup_child.
  virtual PidNamespace pid_namespace(int /*init_pid*/) { return {}; }
  [[nodiscard]] virtual Result<ContainerStats> stats() {
    return Error("container statistics are not available here", ENOTSUP);
  }
  [[nodiscard]] virtual Status update(const nlohmann::json& /*resources*/) {
    return Error("updating resources is not available here", ENOTSUP);
  }
  // In the agent, when a pod member is destroyed (its processes are gone): undo what
  // prepare() made (mounts, cgroup).
  [[nodiscard]] virtual Status release() { return {}; }
  // In the agent, after create and before start: the container's network.
  [[nodiscard]] virtual Status configure_network(const NetworkConfig& /*network*/) {
    return Error("network configuration is not available here", ENOTSUP);
  }
};

// Plain processes: umask, additional gids/gid/uid (only when they differ from
// the agent's own, so unprivileged test runs work), cwd.
class HostLauncher : public Launcher {
 public:
  [[nodiscard]] Status prepare(const std::string&, const nlohmann::json&) override { return {}; }
  [[nodiscard]] Status setup_child(const ProcessSpec& p, int init_pid) override;
  [[nodiscard]] Status finish_child(const ProcessSpec&) override { return {}; }
};

}  // namespace runvm::agent
