// The jail is entered in a forked child each time: it lasts for the process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/proc_self.h"
#include "base/unique_fd.h"
#include "base/unix_address.h"
#include "tests/support/temp_dir.h"
#include "tests/vmm/core/synthetic_kernel.h"
#include "vmm/devices/pci_devices.h"
#include "vmm/jail/capabilities.h"
#include "vmm/jail/fd_limits.h"
#include "vmm/jail/jail.h"
#include "vmm/jail/mount_jail.h"
#include "vmm/machine/machine.h"

namespace runvm::vmm {
namespace {

// Runs `body` in a child and returns its wait status; the child's stdout/stderr
// are the test's.
int in_child(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

std::string status_field(const std::string& status, const std::string& key) {
  std::istringstream in(status);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      auto v = line.substr(key.size() + 1);
      auto at = v.find_first_not_of(" \t");
      return at == std::string::npos ? "" : v.substr(at);
    }
  }
  return "";
}

bool running_as_root_with_caps() {
  std::ifstream f("/proc/self/status");
  std::stringstream ss;
  ss << f.rdbuf();
  return geteuid() == 0 && status_field(ss.str(), "CapEff") == "000001ffffffffff";
}

uint64_t kept_mask() {
  uint64_t m = 0;
  for (cap_value_t c : jail::vmm_kept_capabilities()) m |= uint64_t{1} << c;
  return m;
}

TEST(Jail, StatusShowsCapabilitiesNoNewPrivsSeccompAndAFrozenFdLimit) {
  char path[] = "/tmp/runvm-jail-status-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  int st = in_child([&] {
    JailConfig cfg;
    cfg.enabled = true;
    if (auto s = jail::enter_jail(cfg); !s) {
      std::fprintf(stderr, "%s\n", s.error().what().c_str());
      return 10;
    }
    // Read and write with what the allow-list has: openat, read, write.
    std::ifstream in("/proc/self/status");
    std::stringstream ss;
    ss << in.rdbuf();
    struct rlimit rl {};
    getrlimit(RLIMIT_NOFILE, &rl);
    struct rlimit core {};
    getrlimit(RLIMIT_CORE, &core);
    std::ofstream(path) << ss.str() << "NofileSoftIsHard:\t" << (rl.rlim_cur == rl.rlim_max)
                        << "\nNoCore:\t" << (core.rlim_cur == 0 && core.rlim_max == 0) << "\n";
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << "child died by signal " << WTERMSIG(st);
  ASSERT_EQ(WEXITSTATUS(st), 0);
  std::stringstream ss;
  ss << std::ifstream(path).rdbuf();
  unlink(path);
  std::string status = ss.str();
  EXPECT_EQ(status_field(status, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(status, "Seccomp"), "2");
  EXPECT_EQ(status_field(status, "NofileSoftIsHard"), "1");
  EXPECT_EQ(status_field(status, "NoCore"), "1");
  EXPECT_EQ(status_field(status, "CapInh"), "0000000000000000");
  EXPECT_EQ(status_field(status, "CapAmb"), "0000000000000000");
  if (running_as_root_with_caps()) {
    char want[17];
    std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(kept_mask()));
    EXPECT_EQ(status_field(status, "CapEff"), want);
    EXPECT_EQ(status_field(status, "CapPrm"), want);
    EXPECT_EQ(status_field(status, "CapBnd"), want);
  }
}

// The filesystem servers keep working for overlayfs in the guest without
// CAP_MKNOD (whiteouts need none since Linux 5.8), while a device node is now
// refused by the host kernel too, not only by the share policy.
TEST(Jail, WhiteoutsButNoDeviceNodesWithTheKeptCapabilities) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  runvm::testing::TempDir dir;
  const std::string& d = dir.path();
  int st = in_child([&] {
    if (auto s = jail::drop_vmm_capabilities(); !s) {
      std::fprintf(stderr, "%s\n", s.error().what().c_str());
      return 10;
    }
    if (mknod((d + "/wh").c_str(), S_IFCHR, makedev(0, 0)) != 0) return 11;
    std::ofstream(d + "/f") << "x";
    if (renameat2(AT_FDCWD, (d + "/f").c_str(), AT_FDCWD, (d + "/g").c_str(), RENAME_WHITEOUT) != 0)
      return 12;
    if (mknod((d + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0 || errno != EPERM)
      return 13;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << "child died by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0) << "10: drop failed, 11: whiteout mknod, 12: RENAME_WHITEOUT, "
                                   "13: device node not refused";
}

// The mount jail on its own: only the listed directories remain, read-only
// ones read-only, submounts kept, the process's own /proc entry still usable.
class MountJail : public ::testing::TestWithParam<bool> {};

// The same with pivot_root and with the chroot fallback of initramfs hosts.
INSTANTIATE_TEST_SUITE_P(PivotAndChroot, MountJail, ::testing::Bool());

TEST_P(MountJail, OnlyTheListedDirectoriesRemain) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_SYS_ADMIN)";
  runvm::testing::TempDir dir;
  const std::string& d = dir.path();
  for (const char* sub : {"/rw", "/rw/inner", "/ro", "/hidden", "/sub", "/subsrc"})
    ASSERT_EQ(mkdir((d + sub).c_str(), 0755), 0);
  std::ofstream(d + "/ro/file") << "r";
  std::ofstream(d + "/hidden/secret") << "s";
  std::ofstream(d + "/subsrc/marker") << "m";
  // A directory named through a symlink (Docker's /var/run -> /run).
  ASSERT_EQ(symlink((d + "/ro").c_str(), (d + "/rolink").c_str()), 0);
  // A socket path longer than sun_path (Docker's state directories).
  const std::string deep = d + "/rw/" + std::string(100, 'd');
  ASSERT_EQ(mkdir(deep.c_str(), 0755), 0);
  auto ns = [](const char* t) {
    char buf[64] = {};
    return readlink((std::string("/proc/self/ns/") + t).c_str(), buf, sizeof buf - 1) > 0
               ? std::string(buf)
               : std::string();
  };
  const std::string host_net = ns("net"), host_ipc = ns("ipc"), host_uts = ns("uts");
  int st = in_child([&] {
    // A submount under a share (like runvm's file binds) must stay visible.
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr))
      return 9;
    if (mount((d + "/subsrc").c_str(), (d + "/rw/inner").c_str(), nullptr, MS_BIND, nullptr))
      return 9;
    auto s = jail::enter_mount_jail(
        {{d + "/rw", false}, {d + "/ro", true}, {d + "/rw/inner", true}, {d + "/rolink/", true}});
    if (!s) {
      std::fprintf(stderr, "%s\n", s.error().what().c_str());
      return 10;
    }
    if (access("/etc/passwd", F_OK) == 0 || access("/usr", F_OK) == 0) return 11;
    if (access((d + "/hidden/secret").c_str(), F_OK) == 0) return 12;
    if (access((d + "/ro/file").c_str(), R_OK) != 0) return 13;
    if (open((d + "/ro/new").c_str(), O_CREAT | O_WRONLY, 0644) >= 0 || errno != EROFS) return 14;
    int w = open((d + "/rw/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (w < 0) return 15;
    close(w);
    if (access((d + "/rw/inner/marker").c_str(), F_OK) != 0) return 16;
    if (access((d + "/rolink/file").c_str(), R_OK) != 0) return 22;
    {
      auto addr = unix_address(deep + "/vsock.sock");
      UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!addr || bind(sock.get(), addr->get(), addr->len) != 0) return 23;
    }
    if (access("/proc/self/fd", F_OK) != 0 || access("/proc/sys", F_OK) == 0) return 24;
    if (ns("net").empty() || ns("net") == host_net || ns("ipc") == host_ipc ||
        ns("uts") == host_uts)
      return 25;
    if (mkdir("/newdir", 0755) == 0 || errno != EROFS) return 17;
    int fds = openat(proc_self_dir(), "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fds < 0) return 18;
    close(fds);
    // The kept /proc entry is of a private pid-only instance: no way up to
    // /proc/sys, and init is hidden once this process may not ptrace it.
    if (faccessat(proc_self_dir(), "../sys/kernel/core_pattern", F_OK, 0) == 0) return 20;
    if (!jail::drop_vmm_capabilities()) return 9;
    if (faccessat(proc_self_dir(), "../1/root", F_OK, AT_SYMLINK_NOFOLLOW) == 0) return 21;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || std::string(cwd) != "/") return 19;
    return 0;
  });
  bool wrote = access((d + "/rw/new").c_str(), F_OK) == 0;
  ASSERT_TRUE(WIFEXITED(st)) << "child died by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0)
      << "9: test set-up, 10: enter failed, 11: host files visible, 12: an unlisted directory "
         "visible, 13: ro dir unreadable, 14: ro dir writable, 15: rw dir not writable, 16: "
         "submount lost, 17: the new root writable, 18: /proc/<pid>/fd lost, 19: cwd, 20: "
         "/proc/sys reachable, 21: pid 1 visible, 22: a symlinked path lost, 23: a long socket "
         "path, 24: /proc in the new root, 25: net/ipc/uts namespaces not its own";
  EXPECT_TRUE(wrote) << "a write in the rw directory did not reach the host";
}

TEST(MountJailDirs, DirectoriesOfAConfig) {
  VmConfig cfg;
  cfg.shared_dirs.push_back({SharedDir::Kind::VirtioFs, "rootfs", "/a/rootfs", false});
  cfg.shared_dirs.push_back({SharedDir::Kind::P9, "vol", "/v", true});
  cfg.vsock_uds = "/run/x/vsock.sock";
  cfg.console.kind = ConsoleConfig::Kind::File;
  cfg.console.path = "/run/x/console.log";
  auto dirs = jail::jail_dirs(cfg);
  ASSERT_EQ(dirs.size(), 4u);
  EXPECT_EQ(dirs[0].path, "/a/rootfs");
  EXPECT_FALSE(dirs[0].read_only);
  EXPECT_EQ(dirs[1].path, "/v");
  EXPECT_TRUE(dirs[1].read_only);
  EXPECT_EQ(dirs[2].path, "/run/x");
  EXPECT_EQ(dirs[3].path, "/run/x");
}

TEST(Jail, AForbiddenSyscallKillsTheProcess) {
  int st = in_child([] {
    JailConfig cfg;
    cfg.enabled = true;
    if (!jail::enter_jail(cfg)) return 10;
    jail::make_forbidden_syscall();  // execve: would exit 0 if let through
    return 11;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "exit status " << WEXITSTATUS(st);
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

// KVM ioctls are pinned to their fd: /dev/null stands in for the VM and vCPU fds
// (the ioctl then fails with ENOTTY, which shows the filter let it through).
int ioctl_in_jail(bool vm_fd, unsigned long request) {
  return in_child([&] {
    int vm = open("/dev/null", O_RDONLY), vcpu = open("/dev/null", O_RDONLY);
    JailConfig cfg;
    cfg.enabled = true;
    if (!jail::enter_jail(cfg, jail::KvmFds{vm, {vcpu}})) return 10;
    errno = 0;
    int r = ioctl(vm_fd ? vm : vcpu, request, 0);
    return r < 0 && errno == ENOTTY ? 0 : 11;
  });
}

TEST(Jail, KvmIoctlsArePinnedToTheirFd) {
  int st = ioctl_in_jail(false, KVM_RUN);
  ASSERT_TRUE(WIFEXITED(st)) << "KVM_RUN on the vCPU fd: signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  st = ioctl_in_jail(true, KVM_IRQFD);
  ASSERT_TRUE(WIFEXITED(st)) << "KVM_IRQFD on the VM fd: signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  // The wrong fd, or a request a running VM never makes.
  const std::pair<bool, unsigned long> refused[] = {{true, KVM_RUN},
                                                    {false, KVM_IRQFD},
                                                    {true, KVM_CREATE_VCPU},
                                                    {true, KVM_SET_USER_MEMORY_REGION},
                                                    {false, KVM_SET_REGS}};
  for (auto [vm_fd, request] : refused) {
    st = ioctl_in_jail(vm_fd, request);
    ASSERT_TRUE(WIFSIGNALED(st)) << "request 0x" << std::hex << request << " on the "
                                 << (vm_fd ? "VM" : "vCPU") << " fd was let through";
    EXPECT_EQ(WTERMSIG(st), SIGSYS);
  }
}

TEST(Jail, ForkIsRefusedThreadsAreNot) {
  int st = in_child([] {
    JailConfig cfg;
    cfg.enabled = true;
    if (!jail::enter_jail(cfg)) return 10;
    bool ran = false;
    std::thread([&] { ran = true; }).join();
    if (!ran) return 12;
    // fork() is clone without CLONE_THREAD (clone3 first, which says ENOSYS).
    pid_t p = fork();
    if (p == 0) _exit(0);
    return 13;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "exit status " << WEXITSTATUS(st);
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(Jail, InheritedFdsAreClosedButTheKeptOnes) {
  int st = in_child([] {
    int null = open("/dev/null", O_RDONLY);
    for (int fd : {5, 7, 9, 40}) dup2(null, fd);
    const int keep[] = {7, 40};
    if (!jail::close_inherited_fds(keep)) return 10;
    for (int fd : {5, 9, null == 7 || null == 40 ? -1 : null})
      if (fd >= 0 && fcntl(fd, F_GETFD) != -1) return 11;
    for (int fd : {0, 1, 2, 7, 40})
      if (fcntl(fd, F_GETFD) == -1) return 12;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(Jail, RefusedWhenThreadsAlreadyRun) {
  int st = in_child([] {
    std::mutex mu;
    mu.lock();
    std::thread t([&] { std::lock_guard lk(mu); });
    JailConfig cfg;
    cfg.enabled = true;
    auto s = jail::enter_jail(cfg);
    mu.unlock();
    t.join();
    if (s) return 20;
    return s.error().what().find("single-threaded") != std::string::npos ? 0 : 21;
  });
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

class JailedMachine : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/kvm not available";
    std::filesystem::create_directory(dir_ / "share");
  }
  // The machine runvm-vmm builds, jailed: every virtio device set up (a
  // virtio-fs and a 9p share, vsock), console to a file.
  VmConfig config(const std::vector<uint8_t>& code) {
    test::write_synthetic_bzimage(dir_ / "kernel", code);
    VmConfig cfg;
    cfg.kernel = dir_ / "kernel";
    cfg.memory_mib = 64;
    cfg.cpus = 2;
    cfg.console.kind = ConsoleConfig::Kind::File;
    cfg.console.path = dir_ / "console";
    cfg.vsock_cid = 3;
    cfg.vsock_uds = dir_ / "vsock.sock";
    cfg.shared_dirs.push_back({SharedDir::Kind::VirtioFs, "root", dir_ / "share", false});
    cfg.shared_dirs.push_back({SharedDir::Kind::P9, "vol", dir_ / "share", true});
    cfg.jail.enabled = true;
    return cfg;
  }
  static int run(const VmConfig& cfg) {
    auto r = run_machine(
        cfg, [](DeviceManager& dm, const VmConfig& c) -> Status { return add_pci_devices(dm, c); });
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().what().c_str());
      return 100;
    }
    return r->exit_status;
  }
  std::string console_text() const {
    std::stringstream ss;
    ss << std::ifstream(dir_ / "console").rdbuf();
    return ss.str();
  }
  // mov dx, 0x3f8; mov al, 'o'; out dx, al; mov al, 0xfe; out 0x64, al (reset); jmp $
  static std::vector<uint8_t> say_o_and_reset() {
    return {0x66, 0xba, 0xf8, 0x03, 0xb0, 'o', 0xee, 0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe};
  }
  runvm::testing::TempDir dir_;
};

TEST_F(JailedMachine, GuestWritesToTheConsoleAndResets) {
  // mov dx, 0x3f8; mov al, 'o'; out dx, al; mov al, 'k'; out dx, al;
  // mov al, 0xfe; out 0x64, al; jmp $
  auto cfg = config({0x66, 0xba, 0xf8, 0x03, 0xb0, 'o', 0xee, 0xb0, 'k', 0xee, 0xb0, 0xfe, 0xe6,
                     0x64, 0xeb, 0xfe});
  int st = in_child([&] {
    if (int rc = run(cfg); rc != 0) return rc;
    // Still in the VMM's root (a root user's machine gets the mount jail): its
    // share is there, the host's files are not.
    if (geteuid() != 0) return 0;
    if (access("/etc/passwd", F_OK) == 0 || access("/proc/sys", F_OK) == 0) return 50;
    if (access((dir_ / "share").c_str(), F_OK) != 0) return 51;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << "jailed VMM died by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0) << "50: host files visible after the run, 51: share gone";
  EXPECT_EQ(console_text(), "ok");
}

TEST_F(JailedMachine, RunsAsTheVmmUserWithOnlyTheFilesystemCapabilities) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  auto cfg = config(say_o_and_reset());
  cfg.jail.uid = 65534;
  cfg.jail.gid = 65533;
  int st = in_child([&] {
    if (int rc = run(cfg); rc != 0) return rc;
    // From /proc (getresuid and friends are outside the jail's filter). The kept
    // capabilities are still effective (the filesystem servers need them), no more.
    std::stringstream status;
    status << std::ifstream("/proc/self/status").rdbuf();
    if (status_field(status.str(), "Uid") != "65534\t65534\t65534\t65534") return 60;
    if (status_field(status.str(), "Gid") != "65533\t65533\t65533\t65533") return 61;
    if (!status_field(status.str(), "Groups").empty()) return 62;
    return status_field(status.str(), "CapEff") == "000000008000001f" ? 0 : 63;
  });
  ASSERT_TRUE(WIFEXITED(st)) << "jailed VMM died by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0) << "60/61: ids, 62: groups, 63: capabilities";
  EXPECT_EQ(console_text(), "o");
}

TEST_F(JailedMachine, AVcpuThreadMayNotMakeWhatTheMainThreadMay) {
  // eventfd2 is in the main thread's filter (the event loop's table) but not in
  // a vCPU thread's own: the vCPU dies by SIGSYS, the main thread may make it.
  auto cfg = config({0xeb, 0xfe});
  cfg.jail.test_vcpu_forbidden_syscall = true;
  int st = in_child([&] { return run(cfg); });
  ASSERT_TRUE(WIFSIGNALED(st)) << "exit status " << WEXITSTATUS(st);
  EXPECT_EQ(WTERMSIG(st), SIGSYS);

  cfg = config(say_o_and_reset());
  st = in_child([&] {
    if (int rc = run(cfg); rc != 0) return rc;
    int fd = ::eventfd(0, EFD_CLOEXEC);  // the main thread, still jailed
    return fd >= 0 ? 0 : 60;
  });
  ASSERT_TRUE(WIFEXITED(st)) << "jailed VMM died by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST_F(JailedMachine, TestFlagMakesAForbiddenSyscallThatKillsIt) {
  auto cfg = config({0xeb, 0xfe});
  cfg.jail.test_forbidden_syscall = true;
  int st = in_child([&] { return run(cfg); });
  ASSERT_TRUE(WIFSIGNALED(st)) << "exit status " << WEXITSTATUS(st);
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

}  // namespace
}  // namespace runvm::vmm
