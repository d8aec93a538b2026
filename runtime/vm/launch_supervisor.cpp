#include "runtime/vm/launch_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/new_pid_namespace.h"
#include "oci/cgroup2.h"
#include "runtime/pod/pod_member.h"
#include "runtime/pod/pod_role.h"
#include "runtime/pod/pod_sizing.h"
#include "runtime/process_liveness.h"
#include "runtime/vm/console_socket.h"
#include "runtime/vm/host_cgroup.h"
#include "runtime/vm/supervisor.h"
#include "runtime/vm/vm_layout.h"
#include "runtime/vm/vm_settings.h"
#include "runtime/vm/vm_sizing.h"

namespace runvm::runtime::vm {

namespace {

// join_pod() with the member's rewritten config.json written for its supervisor.
Result<pod::PodPlan> join_pod_vm(const LaunchRequest& req, const Bundle& bundle,
                                 const std::string& sandbox_id, const VmLayout& layout) {
  std::ifstream in(bundle.config_path);
  nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
  if (config.is_discarded()) return Error(bundle.config_path + ": not valid JSON", EINVAL);
  const std::string root = req.container_dir.substr(0, req.container_dir.rfind('/'));
  auto plan = pod::join_pod({root, req.id, sandbox_id}, bundle, config);
  if (!plan) return plan.error();
  if (auto ok = write_file_atomic(layout.pod_config(), config.dump() + "\n", 0600); !ok) {
    (void)pod::leave_pod(*plan, req.id);
    return ok.error();
  }
  return plan;
}

// Takes a member out of its pod VM again unless the create got through.
struct PodUndo {
  pod::PodPlan plan;
  std::string id;
  bool keep = false;
  PodUndo(pod::PodPlan p, std::string i) : plan(std::move(p)), id(std::move(i)) {}
  ~PodUndo() {
    if (!keep) (void)pod::leave_pod(plan, id);
  }
};

// Reads the supervisor's one status line (until EOF).
std::string read_ready(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.find('\n') != std::string::npos) break;
  }
  if (auto nl = out.find('\n'); nl != std::string::npos) out.resize(nl);
  return out;
}

// The host cgroup from linux.cgroupsPath, on a cgroup v2 host (elsewhere none: the
// limits then hold in the guest only, and create's --debug says so).
Result<HostCgroup> plan_host_cgroup(const LaunchRequest& req, const oci::Spec& spec,
                                    const VmSettings& settings) {
  HostCgroup cg;
  if (!spec.linux || !spec.linux->cgroupsPath || spec.linux->cgroupsPath->empty() ||
      !oci::is_cgroup2(kCgroupRoot))
    return cg;
  auto dir = host_cgroup_dir(*spec.linux->cgroupsPath, req.systemd_cgroup);
  if (!dir) return dir.error();
  cg.dir = *dir;
  unsigned fs_devices = 3;  // the rootfs and the two file shares, at most
  if (spec.mounts)
    for (const auto& m : *spec.mounts) {
      const auto& o = m.options;
      bool bind = m.type.value_or("") == "bind" ||
                  (o && std::any_of(o->begin(), o->end(), [](const std::string& x) {
                     return x == "bind" || x == "rbind";
                   }));
      fs_devices += bind ? 1 : 0;  // at most one share each
    }
  cg.fs_devices = fs_devices;
  cg.resources = host_cgroup_resources(spec.linux->resources ? &*spec.linux->resources : nullptr,
                                       settings.memory_mib, settings.vcpus, fs_devices);
  return cg;
}

}  // namespace

Status launch_vm(const LaunchRequest& req, const Bundle& bundle, oci::State& state) {
  auto membership = pod::pod_membership(state.annotations);
  if (!membership) return membership.error();
  const bool member = membership->role == pod::PodRole::kMember;
  if (auto ok = check_namespace_paths(bundle.spec, member); !ok) return ok.error();
  if (auto ok = check_required_namespaces(bundle.spec); !ok) return ok.error();
  auto settings = resolve_vm_settings(state.annotations, system_config_path());
  if (!settings) return settings.error();
  size_vm_from_resources(*settings, bundle.spec, state.annotations);
  if (membership->role == pod::PodRole::kSandbox)
    if (auto ok = pod::size_pod_vm(*settings, state.annotations); !ok) return ok.error();
  VmLayout layout(req.container_dir);
  VmPlan plan;
  plan.id = req.id;
  plan.config_path = bundle.config_path;
  plan.pod.role = membership->role;
  // A member places itself in its sandbox's VM now; from here on a failure undoes that.
  std::optional<PodUndo> undo;
  if (membership->role == pod::PodRole::kMember) {
    auto joined = join_pod_vm(req, bundle, membership->sandbox_id, layout);
    if (!joined) return joined.error();
    plan.pod = std::move(*joined);
    plan.config_path = layout.pod_config();
    undo.emplace(plan.pod, req.id);
  }
  plan.rootfs = bundle.rootfs;
  plan.rootfs_readonly = bundle.spec.root && bundle.spec.root->readonly.value_or(false);
  plan.settings = *settings;
  if (bundle.spec.process && bundle.spec.process->oomScoreAdj)
    plan.oom_score_adj = *bundle.spec.process->oomScoreAdj;
  plan.namespaces = plan_host_namespaces(bundle.spec, member);
  if (auto ino = current_net_ino(); ino) plan.namespaces.runtime_net_ino = *ino;
  if (auto cg = plan_host_cgroup(req, bundle.spec, *settings); !cg)
    return cg.error();
  else
    plan.cgroup = std::move(*cg);
  if (auto ok = write_plan(layout, plan); !ok) return ok.error();

  // terminal=true with --console-socket: the caller gets a pty master and the
  // supervisor relays the slave to the guest's pty (its stdio become the slave).
  int slave = -1;
  if (!req.console_socket.empty()) {
    auto s = send_pty_master(req.console_socket);
    if (!s) return s.error().wrap("console socket");
    slave = *s;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    Error e = Error::from_errno("pipe");
    if (slave >= 0) ::close(slave);
    return e;
  }
  std::string fd_arg = std::to_string(p[1]);
  std::string dir = req.container_dir;
  // With a pid entry the supervisor is pid 1 of a new pid namespace, so nothing that enters
  // /proc/<state.pid>/ns/pid reaches the host's; the runtime's own namespace, that of
  // later children (hooks), stays.
  pid_t pid = plan.namespaces.new_pid ? fork_in_new_pid_namespace() : ::fork();
  if (pid < 0) {
    Error e = Error::from_errno("fork the supervisor");
    ::close(p[0]);
    ::close(p[1]);
    if (slave >= 0) ::close(slave);
    return e;
  }
  if (pid == 0) {
    ::setsid();
    if (slave >= 0) {
      ::dup2(slave, 0);
      ::dup2(slave, 1);
      ::dup2(slave, 2);
    }
    ::fcntl(p[1], F_SETFD, 0);
    char* argv[] = {const_cast<char*>("runvm"), const_cast<char*>(kSuperviseCommand), dir.data(),
                    fd_arg.data(), nullptr};
    ::execv("/proc/self/exe", argv);
    std::fprintf(stderr, "runvm: exec supervisor: %s\n", std::strerror(errno));
    ::_exit(127);
  }
  ::close(p[1]);
  if (slave >= 0) ::close(slave);
  std::string line = read_ready(p[0]);
  ::close(p[0]);
  if (line != "OK") {
    ::kill(pid, SIGKILL);
    int ws = 0;
    ::waitpid(pid, &ws, 0);
    (void)remove_host_cgroup(plan.cgroup.dir);  // the supervisor may have made it
    if (line.rfind("ERR ", 0) == 0) return Error(line.substr(4), EIO);
    return Error("the container's supervisor exited before the container was created", EIO);
  }
  state.pid = pid;
  if (auto t = process_start_time(pid)) state.runvm.pid_start_time = *t;
  state.runvm.control_socket = layout.control_socket();
  state.runvm.vsock_socket = layout.vsock_socket();
  if (plan.pod.member()) {
    // exec reaches the container through its pod VM's agent.
    state.runvm.vsock_socket = VmLayout(plan.pod.sandbox_dir).vsock_socket();
    state.runvm.agent_container = req.id;
  }
  if (!req.pid_file.empty()) {
    if (auto ok = write_file_atomic(req.pid_file, std::to_string(pid), 0644); !ok) {
      ::kill(pid, SIGKILL);
      int ws = 0;
      ::waitpid(pid, &ws, 0);
      (void)remove_host_cgroup(plan.cgroup.dir);
      return ok.error().wrap("pid file");
    }
  }
  if (undo) undo->keep = true;
  return {};
}

}  // namespace runvm::runtime::vm
