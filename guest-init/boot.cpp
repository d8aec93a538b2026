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

std::vector<std::string> parse_module_list(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    size_t e = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(b, e - b + 1));
  }
  return out;
}

Status load_modules(const std::string& list_path) {
  std::ifstream f(list_path);
  if (!f) return Error::from_errno("open module list " + list_path);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  for (const auto& path : parse_module_list(text)) {
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
