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
#include "base/file_io.h"
#include "base/unique_fd.h"
#include "runtime/file_lock.h"
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

// "<dev>-<ino>" of what `path` names: one host directory or file, however it is reached.
Result<std::string> file_id(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Error::from_errno("stat " + path);
  char id[64];
  std::snprintf(id, sizeof id, "%llx-%llx", static_cast<unsigned long long>(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  return std::string(id);
}

// Best-effort steps report the first thing that went wrong.
void keep_first_error(Status& first, Status s) {
  if (!s && first) first = std::move(s);
}

bool vmm_alive(const PodPlan& plan) {
  return plan.vmm_pid > 0 && process_alive(plan.vmm_pid, plan.vmm_start_time);
}

bool empty_dir(const std::string& path) {
  std::error_code ec;
  return !std::filesystem::exists(path, ec) || std::filesystem::is_empty(path, ec);
}

// Undoes the host side of what `plan` placed (the pod lock held): its rootfs mount, its
// references to placed volumes (a volume no member uses any more is detached and removed)
// and its rootfs id. Returns the first error; every step is tried.
Status unplace(const PodPlan& plan) {
  Status first;
  auto note = [&first](Status s) { keep_first_error(first, std::move(s)); };
  const bool alive = vmm_alive(plan);
  std::error_code ec;
  for (auto it = plan.injected.rbegin(); it != plan.injected.rend(); ++it) {
    if (alive) note(remove_injected_mount(plan.vmm_pid, *it));
    std::filesystem::remove(*it, ec);
  }
  for (const std::string& key : plan.volume_keys) {
    const std::string refs = pod_refs_dir(plan.sandbox_dir) + "/" + key;
    std::filesystem::remove(refs + "/" + plan.name, ec);
    if (!empty_dir(refs)) continue;
    const std::string target = pod_volumes_dir(plan.sandbox_dir) + "/" + key;
    if (alive) note(remove_injected_mount(plan.vmm_pid, target));
    std::filesystem::remove(target, ec);
    std::filesystem::remove(refs, ec);
  }
  if (!plan.rootfs_id.empty())
    std::filesystem::remove(pod_rootfs_ids_dir(plan.sandbox_dir) + "/" + plan.rootfs_id, ec);
  return first;
}

// Places one bind source for `plan`'s member: the first member to bind a host directory
// or file (in that access mode) attaches it in the VMM at <volumes share>/<key>; later
// ones only add their reference, so every container of the pod sees the same guest inode
// (a shared emptyDir). Returns the key.
Result<std::string> place_volume(PodPlan& plan, const vm::BindSource& b,
                                 const std::string& volume_share) {
  auto id = file_id(b.real);
  if (!id) return id.error();
  const std::string key = *id + (b.readonly ? "-ro" : "-rw");
  for (const auto& k : plan.volume_keys)
    if (k == key) return key;  // bound twice by this container: placed already
  const std::string refs = pod_refs_dir(plan.sandbox_dir) + "/" + key;
  const std::string target = volume_share + "/" + key;
  if (empty_dir(refs)) {
    // Nobody uses it: (re)place it. A leftover of a crashed runvm is detached first.
    (void)remove_injected_mount(plan.vmm_pid, target);
    std::error_code ec;
    std::filesystem::remove(target, ec);
    if (b.directory) {
      if (::mkdir(target.c_str(), 0755) != 0) return Error::from_errno("mkdir " + target);
    } else {
      UniqueFd f(::open(target.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
      if (!f.valid()) return Error::from_errno("create " + target);
    }
    if (auto ok = inject_mount(plan.vmm_pid, b.real, target, b.readonly); !ok) {
      std::filesystem::remove(target, ec);
      return ok.error();
    }
    if (::mkdir(refs.c_str(), 0700) != 0 && errno != EEXIST)
      return Error::from_errno("mkdir " + refs);
  }
  UniqueFd ref(::open((refs + "/" + plan.name).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  if (!ref.valid()) return Error::from_errno("create " + refs + "/" + plan.name);
  plan.volume_keys.push_back(key);
  return key;
}

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
  for (const std::string& d :
       {pod_refs_dir(plan.sandbox_dir), pod_rootfs_ids_dir(plan.sandbox_dir)})
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return Error::from_errno("mkdir " + d);
  // Members join and leave one at a time: they share the placed volumes.
  auto lock = FileLock::acquire(pod_lock(plan.sandbox_dir));
  if (!lock) return lock.error().wrap(what);

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

  // One guest directory per rootfs: two containers on one host directory would meet one
  // guest inode under two names, which the guest kernel cannot keep for a directory.
  auto rootfs_id = file_id(bundle.rootfs);
  if (!rootfs_id) return rootfs_id.error().wrap("root.path");
  auto sandbox_rootfs = file_id(sandbox_plan->rootfs);
  const std::string id_file = pod_rootfs_ids_dir(plan.sandbox_dir) + "/" + *rootfs_id;
  std::string holder = sandbox_rootfs && *sandbox_rootfs == *rootfs_id ? req.sandbox_id : "";
  if (holder.empty())
    if (auto other = read_file(id_file)) holder = *other;
  if (!holder.empty())
    return Error("root.path " + bundle.rootfs + " is also the root filesystem of container " +
                     holder + " in this pod: each container of a pod needs its own copy",
                 EBUSY);

  struct Undo {
    PodPlan& plan;
    bool done = false;
    ~Undo() {
      if (!done) (void)unplace(plan);
    }
  } undo{plan};
  if (auto ok = write_file_atomic(id_file, req.id, 0600); !ok) return ok.error();
  plan.rootfs_id = *rootfs_id;
  vm::make_mountpoints(bundle.rootfs, config, file_destinations);

  const std::string rootfs_target = *rootfs_share + "/" + plan.name;
  if (::mkdir(rootfs_target.c_str(), 0755) != 0) return Error::from_errno("mkdir " + rootfs_target);
  plan.injected.push_back(rootfs_target);
  const bool rootfs_ro = bundle.spec.root && bundle.spec.root->readonly.value_or(false);
  if (auto ok = inject_mount(plan.vmm_pid, bundle.rootfs, rootfs_target, rootfs_ro); !ok)
    return ok.error();

  for (auto& [index, b] : binds) {
    auto key = place_volume(plan, b, *volume_share);
    if (!key) return key.error().wrap("mounts[" + std::to_string(index) + "]");
    auto& m = config["mounts"][index];
    m["type"] = "bind";
    m["source"] = guest_share_path(kPodVolumesTag, *key);
    m["options"] = b.options;
  }
  undo.done = true;
  return plan;
}

Status leave_pod(const PodPlan& plan, const std::string& id) {
  Status first;
  auto note = [&first](Status s) { keep_first_error(first, std::move(s)); };
  if (vmm_alive(plan)) {
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
  }
  // The sandbox's state may be gone already (deleted first): then so is everything placed.
  std::error_code ec;
  if (!std::filesystem::exists(pod_refs_dir(plan.sandbox_dir), ec)) return first;
  auto lock = FileLock::acquire(pod_lock(plan.sandbox_dir));
  if (!lock) {
    note(lock.error().wrap("pod sandbox " + plan.sandbox_id));
    return first;
  }
  note(unplace(plan));
  return first;
}

}  // namespace runvm::runtime::pod
