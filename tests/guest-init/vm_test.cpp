// runvm-init in a real guest kernel: QEMU (TCG, so no KVM needed) boots the
// distro's generic kernel with the initramfs from packaging/guest, the rootfs
// (a busybox) shared over 9p, and the agent reached over a virtio-serial port
// (runvm.agent_serial; vsock needs vhost-vsock on the host). Checks boot steps,
// module loading, the rootfs mount and the agent protocol end to end.
// Skipped when QEMU, a generic kernel or busybox is missing, or with
// RUNVM_SKIP_VM_TESTS=1. Paths come from CMake: RUNVM_INIT_BINARY, RUNVM_INITRAMFS_SCRIPT.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "agent/host_client.h"
#include "tests/support/temp_dir.h"

namespace runvm::guest {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string find_in_path(const std::string& name) {
  const char* p = getenv("PATH");
  std::string path = p ? p : "/usr/bin:/bin";
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find(':', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i) + "/" + name;
    if (access(c.c_str(), X_OK) == 0) return c;
    i = j + 1;
  }
  return "";
}

// The newest generic (non-cloud) Debian kernel: it has 9p as modules.
std::string generic_kernel(std::string* version) {
  std::string best;
  for (const auto& e : fs::directory_iterator("/boot")) {
    std::string n = e.path().filename();
    if (n.rfind("vmlinuz-", 0) != 0 || n.find("cloud") != std::string::npos) continue;
    std::string v = n.substr(8);
    if (!fs::is_directory("/lib/modules/" + v)) continue;
    if (best.empty() || v > *version) {
      best = e.path();
      *version = v;
    }
  }
  return best;
}

class GuestVm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* s = getenv("RUNVM_SKIP_VM_TESTS"); s && std::string(s) == "1")
      GTEST_SKIP() << "RUNVM_SKIP_VM_TESTS=1";
    qemu_ = find_in_path("qemu-system-x86_64");
    busybox_ = find_in_path("busybox");
    kernel_ = generic_kernel(&kver_);
    if (qemu_.empty() || busybox_.empty() || kernel_.empty())
      GTEST_SKIP() << "needs qemu-system-x86_64, busybox and a generic kernel in /boot";
    std::string initrd = dir_ + "/initrd.img";
    std::string cmd = std::string("bash ") + RUNVM_INITRAMFS_SCRIPT + " --init " +
                      RUNVM_INIT_BINARY + " --kernel " + kver_ + " --output " + initrd + " > " +
                      dir_ + "/initramfs.log 2>&1";
    ASSERT_EQ(system(cmd.c_str()), 0) << "initramfs build failed, see " << dir_;
    std::string rootfs = dir_ + "/rootfs";
    fs::create_directories(rootfs + "/bin");
    fs::copy_file(busybox_, rootfs + "/bin/busybox");
    fs::create_symlink("busybox", rootfs + "/bin/sh");
    std::ofstream(rootfs + "/marker") << "from-the-host";

    sock_ = dir_ + "/agent.sock";
    qemu_pid_ = fork();
    ASSERT_GE(qemu_pid_, 0);
    if (qemu_pid_ == 0) {
      std::string log = dir_ + "/console.log";
      freopen(log.c_str(), "w", stdout);
      freopen(log.c_str(), "a", stderr);
      std::string fsdev = "local,path=" + rootfs + ",mount_tag=rootfs,security_model=none,id=fs0";
      std::string chardev = "socket,id=agent,path=" + sock_ + ",server=on,wait=on";
      execl(qemu_.c_str(), qemu_.c_str(), "-accel", "tcg", "-m", "512", "-smp", "1", "-nographic",
            "-no-reboot", "-nodefaults", "-serial", "stdio", "-kernel", kernel_.c_str(), "-initrd",
            initrd.c_str(), "-append",
            "console=ttyS0 panic=-1 quiet runvm.rootfs=9p:rootfs runvm.agent_serial=runvm.agent",
            "-virtfs", fsdev.c_str(), "-chardev", chardev.c_str(), "-device", "virtio-serial-pci",
            "-device", "virtserialport,chardev=agent,name=runvm.agent",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_.c_str());
    bool connected = false;
    for (int i = 0; i < 300 && !connected; ++i) {
      connected = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      if (!connected) usleep(100 * 1000);
    }
    ASSERT_TRUE(connected) << "QEMU did not open " << sock_;
    // A boot under TCG takes tens of seconds; never hang the suite on it.
    timeval tv{300, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    client_ = std::make_unique<agent::Client>(fd_);
  }
  void TearDown() override {
    client_.reset();
    if (fd_ >= 0) close(fd_);
    if (qemu_pid_ > 0) {
      kill(qemu_pid_, SIGKILL);
      waitpid(qemu_pid_, nullptr, 0);
    }
    if (HasFailure() && !dir_.empty()) {
      std::ifstream f(dir_ + "/console.log");
      std::string log((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      std::cerr << "---- guest console ----\n" << log << "\n----\n";
    }
  }

  // Reads events (of any process: they interleave) until `handle` sent `streams`
  // EOFs (2, or 1 for a terminal) and its exit.
  agent::ExitStatus collect(uint32_t handle, std::string* out, int streams = 2) {
    while (eofs_[handle] < streams || !exits_.count(handle)) {
      auto e = client_->next_event(120000);
      if (!e) {
        ADD_FAILURE() << e.error().message;
        return {};
      }
      if (auto* d = std::get_if<agent::DataMsg>(&*e)) {
        if (d->bytes.empty()) ++eofs_[d->handle];
        bufs_[d->handle] += d->bytes;
      } else if (auto* x = std::get_if<agent::ExitEvent>(&*e)) {
        exits_[x->handle] = x->status;
      }
    }
    *out = bufs_[handle];
    return exits_[handle];
  }
  std::map<uint32_t, std::string> bufs_;
  std::map<uint32_t, int> eofs_;
  std::map<uint32_t, agent::ExitStatus> exits_;

  std::string qemu_, busybox_, kernel_, kver_, sock_;
  runvm::testing::TempDir tmp_;
  std::string dir_ = tmp_.path();
  pid_t qemu_pid_ = -1;
  int fd_ = -1;
  std::unique_ptr<agent::Client> client_;
};

TEST_F(GuestVm, BootsAndRunsAContainerProcessThroughTheAgent) {
  auto h = client_->hello();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->agent, "runvm-init");
  json config = {
      {"ociVersion", "1.2.0"},
      {"root", {{"path", "rootfs"}}},
      {"hostname", "vmbox"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}}}},
      {"process",
       {{"args",
         {"/bin/sh", "-c",
          "cat /marker; echo; cat /proc/sys/kernel/hostname; id -u; read line; echo got:$line; "
          "exit 3"}},
        {"env", {"PATH=/bin"}},
        {"cwd", "/"},
        {"user", {{"uid", 1000}, {"gid", 1000}}}}},
      {"linux", {{"namespaces", {{{"type", "mount"}}, {{"type", "uts"}}}}}}};
  auto p = client_->create("vmctr", config, /*stdin=*/true);
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(client_->start());
  // While init waits on stdin: ps, and an exec on a guest pty joining the container.
  auto pids = client_->ps();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_NE(std::find(pids->begin(), pids->end(), p->pid), pids->end());
  json tty = {{"args", {"/bin/busybox", "stty", "size"}},
              {"env", {"PATH=/bin"}},
              {"cwd", "/"},
              {"terminal", true},
              {"consoleSize", {{"height", 30}, {"width", 100}}}};
  auto t = client_->exec("t1", tty);
  ASSERT_TRUE(t) << t.error().message;
  std::string tty_out;
  auto tst = collect(t->handle, &tty_out, 1);
  EXPECT_EQ(tty_out, "30 100\r\n");
  EXPECT_EQ(tst.host_code(), 0);
  ASSERT_TRUE(client_->write_stdin(p->handle, "ping\n"));
  ASSERT_TRUE(client_->close_stdin("init"));
  std::string out;
  auto st = collect(p->handle, &out);
  EXPECT_EQ(out, "from-the-host\nvmbox\n1000\ngot:ping\n");
  EXPECT_EQ(st.host_code(), 3);
}

}  // namespace
}  // namespace runvm::guest
