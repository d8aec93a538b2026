#include "guest-init/boot.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/module.h>
#include <linux/vm_sockets.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

namespace runvm::guest {
namespace {

Status mkdir_p(const std::string& path) {
  std::string cur;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (!cur.empty() && ::mkdir(cur.c_str(), 0755) < 0 && errno != EEXIST)
      return Error::from_errno("mkdir " + cur);
    i = j + 1;
  }
  return {};
}

Status mount_fs(const char* src, const std::string& target, const char* type, unsigned long flags,
                const char* data) {
  if (auto s = mkdir_p(target); !s) return s;
  if (::mount(src, target.c_str(), type, flags, data) < 0 && errno != EBUSY)
    return Error::from_errno(std::string("mount ") + type + " on " + target);
  return {};
}

}  // namespace

Result<BootConfig> parse_cmdline(std::string_view cmdline) {
  BootConfig c;
  std::istringstream in{std::string(cmdline)};
  std::string word;
  while (in >> word) {
    size_t eq = word.find('=');
    if (word.rfind("runvm.", 0) != 0 || eq == std::string::npos) continue;
    std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == agent::kCmdlineRootfs) {
      size_t colon = value.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
        return Error("runvm.rootfs: expected <virtiofs|9p>:<tag>, got \"" + value + "\"", EINVAL);
      c.rootfs_fstype = value.substr(0, colon);
      c.rootfs_tag = value.substr(colon + 1);
      if (c.rootfs_fstype != "virtiofs" && c.rootfs_fstype != "9p")
        return Error("runvm.rootfs: unsupported filesystem \"" + c.rootfs_fstype + "\"", EINVAL);
    } else if (key == agent::kCmdlineShare) {
      bool ok = !value.empty() && value.size() <= 36;  // virtio-fs tags are at most 36 bytes
      for (char ch : value)
        ok = ok &&
             (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.');
      if (!ok || value[0] == '.')
        return Error("runvm.share: invalid tag \"" + value + "\"", EINVAL);
      c.shares.push_back(value);
    } else if (key == agent::kCmdlineModules) {
      if (value.empty() || value[0] != '/')
        return Error("runvm.modules: must be an absolute path", EINVAL);
      c.modules_list = value;
    } else if (key == agent::kCmdlineAgentSerial) {
      if (value.empty() || value.find('/') != std::string::npos)
        return Error("runvm.agent_serial: invalid port name \"" + value + "\"", EINVAL);
      c.agent_serial = value;
    } else if (key == agent::kCmdlineTemplate) {
      if (value != "1" && value != "0")
        return Error("runvm.template: must be 0 or 1, not \"" + value + "\"", EINVAL);
      c.template_vm = value == "1";
    } else if (key == agent::kCmdlineAgentPort) {
      uint32_t port = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
      if (ec != std::errc() || p != value.data() + value.size() || port == 0)
        return Error("runvm.agent_port: invalid port \"" + value + "\"", EINVAL);
      c.agent_port = port;
    }
  }
  return c;
}

Status mount_early_filesystems() {
  struct M {
    const char* src;
    const char* target;
    const char* type;
    unsigned long flags;
    const char* data;
  };
  const M kMounts[] = {
      {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
      {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
      {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
      {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620"},
      {"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
      {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
      {"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
  };
  for (const auto& m : kMounts)
    if (auto s = mount_fs(m.src, m.target, m.type, m.flags, m.data); !s) return s;
  // The kernel gives init /dev/console only if the initramfs has the node.
  if (fcntl(0, F_GETFD) < 0) {
    int fd = ::open("/dev/console", O_RDWR);
    if (fd >= 0) {
      for (int i = 0; i < 3; ++i)
        if (fd != i) dup2(fd, i);
      if (fd > 2) ::close(fd);
    }
  }
  return {};
}

std::vector<ModuleEntry> parse_module_list(std::string_view text) {
  std::vector<ModuleEntry> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    ModuleEntry m;
    if (!(words >> m.path) || m.path[0] == '#') continue;
    std::string word;
    while (words >> word) {
      if (word.rfind("pci=", 0) != 0) continue;  // words of later versions
      std::istringstream ids(word.substr(4));
      std::string id;
      while (std::getline(ids, id, ','))
        if (!id.empty()) {
          for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          m.pci.push_back(id);
        }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::set<std::string> present_pci_ids(const std::string& sysfs_dir) {
  std::set<std::string> ids;
  DIR* d = opendir(sysfs_dir.c_str());
  if (!d) return ids;
  auto hex = [](const std::string& file) {
    std::ifstream f(file);
    std::string v;
    f >> v;  // "0x1af4"
    if (v.rfind("0x", 0) == 0) v = v.substr(2);
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v;
  };
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string dev = sysfs_dir + "/" + e->d_name;
    std::string vendor = hex(dev + "/vendor"), device = hex(dev + "/device");
    if (!vendor.empty() && !device.empty()) ids.insert(vendor + ":" + device);
  }
  closedir(d);
  return ids;
}

bool module_wanted(const ModuleEntry& m, const std::set<std::string>& present) {
  if (m.pci.empty()) return true;
  for (const auto& id : m.pci)
    if (present.count(id)) return true;
  return false;
}

Status load_modules(const std::string& list_path, const std::string& pci_sysfs) {
  std::ifstream f(list_path);
  if (!f) return Error::from_errno("open module list " + list_path);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // PCI enumeration is done before the kernel runs init: the devices are all there.
  const std::set<std::string> present = present_pci_ids(pci_sysfs);
  for (const auto& m : parse_module_list(text)) {
    if (!module_wanted(m, present)) continue;
    const std::string& path = m.path;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::from_errno("open module " + path);
    unsigned flags = 0;
    if (path.ends_with(".xz") || path.ends_with(".zst") || path.ends_with(".gz"))
      flags |= MODULE_INIT_COMPRESSED_FILE;
    long rc = syscall(SYS_finit_module, fd, "", flags);
    int e = errno;
    ::close(fd);
    if (rc < 0 && e != EEXIST) return Error::from_errno("load module " + path, e);
  }
  return {};
}

Status mount_shared_rootfs(const BootConfig& cfg) {
  for (const auto& tag : cfg.shares) {
    std::string target = std::string(BootConfig::kSharesDir) + "/" + tag;
    // No flags of our own: the container's bind of the share takes the flags it asks for,
    // as a runc bind of a host directory does. Shared, like a systemd host's mounts, so
    // the container's propagation options (shared, slave, ...) act as they do under runc.
    if (auto s = mount_fs(tag.c_str(), target, "virtiofs", 0, nullptr); !s)
      return s.error().wrap("share " + tag);
    if (::mount(nullptr, target.c_str(), nullptr, MS_SHARED, nullptr) < 0)
      return Error::from_errno("make share " + tag + " shared");
  }
  if (cfg.rootfs_fstype == "9p")
    return mount_fs(cfg.rootfs_tag.c_str(), cfg.rootfs_target, "9p", 0,
                    "trans=virtio,version=9p2000.L,msize=262144,cache=mmap");
  return mount_fs(cfg.rootfs_tag.c_str(), cfg.rootfs_target, "virtiofs", 0, nullptr);
}

Result<int> open_virtio_port(const std::string& name, int timeout_ms) {
  for (int waited = 0;; waited += 50) {
    if (DIR* d = opendir("/sys/class/virtio-ports")) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream f(std::string("/sys/class/virtio-ports/") + e->d_name + "/name");
        std::string n;
        std::getline(f, n);
        if (n != name) continue;
        std::string dev = std::string("/dev/") + e->d_name;
        closedir(d);
        int fd = ::open(dev.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return Error::from_errno("open " + dev);
        return fd;
      }
      closedir(d);
    }
    if (waited >= timeout_ms) return Error("virtio-serial port \"" + name + "\" not found", ENOENT);
    usleep(50 * 1000);
  }
}

Result<int> listen_vsock(uint32_t port) {
  int fd = ::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::from_errno("vsock socket");
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = VMADDR_CID_ANY;
  addr.svm_port = port;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(fd, 16) < 0) {
    int e = errno;
    ::close(fd);
    return Error::from_errno("vsock listen on port " + std::to_string(port), e);
  }
  return fd;
}

}  // namespace runvm::guest
