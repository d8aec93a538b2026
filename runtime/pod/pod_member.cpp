#include "runtime/pod/pod_member.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "agent/guest_contract.h"
#include "agent/host_client.h"
#include "base/unique_fd.h"
#include "runtime/pod/mount_injection.h"
#include "runtime/process_liveness.h"
#include "runtime/state_dir.h"
#include "runtime/vm/mountpoints.h"
#include "runtime/vm/vm_layout.h"
#include "runtime/vm/volumes.h"
#include "runtime/vm/vsock_connect.h"

namespace runvm::runtime::pod {

namespace {

std::string guest_share_path(const char* tag, const std::string& rest) {
  return std::string(agent::kGuestSharesDir) + "/" + tag + "/" + rest;
}

// A fresh name per member, so that no guest dentry of an earlier container with the same
// id can point into this one.
std::string member_name(const std::string& id) {
  std::random_device rd;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  return id + "-" + suffix;
}

Result<std::string> resolved(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return Error::from_errno("resolve " + path);
  return std::string(buf);
}

// The memory limit of the container, in MiB (0: none).
uint64_t memory_limit_mib(const oci::Spec& spec) {
  if (!spec.linux || !spec.linux->resources || !spec.linux->resources->memory) return 0;
  auto limit = spec.linux->resources->memory->limit;
  if (!limit || *limit <= 0) return 0;
  return (static_cast<uint64_t>(*limit) + (1 << 20) - 1) >> 20;
}

// Everything placed so far, undone in reverse order.
struct Placement {
  PodPlan& plan;
  std::vector<std::string> made;  // host paths created, removed last
  bool done = false;
  ~Placement() {
    if (done) return;
    for (auto it = plan.injected.rbegin(); it != plan.injected.rend(); ++it)
      (void)remove_injected_mount(plan.vmm_pid, *it);
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::remove(it->c_str());
  }
};

}  // namespace

pid_t find_pod_vmm(pid_t supervisor) {
  const std::string base =
      "/proc/" + std::to_string(supervisor) + "/task/" + std::to_string(supervisor) + "/children";
  std::ifstream in(base);
  for (pid_t child; in >> child;) {
    std::ifstream comm("/proc/" + std::to_string(child) + "/comm");
    std::string name;
    if (std::getline(comm, name) && name == "runvm-vmm") return child;
  }
  return 0;
}

Result<PodPlan> join_pod(const JoinRequest& req, const Bundle& bundle, nlohmann::json& config) {
  const std::string what = "pod sandbox " + req.sandbox_id;
  StateDir dir(req.root);
  auto sandbox = dir.load(req.sandbox_id);
  if (!sandbox) return sandbox.error().wrap(what);
  if (sandbox->status != oci::ContainerStatus::kCreated &&
      sandbox->status != oci::ContainerStatus::kRunning)
    return Error(what + " is " + std::string(oci::to_string(sandbox->status)) +
                     ": its VM must run for a container to join it",
                 ESRCH);
  PodPlan plan;
  plan.role = PodRole::kMember;
  plan.sandbox_id = req.sandbox_id;
  plan.sandbox_dir = dir.container_dir(req.sandbox_id);
  auto sandbox_plan = vm::read_plan(vm::VmLayout(plan.sandbox_dir));
  if (!sandbox_plan) return sandbox_plan.error().wrap(what);
  if (sandbox_plan->pod.role != PodRole::kSandbox)
    return Error(what + " was not created as a pod sandbox (annotation " +
                     std::string(kCriContainerType) + "=sandbox)",
                 EINVAL);
  if (uint64_t need = memory_limit_mib(bundle.spec);
      need > 0 && need > sandbox_plan->settings.memory_mib)
    return Error("linux.resources.memory.limit: " + std::to_string(need) +
                     " MiB does not fit in the pod's VM (" +
                     std::to_string(sandbox_plan->settings.memory_mib) +
                     " MiB; size it with io.kubernetes.cri.sandbox-memory or memory_mib)",
                 EINVAL);
  plan.vmm_pid = find_pod_vmm(sandbox->pid);
  if (plan.vmm_pid <= 0) return Error(what + ": its runvm-vmm is not running", ESRCH);
  if (auto t = process_start_time(plan.vmm_pid)) plan.vmm_start_time = *t;
  plan.name = member_name(req.id);
  plan.guest_rootfs = guest_share_path(kPodRootfsTag, plan.name);

  auto rootfs_share = resolved(pod_rootfs_dir(plan.sandbox_dir));
  if (!rootfs_share) return rootfs_share.error().wrap(what);
  auto volume_share = resolved(pod_volumes_dir(plan.sandbox_dir));
  if (!volume_share) return volume_share.error().wrap(what);

  Placement placed{plan, {}};
  // Mountpoints the guest cannot make in a read-only rootfs, and the bind mounts' sources.
  std::set<std::string> file_destinations;
  std::vector<std::pair<size_t, vm::BindSource>> binds;
  if (config.contains("mounts") && config["mounts"].is_array()) {
    auto& mounts = config["mounts"];
    for (size_t i = 0; i < mounts.size(); ++i) {
      if (!vm::is_bind_mount(mounts[i])) continue;
      auto b = vm::resolve_bind_source(mounts[i], i, bundle.path);
      if (!b) return b.error();
      if (!b->directory) file_destinations.insert(mounts[i].value("destination", ""));
      binds.emplace_back(i, std::move(*b));
    }
  }
  vm::make_mountpoints(bundle.rootfs, config, file_destinations);

  const std::string rootfs_target = *rootfs_share + "/" + plan.name;
  if (::mkdir(rootfs_target.c_str(), 0755) != 0) return Error::from_errno("mkdir " + rootfs_target);
  placed.made.push_back(rootfs_target);
  const bool rootfs_ro = bundle.spec.root && bundle.spec.root->readonly.value_or(false);
  if (auto ok = inject_mount(plan.vmm_pid, bundle.rootfs, rootfs_target, rootfs_ro); !ok)
    return ok.error();
  plan.injected.push_back(rootfs_target);

  const std::string volumes = *volume_share + "/" + plan.name;
  if (!binds.empty()) {
    if (::mkdir(volumes.c_str(), 0755) != 0) return Error::from_errno("mkdir " + volumes);
    placed.made.push_back(volumes);
  }
  for (size_t n = 0; n < binds.size(); ++n) {
    auto& [index, b] = binds[n];
    const std::string target = volumes + "/" + std::to_string(n);
    if (b.directory) {
      if (::mkdir(target.c_str(), 0755) != 0) return Error::from_errno("mkdir " + target);
    } else {
      UniqueFd f(::open(target.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
      if (!f.valid()) return Error::from_errno("create " + target);
    }
    placed.made.push_back(target);
    if (auto ok = inject_mount(plan.vmm_pid, b.real, target, b.readonly); !ok)
      return ok.error().wrap("mounts[" + std::to_string(index) + "]");
    plan.injected.push_back(target);
    auto& m = config["mounts"][index];
    m["type"] = "bind";
    m["source"] = guest_share_path(kPodVolumesTag, plan.name + "/" + std::to_string(n));
    m["options"] = b.options;
  }
  placed.done = true;
  return plan;
}

Status leave_pod(const PodPlan& plan, const std::string& id) {
  Status first;
  auto note = [&first](Status s) {
    if (!s && first) first = std::move(s);
  };
  if (plan.vmm_pid > 0 && process_alive(plan.vmm_pid, plan.vmm_start_time)) {
    const std::string sock = vm::VmLayout(plan.sandbox_dir).vsock_socket();
    auto fd = vm::vsock_connect(sock, agent::kAgentVsockPort, std::chrono::seconds(10));
    if (!fd) {
      note(fd.error().wrap("pod sandbox " + plan.sandbox_id + ": connect to the guest agent"));
    } else {
      UniqueFd conn(*fd);
      agent::Client client(conn.get());
      client.set_call_timeout(30000);
      client.address(id);
      auto hello = client.hello();
      if (!hello) {
        note(hello.error().wrap("pod sandbox " + plan.sandbox_id));
      } else if (auto gone = client.destroy(); !gone && gone.error().err != ESRCH) {
        note(gone.error().wrap("remove container " + id + " from its pod VM"));
      }
    }
    for (auto it = plan.injected.rbegin(); it != plan.injected.rend(); ++it)
      note(remove_injected_mount(plan.vmm_pid, *it));
  }
  // On the host these are empty directories and placeholder files: the mounts on them
  // live in the VMM's namespace only.
  std::error_code ec;
  std::filesystem::remove(pod_rootfs_dir(plan.sandbox_dir) + "/" + plan.name, ec);
  std::filesystem::remove_all(pod_volumes_dir(plan.sandbox_dir) + "/" + plan.name, ec);
  return first;
}

}  // namespace runvm::runtime::pod
