#include "guest-init/container_setup.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include "guest-init/capabilities.h"
#include "guest-init/cgroups.h"
#include "guest-init/mounts.h"
#include "guest-init/network.h"
#include "guest-init/nic_release.h"
#include "guest-init/process_setup.h"
#include "guest-init/seccomp_filter.h"
#include "guest-init/user_namespace.h"
#include "oci/parse.h"
#include "oci/validate.h"

namespace runvm::guest {

Status apply_process(const oci::Process& p, const oci::Seccomp* seccomp,
                     const std::function<Status()>& enter_user_ns) {
  if (p.rlimits)
    if (auto s = apply_rlimits(*p.rlimits); !s) return s.error().wrap("process");
  if (p.oomScoreAdj)
    if (auto s = apply_oom_score_adj(*p.oomScoreAdj); !s) return s.error().wrap("process");
  if (p.ioPriority)
    if (auto s = apply_io_priority(*p.ioPriority); !s) return s.error().wrap("process");
  if (p.scheduler)
    if (auto s = apply_scheduler(*p.scheduler); !s) return s.error().wrap("process");
  if (enter_user_ns)
    if (auto s = enter_user_ns(); !s) return s.error().wrap("linux.namespaces (user)");
  bool nnp = p.noNewPrivileges.value_or(false);
  if (nnp)
    if (auto s = set_no_new_privileges(); !s) return s.error().wrap("process");
  if (seccomp && !nnp)
    if (auto s = load_seccomp(*seccomp); !s) return s.error().wrap("linux");
  std::optional<CapSets> caps;
  if (p.capabilities) {
    auto c = resolve_capabilities(*p.capabilities);
    if (!c) return c.error().wrap("process");
    caps = std::move(*c);
    if (auto s = apply_bounding_set(*caps); !s) return s.error().wrap("process.capabilities");
  }
  if (auto s = apply_user(p.user); !s) return s.error().wrap("process.user");
  if (::chdir(p.cwd.c_str()) < 0) return Error::from_errno("process.cwd: chdir " + p.cwd);
  if (caps)
    if (auto s = apply_process_capabilities(*caps); !s)
      return s.error().wrap("process.capabilities");
  return {};
}

Status finish_process(const oci::Process& p, const oci::Seccomp* seccomp) {
  if (seccomp && p.noNewPrivileges.value_or(false))
    if (auto s = load_seccomp(*seccomp); !s) return s.error().wrap("linux");
  return {};
}

namespace {
// Every violation, "path: reason; ...", as one EINVAL error; nothing when there are none.
std::optional<Error> violations_error(const std::vector<oci::Violation>& violations) {
  if (violations.empty()) return std::nullopt;
  std::string msg;
  for (const auto& v : violations) msg += (msg.empty() ? "" : "; ") + v.path + ": " + v.reason;
  return Error(msg, EINVAL);
}
}  // namespace

Status GuestLauncher::prepare(const std::string& container_id, const nlohmann::json& config) {
  auto spec = oci::config_from_json(config);
  if (!spec) return spec.error().wrap("config.json");
  if (auto bad = violations_error(oci::validate(*spec))) return bad->wrap("config.json");
  if (auto s = apply_hostname(spec->hostname, spec->domainname); !s)
    return s.error().wrap("container " + container_id);
  if (spec->linux && spec->linux->sysctl)
    if (auto s = apply_sysctls(*spec->linux->sysctl); !s)
      return s.error().wrap("container " + container_id);
  // The container always gets its cgroup: `runvm events` reads it and `runvm update`
  // changes it. Without linux.resources, a kernel without cgroup v2 is not an error (and
  // nothing is created in a directory that is not a cgroup tree).
  const bool has_resources = spec->linux && spec->linux->resources;
  if (has_resources || is_cgroup2(cgroup_dir_.substr(0, cgroup_dir_.rfind('/')))) {
    auto s = setup_cgroup(has_resources ? *spec->linux->resources : oci::Resources{}, cgroup_dir_);
    if (s)
      use_cgroup_ = true;
    else if (has_resources)
      return s.error().wrap("container " + container_id);
  }
  new_pid_ns_ = new_user_ns_ = false;
  if (spec->linux && spec->linux->namespaces) {
    for (const auto& n : *spec->linux->namespaces) {
      if (n.type != "user" && n.type != "pid") continue;
      // The host refuses paths (runtime/vm/host_namespaces.h); a guest cannot join one.
      if (n.path && !n.path->empty())
        return Error(
            "linux.namespaces: " + n.type + " path " + *n.path + " cannot be joined in the guest",
            ENOTSUP);
      (n.type == "user" ? new_user_ns_ : new_pid_ns_) = true;
    }
  }
  if (auto s = setup_rootfs(*spec, rootfs_, new_pid_ns_); !s)
    return s.error().wrap("container " + container_id);
  spec_ = std::move(*spec);
  return {};
}

agent::PtmxLocation GuestLauncher::ptmx_location(int init_pid) {
  // Before init runs, its devpts is below our rootfs mount; later, in init's root.
  if (init_pid > 0) return {"/proc/" + std::to_string(init_pid) + "/root", "dev/pts/ptmx"};
  return {rootfs_, "dev/pts/ptmx"};
}

agent::PidNamespace GuestLauncher::pid_namespace(int init_pid) {
  if (!new_pid_ns_) return {};
  return init_pid == 0 ? agent::PidNamespace{true, 0} : agent::PidNamespace{false, init_pid};
}

Result<agent::ContainerStats> GuestLauncher::stats() {
  if (!use_cgroup_) return Error("the container has no cgroup", ENOTSUP);
  return agent::read_cgroup_stats(cgroup_dir_);
}

Status GuestLauncher::configure_network(const agent::NetworkConfig& network) {
  if (auto ok = guest::configure_network(network); !ok) return ok;
  // Only the described NIC stays (none for a namespace with only lo), as with runc.
  auto released = guest::release_undescribed_nics(network, kVirtioNetDriverDir);
  if (!released) return released.error().wrap("guest network");
  return {};
}

std::string member_cgroup(const std::string& container_id) {
  return std::string(kContainerCgroup) + "-" + container_id;
}

Status GuestLauncher::release() {
  if (auto s = unmount_tree(rootfs_); !s) return s;
  if (!use_cgroup_) return {};
  // The killed processes leave the cgroup as they exit, which may take a moment.
  for (int tries = 0; ::rmdir(cgroup_dir_.c_str()) != 0; ++tries) {
    if (errno == ENOENT) return {};
    if (errno != EBUSY || tries >= 100) return Error::from_errno("remove cgroup " + cgroup_dir_);
    ::usleep(10000);
  }
  return {};
}

Status GuestLauncher::update(const nlohmann::json& resources) {
  if (!use_cgroup_) return Error("the container has no cgroup", ENOTSUP);
  auto r = oci::resources_from_json(resources);
  if (!r) return r.error().wrap("linux.resources");
  if (auto bad = violations_error(oci::validate_resources(*r))) return *bad;
  return setup_cgroup(*r, cgroup_dir_);
}

Result<oci::Process> GuestLauncher::process_of(const agent::ProcessSpec& p) const {
  auto proc = oci::process_from_json(p.raw);
  if (!proc) return proc.error().wrap("process");
  return proc;
}

const oci::Seccomp* GuestLauncher::seccomp() const {
  if (!spec_ || !spec_->linux || !spec_->linux->seccomp) return nullptr;
  return &*spec_->linux->seccomp;
}

Status GuestLauncher::setup_child(const agent::ProcessSpec& p, int init_pid) {
  if (!spec_) return Error("container not prepared");
  auto proc = process_of(p);
  if (!proc) return proc.error();
  if (use_cgroup_)
    if (auto s = join_cgroup(cgroup_dir_); !s) return s.error().wrap("cgroup");
  // Init: the user namespace's map writer is forked before init leaves the agent's mount
  // namespace. An exec: init's user namespace, opened while /proc is still the agent's.
  std::optional<UserNamespaceEntry> userns;
  int init_userns_fd = -1;
  if (new_user_ns_ && init_pid == 0) {
    const auto& l = *spec_->linux;
    userns.emplace(l.uidMappings.value_or(std::vector<oci::IdMapping>{}),
                   l.gidMappings.value_or(std::vector<oci::IdMapping>{}));
    if (auto s = userns->prepare(); !s) return s;
  } else if (new_user_ns_) {
    const std::string path = "/proc/" + std::to_string(init_pid) + "/ns/user";
    init_userns_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (init_userns_fd < 0) return Error::from_errno("exec: open " + path);
  }
  std::function<Status()> enter_user_ns;
  if (userns) enter_user_ns = [&] { return userns->enter(); };
  if (init_userns_fd >= 0)
    enter_user_ns = [&] {
      Status s = join_user_namespace(init_userns_fd);
      ::close(init_userns_fd);
      return s;
    };
  if (init_pid == 0) {
    // A terminal init sees its pty as /dev/console too, as under runc.
    std::string console;
    if (p.terminal) {
      char name[128];
      if (ttyname_r(0, name, sizeof name) == 0) console = name;
    }
    if (auto s = enter_rootfs(rootfs_, console, propagation_plan(*spec_, new_pid_ns_)); !s)
      return s.error().wrap("rootfs");
    if (new_pid_ns_)
      if (auto s = mount_proc_in_container(*spec_); !s) return s.error().wrap("rootfs");
  } else {
    if (auto s = join_rootfs_of(init_pid); !s) return s.error().wrap("exec");
  }
  return apply_process(*proc, seccomp(), enter_user_ns);
}

Status GuestLauncher::finish_child(const agent::ProcessSpec& p) {
  auto proc = process_of(p);
  if (!proc) return proc.error();
  return finish_process(*proc, seccomp());
}

}  // namespace runvm::guest
