// The jail is entered in a forked child each time: it lasts for the process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/vmm/core/synthetic_kernel.h"
#include "vmm/devices/virtio/attach.h"
#include "vmm/jail/capabilities.h"
#include "vmm/jail/fd_limits.h"
#include "vmm/jail/jail.h"
#include "vmm/kvm/machine.h"

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
      return v.substr(v.find_first_not_of(" \t"));
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
    char tmpl[] = "/tmp/runvm-jail-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directory(dir_ + "/share");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // The machine runvm-vmm builds, jailed: every virtio device set up (a
  // virtio-fs and a 9p share, vsock), console to a file.
  VmConfig config(const std::vector<uint8_t>& code) {
    test::write_synthetic_bzimage(dir_ + "/kernel", code);
    VmConfig cfg;
    cfg.kernel = dir_ + "/kernel";
    cfg.memory_mib = 64;
    cfg.cpus = 2;
    cfg.console.kind = ConsoleConfig::Kind::File;
    cfg.console.path = dir_ + "/console";
    cfg.vsock_cid = 3;
    cfg.vsock_uds = dir_ + "/vsock.sock";
    cfg.shared_dirs.push_back({SharedDir::Kind::VirtioFs, "root", dir_ + "/share", false});
    cfg.shared_dirs.push_back({SharedDir::Kind::P9, "vol", dir_ + "/share", true});
    cfg.jail.enabled = true;
    return cfg;
  }
  static int run(const VmConfig& cfg) {
    auto r = run_machine(cfg, [](DeviceManager& dm, const VmConfig& c) -> Status {
      return add_virtio_devices(dm, c);
    });
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().what().c_str());
      return 100;
    }
    return r->exit_status;
  }
  std::string dir_;
};

TEST_F(JailedMachine, GuestWritesToTheConsoleAndResets) {
  // mov dx, 0x3f8; mov al, 'o'; out dx, al; mov al, 'k'; out dx, al;
  // mov al, 0xfe; out 0x64, al; jmp $
  auto cfg = config({0x66, 0xba, 0xf8, 0x03, 0xb0, 'o', 0xee, 0xb0, 'k', 0xee, 0xb0, 0xfe, 0xe6,
                     0x64, 0xeb, 0xfe});
  int st = in_child([&] { return run(cfg); });
  ASSERT_TRUE(WIFEXITED(st)) << "jailed VMM died by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  std::stringstream ss;
  ss << std::ifstream(dir_ + "/console").rdbuf();
  EXPECT_EQ(ss.str(), "ok");
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
