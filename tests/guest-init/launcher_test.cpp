// The guest's whole container path on the host: the agent server with
// GuestLauncher in a forked child (own mount and UTS namespaces), a rootfs built
// from bind mounts of the host's /usr, and a process whose output shows that
// hostname, user, groups, cwd, rlimits, capabilities, no_new_privs and seccomp
// were applied; an exec joins the same rootfs.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/guest_server.h"
#include "agent/host_client.h"
#include "guest-init/container_setup.h"
#include "tests/guest-init/child.h"
#include "tests/support/temp_dir.h"

namespace runvm::guest {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class GuestLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    chmod(root_.c_str(), 0755);  // TempDir makes it 0700; the container user must get in
    fs::create_directories(root_ + "/work");
    fs::create_directories(root_ + "/etc");
    std::ofstream(root_ + "/marker") << "inside";
    // Reuse the host's userland: /usr is bind-mounted, the merged-/usr links copied.
    mounts_ = json::array();
    mounts_.push_back({{"destination", "/usr"},
                       {"type", "bind"},
                       {"source", "/usr"},
                       {"options", {"rbind", "ro"}}});
    for (const char* d : {"bin", "sbin", "lib", "lib64"}) {
      std::string host = std::string("/") + d;
      if (fs::is_symlink(host))
        fs::create_symlink(fs::read_symlink(host), root_ + "/" + d);
      else if (fs::is_directory(host))
        mounts_.push_back({{"destination", host},
                           {"type", "bind"},
                           {"source", host},
                           {"options", {"rbind", "ro"}}});
    }
    mounts_.push_back({{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}});
    mounts_.push_back({{"destination", "/dev"},
                       {"type", "tmpfs"},
                       {"source", "tmpfs"},
                       {"options", {"nosuid", "mode=755"}}});
    mounts_.push_back({{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}});

    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    std::string root = root_;
    server_ = fork();
    ASSERT_GE(server_, 0);
    if (server_ == 0) {
      close(sv[0]);
      if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0) _exit(10);
      if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) _exit(11);
      prctl(PR_SET_CHILD_SUBREAPER, 1);
      GuestLauncher launcher(root);
      agent::ServerOptions o;
      o.keep_running = false;
      agent::Server s(launcher, o);
      s.add_connection(sv[1]);
      _exit(s.run() ? 0 : 1);
    }
    close(sv[1]);
    fd_ = sv[0];
    client_ = std::make_unique<agent::Client>(fd_);
    ASSERT_TRUE(client_->hello());
  }
  void TearDown() override {
    client_.reset();
    if (fd_ >= 0) close(fd_);
    if (server_ > 0) {
      int ws;
      waitpid(server_, &ws, 0);
      EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
    }
  }

  json config(json process) {
    return json{
        {"ociVersion", "1.2.0"},
        {"root", {{"path", root_}}},
        {"hostname", "guestbox"},
        {"mounts", mounts_},
        {"process", process},
        {"linux",
         {{"namespaces", {{{"type", "mount"}}, {{"type", "uts"}}, {{"type", "pid"}}}},
          {"seccomp",
           {{"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}}}}}};
  }

  struct Out {
    std::string out, err;
    agent::ExitStatus status;
  };
  Out collect(uint32_t handle) {
    Out o;
    int eofs = 0;
    bool exited = false;
    while (eofs < 2 || !exited) {
      auto e = client_->next_event(20000);
      if (!e) {
        ADD_FAILURE() << e.error().message;
        break;
      }
      if (auto* d = std::get_if<agent::DataMsg>(&*e); d && d->handle == handle) {
        if (d->bytes.empty()) ++eofs;
        (d->stream == agent::Stream::kStdout ? o.out : o.err) += d->bytes;
      } else if (auto* x = std::get_if<agent::ExitEvent>(&*e); x && x->handle == handle) {
        o.status = x->status;
        exited = true;
      }
    }
    return o;
  }

  runvm::testing::TempDir tmp_;
  std::string root_ = tmp_.path();
  json mounts_;
  pid_t server_ = -1;
  int fd_ = -1;
  std::unique_ptr<agent::Client> client_;
};

TEST_F(GuestLauncherTest, InitProcessRunsInTheConfiguredContainer) {
  json process = {
      {"args",
       {"/bin/sh", "-c",
        "cat /proc/sys/kernel/hostname; id -u; id -G; pwd; ulimit -n; "
        "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; cat /marker; echo; "
        "mkdir /tmp/x 2>/dev/null || echo mkdir-denied; echo pid=$$; exit 5"}},
      {"env", {"PATH=/usr/bin:/bin"}},
      {"cwd", "/work"},
      {"user", {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {2000}}}},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", 123}, {"hard", 456}}}},
      {"noNewPrivileges", true},
      {"capabilities",
       {{"bounding", {"CAP_KILL", "CAP_CHOWN"}},
        {"effective", {"CAP_KILL"}},
        {"permitted", {"CAP_KILL"}},
        // A non-root user keeps capabilities across execve only through the ambient set.
        {"inheritable", {"CAP_KILL"}},
        {"ambient", {"CAP_KILL"}}}}};
  auto p = client_->create("ctr", config(process));
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(client_->start());
  auto o = collect(p->handle);
  EXPECT_EQ(o.out,
            "guestbox\n1000\n1000 2000\n/work\n123\n"
            "CapEff:\t0000000000000020\nCapBnd:\t0000000000000021\nNoNewPrivs:\t1\n"
            "inside\nmkdir-denied\npid=1\n");  // pid 1 of its own pid namespace, as under runc
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.status.host_code(), 5);
}

TEST_F(GuestLauncherTest, ExecJoinsTheContainerRootfs) {
  // pid 1 of a pid namespace gets no signal it has no handler for (runc's containers too).
  json init = {{"args", {"/bin/sh", "-c", "trap 'exit 143' TERM; while :; do sleep 0.1; done"}},
               {"env", {"PATH=/usr/bin:/bin"}},
               {"cwd", "/"}};
  auto p = client_->create("ctr", config(init));
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(client_->start());
  // The exec joins init's pid namespace: pid 1 there is init, and /proc shows that namespace.
  json ex = {{"args",
              {"/bin/sh", "-c",
               "cat /marker; echo; id -u; pwd; tr '\\0' ' ' </proc/1/cmdline | cut -c1-21"}},
             {"env", {"PATH=/usr/bin:/bin"}},
             {"cwd", "/work"}};
  auto e = client_->exec("e1", ex);
  ASSERT_TRUE(e) << e.error().message;
  auto o = collect(e->handle);
  EXPECT_EQ(o.out, "inside\n0\n/work\n/bin/sh -c trap 'exit\n");
  EXPECT_EQ(o.status.host_code(), 0);
  ASSERT_TRUE(client_->signal("init", SIGTERM));
  auto w = client_->wait("init");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->host_code(), 143);
}

TEST_F(GuestLauncherTest, TerminalInitGetsItsPtyAsDevConsole) {
  json process = {{"args",
                   {"/bin/sh", "-c",
                    "[ -c /dev/console ] && [ /dev/console -ef /proc/self/fd/0 ] && "
                    "echo console-is-my-tty"}},
                  {"env", {"PATH=/usr/bin:/bin"}},
                  {"cwd", "/"},
                  {"terminal", true}};
  auto p = client_->create("ctr", config(process));
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(client_->start());
  std::string out;
  agent::ExitStatus st;
  bool eof = false, exited = false;
  while (!eof || !exited) {
    auto e = client_->next_event(20000);
    ASSERT_TRUE(e) << e.error().message;
    if (auto* d = std::get_if<agent::DataMsg>(&*e)) {
      eof |= d->bytes.empty();
      out += d->bytes;
    } else if (auto* x = std::get_if<agent::ExitEvent>(&*e)) {
      st = x->status;
      exited = true;
    }
  }
  EXPECT_EQ(out, "console-is-my-tty\r\n");
  EXPECT_EQ(st.host_code(), 0);
}

// linux.uidMappings/gidMappings with a user namespace: the container sees the configured
// maps, is root inside, and what it creates is owned by the mapped ids outside; an exec
// joins the same namespace.
TEST_F(GuestLauncherTest, UserNamespaceAppliesTheConfiguredMaps) {
  ASSERT_EQ(chown((root_ + "/work").c_str(), 100000, 100000), 0);
  json process = {{"args",
                   {"/bin/sh", "-c",
                    "cat /proc/self/uid_map /proc/self/gid_map | tr -s ' ' | sed 's/^ //'; id -u; "
                    "id -g; touch /work/made-inside; echo ready; while :; do sleep 0.1; done"}},
                  {"env", {"PATH=/usr/bin:/bin"}},
                  {"cwd", "/work"}};
  json c = config(process);
  c["linux"]["namespaces"].push_back({{"type", "user"}});
  c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  c["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  auto p = client_->create("ctr", c);
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(client_->start());
  std::string out;
  for (int i = 0; i < 100 && out.find("ready\n") == std::string::npos; ++i) {
    auto e = client_->next_event(20000);
    ASSERT_TRUE(e) << e.error().message;
    if (auto* d = std::get_if<agent::DataMsg>(&*e); d && d->handle == p->handle) out += d->bytes;
  }
  EXPECT_EQ(out, "0 100000 65536\n0 100000 65536\n0\n0\nready\n");
  struct stat st {};
  ASSERT_EQ(stat((root_ + "/work/made-inside").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_EQ(st.st_gid, 100000u);
  json ex = {
      {"args", {"/bin/sh", "-c", "head -n 1 /proc/self/uid_map | tr -s ' ' | sed 's/^ //'; id -u"}},
      {"env", {"PATH=/usr/bin:/bin"}},
      {"cwd", "/"}};
  auto e = client_->exec("e1", ex);
  ASSERT_TRUE(e) << e.error().message;
  auto o = collect(e->handle);
  EXPECT_EQ(o.out, "0 100000 65536\n0\n");
  ASSERT_TRUE(client_->signal("init", SIGKILL));
  ASSERT_TRUE(client_->wait("init"));
}

TEST_F(GuestLauncherTest, InvalidConfigFailsCreateWithTheViolation) {
  json process = {
      {"args", {"/bin/true"}}, {"cwd", "/"}, {"capabilities", {{"bounding", {"CAP_BOGUS"}}}}};
  auto p = client_->create("ctr", config(process));
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("CAP_BOGUS"), std::string::npos) << p.error().message;
}

}  // namespace
}  // namespace runvm::guest
