#include "runtime/vm/host_namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/unique_fd.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace runvm::runtime::vm {

namespace {

constexpr std::pair<const char*, int> kTypes[] = {
    {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME}};

int flag_of(const std::string& type) {
  for (const auto& [name, flag] : kTypes)
    if (type == name) return flag;
  return 0;
}

std::string name_of(int flag) {
  for (const auto& [name, f] : kTypes)
    if (f == flag) return name;
  return "unknown";
}

// Opens `path` and checks that it is a namespace of type `flag` (nsfs ioctl).
Result<UniqueFd> open_namespace(const std::string& path, int flag) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno(path);
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) return Error::from_errno(path + " is not a namespace");
  if (type != flag) {
    return Error(path + " is a namespace of type " + name_of(type) + ", not " + name_of(flag),
                 EINVAL);
  }
  return fd;
}

// A fresh network namespace has lo down; runc brings it up, so does the guest's.
Status bring_loopback_up() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return Error::from_errno("socket for lo");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return Error::from_errno("get lo flags");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return Error::from_errno("bring lo up");
  return {};
}

}  // namespace

nlohmann::json HostNamespaces::to_json() const {
  return {{"net_path", net_path}, {"new_net", new_net},
          {"new_pid", new_pid},   {"unshare_flags", unshare_flags},
          {"hostname", hostname}, {"runtime_net_ino", runtime_net_ino}};
}

Result<HostNamespaces> HostNamespaces::from_json(const nlohmann::json& j) {
  try {
    HostNamespaces n;
    n.net_path = j.at("net_path").get<std::string>();
    n.new_net = j.at("new_net").get<bool>();
    n.new_pid = j.value("new_pid", false);
    n.unshare_flags = j.at("unshare_flags").get<int>();
    n.hostname = j.at("hostname").get<std::string>();
    n.runtime_net_ino = j.value("runtime_net_ino", uint64_t{0});
    constexpr int kAllowed = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWNS;
    if (n.unshare_flags & ~kAllowed) return Error("host namespaces: bad unshare flags", EINVAL);
    return n;
  } catch (const nlohmann::json::exception& e) {
    return Error(std::string("host namespaces: ") + e.what(), EINVAL);
  }
}

HostNamespaces plan_host_namespaces(const oci::Spec& spec, bool pod_member) {
  HostNamespaces ns;
  if (!spec.linux || !spec.linux->namespaces) return ns;
  for (const auto& n : *spec.linux->namespaces) {
    if (n.type == "network") {
      if (n.path && !n.path->empty())
        ns.net_path = *n.path;
      else
        ns.new_net = true;
      continue;
    }
    // A pod member's IPC/UTS paths are its sandbox's, which the guest shares: on the host its
    // supervisor gets fresh ones, as for entries without a path.
    const bool pod_shared = pod_member && (n.type == "ipc" || n.type == "uts");
    if (n.path && !n.path->empty() && !pod_shared) continue;
    if (n.type == "pid") {
      ns.new_pid = true;
    } else if (n.type == "uts") {
      ns.unshare_flags |= CLONE_NEWUTS;
      ns.hostname = spec.hostname.value_or("");
    } else if (n.type == "ipc" || n.type == "cgroup" || n.type == "mount") {
      ns.unshare_flags |= flag_of(n.type);
    }
  }
  return ns;
}

Status check_namespace_paths(const oci::Spec& spec, bool pod_member) {
  if (!spec.linux || !spec.linux->namespaces) return {};
  const auto& list = *spec.linux->namespaces;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].path || list[i].path->empty()) continue;
    int flag = flag_of(list[i].type);
    if (flag == 0) continue;  // unknown types are the validator's to report
    const std::string where = "linux.namespaces[" + std::to_string(i) + "] (" + list[i].type + ")";
    auto fd = open_namespace(*list[i].path, flag);
    if (!fd) return fd.error().wrap(where);
    if (flag == CLONE_NEWNET) continue;  // the container's network: runtime/net attaches it
    struct stat ns_st, own_st;
    const std::string own = "/proc/self/ns/" + (flag == CLONE_NEWNS ? "mnt" : list[i].type);
    const bool host = ::fstat(fd->get(), &ns_st) == 0 && ::stat(own.c_str(), &own_st) == 0 &&
                      ns_st.st_ino == own_st.st_ino && ns_st.st_dev == own_st.st_dev;
    // A pod's container names its sandbox's IPC and UTS namespaces (CRI's POD mode): inside
    // the pod VM they are the guest's, shared by every container of the pod.
    if (pod_member && !host && (flag == CLONE_NEWIPC || flag == CLONE_NEWUTS)) continue;
    if (pod_member && flag == CLONE_NEWPID)
      return Error(where + ": a pid namespace shared by the pod (shareProcessNamespace) is not " +
                       "supported by runvm yet",
                   ENOTSUP);
    // Every other namespace the container has is the guest kernel's: runvm cannot join the
    // host's (Docker --ipc=host style) or another container's (--ipc=container:X, a pod's
    // sandbox outside a pod VM), and says so instead of silently giving a fresh one.
    return Error(where + ": cannot join " + *list[i].path +
                     (host ? " (the host's " : " (an existing ") + list[i].type +
                     " namespace): the container runs in its own guest kernel, so " +
                     "it cannot share a " + list[i].type +
                     " namespace with the host or another container; remove the path",
                 ENOTSUP);
  }
  return {};
}

Status check_required_namespaces(const oci::Spec& spec) {
  struct Required {
    const char* type;
    const char* docker_flag;
  };
  for (const auto& r : {Required{"pid", "--pid=host"}, Required{"ipc", "--ipc=host"},
                        Required{"uts", "--uts=host"}}) {
    bool listed = false;
    if (spec.linux && spec.linux->namespaces)
      for (const auto& n : *spec.linux->namespaces) listed |= n.type == r.type;
    if (listed) continue;
    return Error(std::string("linux.namespaces: no \"") + r.type + "\" entry, which asks for the " +
                     "host's " + r.type + " namespace (Docker " + r.docker_flag +
                     "); a container in its own guest kernel cannot share it: add {\"type\": \"" +
                     r.type + "\"}",
                 ENOTSUP);
  }
  return {};
}

Result<uint64_t> current_net_ino() {
  struct stat st;
  if (::stat("/proc/self/ns/net", &st) != 0) return Error::from_errno("stat /proc/self/ns/net");
  return static_cast<uint64_t>(st.st_ino);
}

Status enter_host_namespaces(const HostNamespaces& ns) {
  if (!ns.net_path.empty()) {
    auto fd = open_namespace(ns.net_path, CLONE_NEWNET);
    if (!fd) return fd.error().wrap("network namespace");
    if (::setns(fd->get(), CLONE_NEWNET) != 0)
      return Error::from_errno("join network namespace " + ns.net_path);
  } else if (ns.new_net) {
    if (::unshare(CLONE_NEWNET) != 0) return Error::from_errno("new network namespace");
    if (auto ok = bring_loopback_up(); !ok) return ok.error().wrap("new network namespace");
  }
  if (ns.unshare_flags == 0) return {};
  if (::unshare(ns.unshare_flags) != 0) {
    return Error::from_errno("new host namespaces for the container (uts/ipc/cgroup/mount)");
  }
  // Mounts made in our namespace (by a hook, or by us) must not reach the host's.
  if ((ns.unshare_flags & CLONE_NEWNS) &&
      ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    return Error::from_errno("make / a slave mount in the container's mount namespace");
  }
  if ((ns.unshare_flags & CLONE_NEWUTS) && !ns.hostname.empty() &&
      ::sethostname(ns.hostname.data(), ns.hostname.size()) != 0) {
    return Error::from_errno("set hostname " + ns.hostname);
  }
  return {};
}

}  // namespace runvm::runtime::vm
