#include "runtime/vm/vm_settings.h"
#include "base/uid_gid.h"

#include "runtime/vm/kernel_release.h"
#include "runtime/vm/uncompressed_kernel.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

namespace runvm::runtime::vm {

namespace {

namespace fs = std::filesystem;

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  return fs::path(std::string(buf, static_cast<size_t>(n))).parent_path().string();
}

// First existing file among the candidates, or "".
std::string first_file(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates)
    if (is_file(c)) return c;
  return {};
}

// The newest regular file (version order) matching a glob(3) pattern, or "".
std::string newest_match(const std::string& pattern) {
  glob_t g{};
  std::vector<std::string> found;
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i)
      if (is_file(g.gl_pathv[i])) found.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  if (found.empty()) return {};
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return ::strverscmp(a.c_str(), b.c_str()) < 0;
  });
  return found.back();
}

// The host's memory in MiB and online CPUs: what annotations may ask for at most
// unless the system config sets "max_memory_mib" / "max_vcpus".
uint64_t host_memory_mib() {
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 1u << 20;
  return (static_cast<uint64_t>(pages) * static_cast<uint64_t>(page)) >> 20;
}
unsigned host_cpus() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(std::min<long>(n, 64)) : 1;
}

// Where versioned guest images (runvm-initrd-<release>.img) are looked for, after the
// config's "image_dir": /var/lib/runvm first, where runvm-update-image and the kernel
// hook build them from this node's own module tree (a kernel package rebuilt under the
// same release name keeps working), then the image a package or `cmake --install`
// shipped in <prefix>/lib/runvm.
std::vector<std::string> default_image_dirs() {
  std::vector<std::string> dirs = {kVarImageDir};
  const std::string here = self_dir();
  if (!here.empty()) dirs.push_back(fs::path(here).parent_path().string() + "/lib/runvm");
  if (std::find(dirs.begin(), dirs.end(), "/usr/lib/runvm") == dirs.end())
    dirs.emplace_back("/usr/lib/runvm");
  return dirs;
}

VmSettings defaults() {
  VmSettings s;
  std::string here = self_dir();
  s.vmm = first_file({here + "/runvm-vmm", here + "/../vmm/runvm-vmm",
                      here + "/../libexec/runvm/runvm-vmm", "/usr/libexec/runvm/runvm-vmm",
                      "/usr/local/libexec/runvm/runvm-vmm"});
  if (s.vmm.empty()) s.vmm = here + "/runvm-vmm";
  s.kernel = newest_match(kDefaultKernelGlob);
  s.max_memory_mib = host_memory_mib();
  s.max_vcpus = host_cpus();
  // A build tree's image (built for the kernel the build found); installed images
  // carry their kernel's release in the name and are picked by resolve_image().
  s.initrd = first_file({here + "/runvm-initrd.img", here + "/../runvm-initrd.img"});
  return s;
}

// The guest image for s.kernel when none was configured, and a refusal when the
// configured one names another kernel release: the image carries the modules of
// one release, and a kernel booted without its modules has no virtio-fs or vsock.
Status resolve_image(VmSettings& s, const std::vector<std::string>& dirs,
                     const std::string& config) {
  const std::string named = image_release(fs::path(s.initrd).filename().string());
  if (!s.initrd.empty() && named.empty()) return {};  // an image of the user's own naming
  auto release = kernel_release(s.kernel);
  if (!release) {
    if (!s.initrd.empty()) return {};  // an ELF vmlinux has no release to compare
    return release.error().wrap(
        "guest kernel: cannot tell its release to pick the guest image "
        "runvm-initrd-<release>.img; set \"initrd\" in " +
        config);
  }
  if (!s.initrd.empty()) {
    if (named == *release) return {};
    return Error("guest image " + s.initrd + " was built for kernel " + named +
                     ", but the guest kernel " + s.kernel + " is " + *release +
                     ": run `runvm-update-image " + *release + "`",
                 ENOEXEC);
  }
  std::string looked;
  for (const auto& d : dirs) {
    const std::string candidate = d + "/" + image_name_for(*release);
    if (is_file(candidate)) {
      s.initrd = candidate;
      return {};
    }
    looked += (looked.empty() ? "" : ", ") + d;
  }
  return Error("no guest image for kernel " + *release + " (" + s.kernel + ") in " + looked +
                   ": run `runvm-update-image " + *release +
                   "` (the kernel package's postinst hook normally does)",
               ENOENT);
}

// Applies one key from a config source; `origin` names it in errors.
Status apply(VmSettings& s, const std::string& key, const nlohmann::json& v,
             const std::string& origin) {
  auto bad = [&](const char* why) { return Error(origin + ": " + key + ": " + why, EINVAL); };
  auto as_number = [&](uint64_t* out) -> bool {
    if (v.is_number_unsigned()) {
      *out = v.get<uint64_t>();
      return true;
    }
    if (v.is_string()) {
      const std::string& t = v.get_ref<const std::string&>();
      if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos || t.size() > 12)
        return false;
      *out = std::stoull(t);
      return true;
    }
    return false;
  };
  if (key == "vmm" || key == "kernel" || key == "initrd" || key == "image_dir") {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) return bad("must be a path");
    std::string path = v.get<std::string>();
    // "/boot/vmlinuz-*-cloud-amd64": the newest match, so a config survives kernel
    // upgrades (the installed default names the kernel this way).
    if (key == "kernel" && path.find_first_of("*?[") != std::string::npos) {
      std::string match = newest_match(path);
      if (match.empty()) return bad(("no file matches " + path).c_str());
      path = match;
    }
    if (key == "image_dir" && path[0] != '/') return bad("must be an absolute directory");
    (key == "vmm"      ? s.vmm
     : key == "kernel" ? s.kernel
     : key == "initrd" ? s.initrd
                       : s.image_dir) = path;
    return {};
  }
  if (key == "snapshot_dir") {
    if (!v.is_string() || v.get_ref<const std::string&>().empty() ||
        v.get_ref<const std::string&>()[0] != '/')
      return bad("must be an absolute directory");
    s.snapshot_dir = v.get<std::string>();
    return {};
  }
  if (key == "vmm_seccomp" || key == "rootfs_writeback" || key == "uncompressed_kernel" ||
      key == "snapshots") {
    // Annotations are strings: "true"/"false" count as booleans.
    bool b = false;
    if (v.is_boolean())
      b = v.get<bool>();
    else if (v.is_string() && (v == "true" || v == "false"))
      b = v == "true";
    else
      return bad("must be true or false");
    (key == "vmm_seccomp"        ? s.vmm_seccomp
     : key == "rootfs_writeback" ? s.rootfs_writeback
     : key == "snapshots"        ? s.snapshots
                                 : s.uncompressed_kernel) = b;
    return {};
  }
  if (key == "vmm_user") {
    if (!v.is_string() || (!v.get_ref<const std::string&>().empty() &&
                           !parse_uid_gid(v.get_ref<const std::string&>())))
      return bad("must be \"UID\" or \"UID:GID\" (numbers; \"\" for root)");
    s.vmm_user = v.get<std::string>();
    return {};
  }
  if (key == "rootfs_cache" || key == "volume_cache") {
    if (!v.is_string() || (v != "none" && v != "auto" && v != "always"))
      return bad("must be \"none\", \"auto\" or \"always\"");
    (key == "rootfs_cache" ? s.rootfs_cache : s.volume_cache) = v.get<std::string>();
    return {};
  }
  uint64_t n = 0;
  if (key == "memory_mib") {
    if (!as_number(&n) || n < 64 || n > (1u << 20)) return bad("must be 64..1048576 (MiB)");
    s.memory_mib = n;
  } else if (key == "vcpus") {
    if (!as_number(&n) || n < 1 || n > 64) return bad("must be 1..64");
    s.vcpus = static_cast<unsigned>(n);
  } else if (key == "max_memory_mib") {
    if (!as_number(&n) || n < 64 || n > (1u << 20)) return bad("must be 64..1048576 (MiB)");
    s.max_memory_mib = n;
  } else if (key == "max_vcpus") {
    if (!as_number(&n) || n < 1 || n > 64) return bad("must be 1..64");
    s.max_vcpus = static_cast<unsigned>(n);
  } else if (key == "boot_timeout_s") {
    if (!as_number(&n) || n < 1 || n > 3600) return bad("must be 1..3600 (seconds)");
    s.boot_timeout_s = static_cast<unsigned>(n);
  }
  // Unknown keys are ignored: the file may carry settings of later versions.
  return {};
}

// Where io.runvm.vm.kernel / initrd annotations may point: the directory of the
// guest image runvm uses and the system config's "annotation_dirs". Not /boot as
// such: host initramfs images there may hold secrets (kernel_dir_match() lets a
// kernel annotation name another vmlinuz next to the configured kernel).
std::vector<std::string> annotation_dirs(const VmSettings& configured, const std::string& config) {
  std::vector<std::string> dirs;
  if (!configured.initrd.empty())
    dirs.push_back(fs::path(configured.initrd).parent_path().string());
  std::ifstream in(config);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (in && j.is_object() && j.contains("annotation_dirs") && j["annotation_dirs"].is_array()) {
    for (const auto& d : j["annotation_dirs"])
      if (d.is_string()) dirs.push_back(d.get<std::string>());
  }
  return dirs;
}

// A kernel image (vmlinuz-*, vmlinux-*) in the configured kernel's directory.
std::optional<std::string> kernel_dir_match(const std::string& path, const VmSettings& configured) {
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec || configured.kernel.empty()) return std::nullopt;
  const fs::path dir = fs::canonical(fs::path(configured.kernel).parent_path(), ec);
  const std::string name = real.filename().string();
  if (ec || real.parent_path() != dir || !is_file(real.string())) return std::nullopt;
  if (name.rfind("vmlinuz", 0) != 0 && name.rfind("vmlinux", 0) != 0) return std::nullopt;
  return real.string();
}

// The resolved path (symlinks and ".." followed) when `path` is a regular file
// below one of `dirs`.
std::optional<std::string> inside_any(const std::string& path,
                                      const std::vector<std::string>& dirs) {
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec || !is_file(real.string())) return std::nullopt;
  for (const auto& d : dirs) {
    const fs::path base = fs::canonical(d, ec);
    if (ec) continue;
    const std::string b = base.string() == "/" ? "/" : base.string() + "/";
    if (real.string().rfind(b, 0) == 0) return real.string();
  }
  return std::nullopt;
}

}  // namespace

nlohmann::json VmSettings::to_json() const {
  nlohmann::json j = {{"vmm", vmm},
                      {"kernel", kernel},
                      {"initrd", initrd},
                      {"memory_mib", memory_mib},
                      {"vcpus", vcpus},
                      {"boot_timeout_s", boot_timeout_s},
                      {"max_memory_mib", max_memory_mib},
                      {"max_vcpus", max_vcpus},
                      {"vmm_seccomp", vmm_seccomp},
                      {"vmm_user", vmm_user},
                      {"rootfs_cache", rootfs_cache},
                      {"rootfs_writeback", rootfs_writeback},
                      {"volume_cache", volume_cache},
                      {"uncompressed_kernel", uncompressed_kernel},
                      {"snapshots", snapshots},
                      {"snapshot_dir", snapshot_dir}};
  if (!image_dir.empty()) j["image_dir"] = image_dir;
  if (!boot_kernel.empty()) j["boot_kernel"] = boot_kernel;
  return j;
}

Result<VmSettings> VmSettings::from_json(const nlohmann::json& j) {
  VmSettings s;
  if (!j.is_object()) return Error("VM settings: not an object", EINVAL);
  for (const auto& [k, v] : j.items())
    if (auto ok = apply(s, k, v, "VM settings"); !ok) return ok.error();
  // Only ever derived (resolve_vm_settings), never taken from a config or an annotation.
  if (auto it = j.find("boot_kernel"); it != j.end() && it->is_string())
    s.boot_kernel = it->get<std::string>();
  return s;
}

std::string system_config_path() {
  const char* env = std::getenv(kConfigEnv);
  return env && *env ? env : kSystemConfig;
}

Result<VmSettings> resolve_vm_settings(const std::map<std::string, std::string>& annotations,
                                       const std::string& system_config) {
  VmSettings s = defaults();
  std::ifstream in(system_config);
  if (in) {
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Error(system_config + ": not a JSON object", EINVAL);
    for (const auto& [k, v] : j.items()) {
      if (k == "annotation_dirs") {
        if (!v.is_array())
          return Error(system_config + ": annotation_dirs: must be an array", EINVAL);
        for (const auto& d : v) {
          if (!d.is_string() || d.get_ref<const std::string&>().empty() ||
              d.get_ref<const std::string&>()[0] != '/')
            return Error(system_config + ": annotation_dirs: must hold absolute paths", EINVAL);
        }
        continue;
      }
      if (auto ok = apply(s, k, v, system_config); !ok) return ok.error();
    }
  }
  const std::string prefix = "io.runvm.vm.";
  std::vector<std::string> images;
  if (!s.image_dir.empty()) images.push_back(s.image_dir);
  for (auto& d : default_image_dirs()) images.push_back(d);
  std::vector<std::string> allowed = annotation_dirs(s, system_config);
  allowed.insert(allowed.end(), images.begin(), images.end());
  for (const auto& [k, v] : annotations) {
    if (k.rfind(prefix, 0) != 0) continue;
    // Which binary runs as the VMM is the host's choice, never the bundle's.
    const std::string key = k.substr(prefix.size());
    if (key == "vmm" || key == "max_memory_mib" || key == "max_vcpus" || key == "vmm_seccomp" ||
        key == "vmm_user" || key == "image_dir" || key == "snapshots" || key == "snapshot_dir")
      return Error("annotation " + k + ": not allowed (the host's choice)", EPERM);
    // A bundle naming any host file as kernel or initrd would load it into guest
    // memory, where the guest can read it: only files in the allowed directories.
    std::string value = v;
    if (key == "kernel" || key == "initrd") {
      auto real = inside_any(v, allowed);
      if (!real && key == "kernel") real = kernel_dir_match(v, s);
      if (!real) {
        std::string dirs;
        for (const auto& d : allowed) dirs += (dirs.empty() ? "" : ", ") + d;
        return Error("annotation " + k + ": " + v + " is not a file in the directories " +
                         "annotations may name (" + dirs + "; more via \"annotation_dirs\" in " +
                         system_config + ")",
                     EPERM);
      }
      value = *real;  // the resolved path: a symlink swapped later changes nothing
    }
    if (auto ok = apply(s, key, value, "annotation " + k); !ok) return ok.error();
    // A bundle may not size its VM beyond what the host allows.
    if (key == "memory_mib" && s.memory_mib > s.max_memory_mib)
      return Error("annotation " + k + ": " + v + " MiB is more than this host allows (" +
                       std::to_string(s.max_memory_mib) + " MiB; \"max_memory_mib\" in " +
                       system_config + ")",
                   EPERM);
    if (key == "vcpus" && s.vcpus > s.max_vcpus)
      return Error("annotation " + k + ": " + v + " vCPUs are more than this host allows (" +
                       std::to_string(s.max_vcpus) + "; \"max_vcpus\" in " + system_config + ")",
                   EPERM);
  }
  if (s.kernel.empty())
    return Error(
        "no guest kernel: install linux-image-cloud-amd64 or set \"kernel\" in " + system_config,
        ENOENT);
  if (!is_file(s.kernel)) return Error("guest kernel " + s.kernel + ": no such file", ENOENT);
  if (!s.initrd.empty() && !is_file(s.initrd))
    return Error("guest image " + s.initrd + ": no such file", ENOENT);
  if (auto ok = resolve_image(s, images, system_config); !ok) return ok.error();
  s.boot_kernel = s.kernel;
  if (s.uncompressed_kernel && !s.initrd.empty())
    if (auto copy = uncompressed_kernel_for(s.kernel, fs::path(s.initrd).parent_path().string()))
      s.boot_kernel = *copy;
  if (!is_file(s.vmm))
    return Error("runvm-vmm " + s.vmm + ": no such file (<prefix>/libexec/runvm/runvm-vmm, " +
                     "or \"vmm\" in " + system_config + ")",
                 ENOENT);
  return s;
}

}  // namespace runvm::runtime::vm
