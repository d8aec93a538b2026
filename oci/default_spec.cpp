#include "oci/default_spec.h"

#include <algorithm>

namespace runvm::oci {

Spec default_spec() {
  Spec s;
  s.ociVersion = kSpecVersion;

  Process p;
  p.terminal = true;
  p.user = User{};  // uid 0, gid 0
  p.args = StringList{"sh"};
  p.env =
      StringList{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  const StringList caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  Capabilities c;
  c.bounding = caps;
  c.effective = caps;
  c.permitted = caps;
  c.ambient = caps;
  p.capabilities = c;
  p.rlimits = std::vector<Rlimit>{{"RLIMIT_NOFILE", 1024, 1024}};
  p.noNewPrivileges = true;
  s.process = std::move(p);

  s.root = Root{"rootfs", true};
  s.hostname = "runc";

  auto mount = [](std::string dest, std::string type, std::string source,
                  std::optional<StringList> options) {
    Mount m;
    m.destination = std::move(dest);
    m.type = std::move(type);
    m.source = std::move(source);
    m.options = std::move(options);
    return m;
  };
  s.mounts = std::vector<Mount>{
      mount("/proc", "proc", "proc", std::nullopt),
      mount("/dev", "tmpfs", "tmpfs",
            StringList{"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            StringList{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm",
            StringList{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", StringList{"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", StringList{"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup",
            StringList{"nosuid", "noexec", "nodev", "relatime", "ro"}),
  };

  Linux l;
  Resources r;
  DeviceCgroup deny_all;
  deny_all.allow = false;
  deny_all.access = "rwm";
  r.devices = std::vector<DeviceCgroup>{deny_all};
  l.resources = std::move(r);
  l.namespaces =
      std::vector<Namespace>{{"pid", {}}, {"network", {}}, {"ipc", {}}, {"uts", {}}, {"mount", {}}};
  l.maskedPaths = StringList{"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                             "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                             "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                             "/proc/scsi"};
  l.readonlyPaths =
      StringList{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  s.linux = std::move(l);
  return s;
}

// runc's specconv.ToRootless, applied to the default spec.
Spec default_rootless_spec(uint32_t host_uid, uint32_t host_gid) {
  Spec s = default_spec();
  Linux& l = *s.linux;
  auto& ns = *l.namespaces;
  std::erase_if(ns, [](const Namespace& n) { return n.type == "network" || n.type == "user"; });
  ns.push_back({"user", {}});
  l.uidMappings = std::vector<IdMapping>{{0, host_uid, 1}};
  l.gidMappings = std::vector<IdMapping>{{0, host_gid, 1}};
  for (Mount& m : *s.mounts) {
    if (m.destination == "/sys") {
      // sysfs cannot be mounted without a network namespace of our own: bind the host's.
      m.source = "/sys";
      m.type = "none";
      m.options = StringList{"rbind", "nosuid", "noexec", "nodev", "ro"};
    } else if (m.options) {
      std::erase_if(*m.options, [](const std::string& o) { return o.rfind("gid=", 0) == 0; });
    }
  }
  l.resources.reset();
  return s;
}

}  // namespace runvm::oci
