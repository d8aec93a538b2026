#include "runtime/host_check.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "base/unique_fd.h"
#include "oci/cgroup2.h"
#include "runtime/vm/host_cgroup.h"
#include "runtime/vm/kernel_release.h"
#include "runtime/vm/vm_settings.h"

namespace runvm::runtime {

namespace {

CheckResult ok(std::string name, std::string detail) {
  return {std::move(name), CheckLevel::kOk, std::move(detail), {}};
}
CheckResult warn(std::string name, std::string detail, std::string fix) {
  return {std::move(name), CheckLevel::kWarn, std::move(detail), std::move(fix)};
}
CheckResult fail(std::string name, std::string detail, std::string fix) {
  return {std::move(name), CheckLevel::kFail, std::move(detail), std::move(fix)};
}

bool has(const std::vector<std::string>& v, const char* s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

CheckResult check_guest(const std::string& config) {
  auto s = vm::resolve_vm_settings({}, config);
  if (!s)
    return fail("guest", s.error().message,
                "install linux-image-cloud-amd64 and the runvm package (or fix " + config + ")");
  if (::access(s->vmm.c_str(), X_OK) != 0)
    return fail("guest", "runvm-vmm " + s->vmm + " is not executable",
                "reinstall runvm, or set \"vmm\" in " + config);
  auto release = vm::kernel_release(s->kernel);
  std::string detail = "kernel " + s->kernel + (release ? " (" + *release + ")" : "") + ", image " +
                       s->initrd + ", runvm-vmm " + s->vmm;
  // Which file runvm-vmm boots: the uncompressed copy starts faster (uncompressed_kernel.h).
  if (!s->boot_kernel.empty() && s->boot_kernel != s->kernel)
    detail += ", booted uncompressed from " + s->boot_kernel;
  else if (s->uncompressed_kernel && release)
    detail += "; no current uncompressed copy (runvm-update-image " + *release +
              " makes one: faster starts)";
  if (!release || vm::image_release(s->initrd.substr(s->initrd.rfind('/') + 1)).empty())
    detail += "; the image's kernel release is not in its name, so it is not checked";
  return ok("guest", detail);
}

// runvm-vmm serves the guest's vsock as unix sockets in the container's state
// directory (no vhost_vsock on the host): bind one there.
CheckResult check_vsock(const std::string& root) {
  const std::string name = "vsock";
  if (::mkdir(root.c_str(), 0711) != 0 && errno != EEXIST)
    return fail(name, "cannot create the state root " + root + ": " + std::strerror(errno),
                "make " + root + " writable by root, or pass another --root");
  // A container's sockets are <root>/<id>/vm/vsock.sock: leave room for a 64-byte id.
  const std::string path = root + "/.runvm-check-" + std::to_string(::getpid()) + ".sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  constexpr size_t kBelowRoot = 1 + 64 + std::char_traits<char>::length("/vm/vsock.sock");
  if (root.size() + kBelowRoot >= sizeof addr.sun_path)
    return fail(name, "state root " + root + " is too long for unix socket paths",
                "use a --root shorter than " + std::to_string(sizeof addr.sun_path - kBelowRoot) +
                    " characters");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int rc = fd.valid() ? ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) : -1;
  int err = errno;
  ::unlink(path.c_str());
  if (rc != 0)
    return fail(name, "cannot bind a unix socket in " + root + ": " + std::strerror(err),
                "the state root must be on a local filesystem that allows sockets (/run)");
  return ok(name, "runvm-vmm serves vsock on unix sockets under " + root +
                      " (bound one); no host vhost_vsock needed");
}

CheckResult check_cgroup() {
  if (oci::is_cgroup2(vm::kCgroupRoot))
    return ok("cgroup",
              "cgroup v2 at /sys/fs/cgroup: linux.cgroupsPath limits the VMM on the host");
  const bool hybrid = oci::is_cgroup2(std::string(vm::kCgroupRoot) + "/unified");
  return warn("cgroup",
              std::string(hybrid ? "hybrid cgroup v1/v2" : "cgroup v1") +
                  ": containers run and their limits apply inside the VM, but not on the host",
              "boot the host with systemd.unified_cgroup_hierarchy=1 (cgroup v2)");
}

CheckResult check_tun() {
  struct stat st {};
  if (::stat("/dev/net/tun", &st) == 0 && S_ISCHR(st.st_mode))
    return ok("tun", "/dev/net/tun present: containers get their network namespace's NIC");
  return warn("tun", "no /dev/net/tun: containers with a network namespace cannot be created",
              "modprobe tun");
}

CheckResult check_privileges() {
  struct Need {
    cap_value_t cap;
    const char* name;
  };
  // What create/run do on the host: namespaces and mounts, the tap, the VMM's jail
  // (dropping the bounding set), the shares serving any owner's files.
  static constexpr Need kNeeded[] = {
      {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
      {CAP_NET_ADMIN, "CAP_NET_ADMIN"},
      {CAP_SETPCAP, "CAP_SETPCAP"},
      {CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE"},
      {CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH"},
      {CAP_CHOWN, "CAP_CHOWN"},
      {CAP_FOWNER, "CAP_FOWNER"},
      {CAP_FSETID, "CAP_FSETID"},
  };
  cap_t caps = ::cap_get_proc();
  if (!caps) return fail("privileges", std::string("capget: ") + std::strerror(errno), "");
  std::string missing;
  for (const auto& n : kNeeded) {
    cap_flag_value_t v = CAP_CLEAR;
    if (::cap_get_flag(caps, n.cap, CAP_EFFECTIVE, &v) != 0 || v != CAP_SET)
      missing += (missing.empty() ? "" : ", ") + std::string(n.name);
  }
  ::cap_free(caps);
  if (!missing.empty())
    return fail("privileges", "missing " + missing,
                "run runvm as root (rootless containers are not supported)");
  return ok("privileges", "the capabilities runvm needs are effective");
}

std::string level_name(CheckLevel l) {
  return l == CheckLevel::kOk ? "ok" : l == CheckLevel::kWarn ? "warn" : "FAIL";
}

}  // namespace

KvmFacts probe_kvm() {
  KvmFacts f;
  struct stat st {};
  f.device = ::stat("/dev/kvm", &st) == 0 && S_ISCHR(st.st_mode);
  if (f.device) {
    UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
    if (!kvm.valid()) {
      f.open_errno = errno;
    } else {
      f.api_version = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
      UniqueFd vm(::ioctl(kvm.get(), KVM_CREATE_VM, 0));
      if (!vm.valid()) f.create_vm_errno = errno;
    }
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) {
      f.vmx |= w == "vmx";
      f.svm |= w == "svm";
      f.hypervisor |= w == "hypervisor";
    }
    break;  // the first CPU speaks for all
  }
  for (const char* m : {"kvm_intel", "kvm_amd", "kvm_pvm"})
    if (::stat(("/sys/module/" + std::string(m)).c_str(), &st) == 0) f.modules.emplace_back(m);
  return f;
}

CheckResult judge_kvm(const KvmFacts& f) {
  const std::string name = "kvm";
  const std::string hw_fix =
      "enable VT-x/AMD-V in the firmware (or nested virtualization on the hypervisor that runs "
      "this host) and load kvm_intel or kvm_amd";
  if (!f.device) return fail(name, "no /dev/kvm", hw_fix);
  if (f.open_errno)
    return fail(name, "/dev/kvm: open: " + std::string(std::strerror(f.open_errno)),
                f.open_errno == EACCES ? "run runvm as root" : hw_fix);
  if (f.api_version != KVM_API_VERSION)
    return fail(name, "/dev/kvm: KVM API version " + std::to_string(f.api_version) + ", want 12",
                "use a Linux kernel with the stable KVM API");
  if (f.create_vm_errno)
    return fail(name, "/dev/kvm: KVM_CREATE_VM: " + std::string(std::strerror(f.create_vm_errno)),
                hw_fix);
  // kvm_pvm (a pagetable-based software KVM) answers the API but emulates guest
  // kernel code instruction by instruction: a Linux guest does not boot in usable time.
  if (has(f.modules, "kvm_pvm") || (!f.vmx && !f.svm))
    return fail(name,
                "/dev/kvm answers (API 12) but is a software KVM" +
                    std::string(has(f.modules, "kvm_pvm") ? " (kvm_pvm)" : "") +
                    " without hardware virtualization (no vmx/svm in /proc/cpuinfo): a Linux "
                    "guest cannot boot at usable speed",
                hw_fix);
  std::string module = has(f.modules, "kvm_amd")     ? "kvm_amd"
                       : has(f.modules, "kvm_intel") ? "kvm_intel"
                                                     : "kvm";
  return ok(name, "/dev/kvm: KVM API 12, " + module + (f.svm ? " (AMD-V)" : " (VT-x)") +
                      (f.hypervisor ? ", nested: this host is itself a VM" : ""));
}

std::vector<CheckResult> check_host(const std::string& system_config, const std::string& root) {
  return {judge_kvm(probe_kvm()),
          check_guest(system_config),
          check_vsock(root),
          check_cgroup(),
          check_tun(),
          check_privileges()};
}

bool all_passed(const std::vector<CheckResult>& results) {
  return std::none_of(results.begin(), results.end(),
                      [](const CheckResult& r) { return r.level == CheckLevel::kFail; });
}

std::string format_text(const std::vector<CheckResult>& results) {
  std::string out;
  for (const auto& r : results) {
    std::string label = level_name(r.level);
    label.resize(6, ' ');
    std::string name = r.name;
    name.resize(11, ' ');
    out += label + name + r.detail + "\n";
    if (!r.fix.empty()) out += "      " + std::string(11, ' ') + "fix: " + r.fix + "\n";
  }
  out += all_passed(results) ? "runvm can run containers on this host\n"
                             : "runvm cannot run containers on this host\n";
  return out;
}

nlohmann::json format_json(const std::vector<CheckResult>& results) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json c = {{"name", r.name}, {"result", level_name(r.level)}, {"detail", r.detail}};
    if (!r.fix.empty()) c["fix"] = r.fix;
    checks.push_back(c);
  }
  return {{"ok", all_passed(results)}, {"checks", checks}};
}

}  // namespace runvm::runtime
