// The supervisor's host-side namespaces (runtime/vm/host_namespaces.h): what a
// config asks for, the path checks, and entering them in a forked child.
#include "runtime/vm/host_namespaces.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace runvm::runtime::vm {
namespace {

oci::Spec spec_with(std::vector<oci::Namespace> list) {
  oci::Spec s;
  s.linux.emplace();
  s.linux->namespaces = std::move(list);
  return s;
}

ino_t ns_inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool loopback_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = s >= 0 && ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
  if (s >= 0) ::close(s);
  return up;
}

// Runs `body` in a forked child; its return value is the child's exit status.
template <class F>
int in_child(F body) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int ws = 0;
  ::waitpid(pid, &ws, 0);
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 200;
}

TEST(HostNamespaces, NetworkWithoutPathIsANewOne) {
  auto ns = plan_host_namespaces(spec_with({{"network", std::nullopt}, {"pid", std::nullopt}}));
  EXPECT_TRUE(ns.new_net);
  EXPECT_EQ(ns.net_path, "");
  EXPECT_EQ(ns.unshare_flags, 0);
  EXPECT_TRUE(ns.new_pid);  // launch_vm forks the supervisor into it
  EXPECT_FALSE(plan_host_namespaces(spec_with({{"network", std::nullopt}})).new_pid);
}

// Docker --pid=host/--ipc=host/--uts=host leave the entry out; runvm refuses instead of
// silently giving the guest's.
TEST(HostNamespaces, LeftOutPidIpcUtsAreRefusedNamingTheDockerFlag) {
  EXPECT_TRUE(check_required_namespaces(
      spec_with({{"pid", std::nullopt}, {"ipc", std::nullopt}, {"uts", std::nullopt}})));
  auto no_pid =
      check_required_namespaces(spec_with({{"ipc", std::nullopt}, {"uts", std::nullopt}}));
  ASSERT_FALSE(no_pid);
  EXPECT_EQ(no_pid.error().err, ENOTSUP);
  EXPECT_EQ(no_pid.error().message,
            "linux.namespaces: no \"pid\" entry, which asks for the host's pid namespace (Docker "
            "--pid=host); a container in its own guest kernel cannot share it: add {\"type\": "
            "\"pid\"}");
  auto no_uts =
      check_required_namespaces(spec_with({{"pid", std::nullopt}, {"ipc", std::nullopt}}));
  ASSERT_FALSE(no_uts);
  EXPECT_NE(no_uts.error().message.find("--uts=host"), std::string::npos);
  auto none = check_required_namespaces(oci::Spec{});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("--pid=host"), std::string::npos);
}

// The supervisor as pid 1 of a new namespace: launch_vm's raw clone, checked the same way.
TEST(HostNamespaces, RawCloneGivesPidOneOfANewNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  const ino_t host = ns_inode("/proc/self/ns/pid");
  pid_t pid = static_cast<pid_t>(
      ::syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid == 0) ::_exit(::getpid() == 1 ? 0 : 1);
  ASSERT_GT(pid, 0) << std::strerror(errno);
  const ino_t child = ns_inode("/proc/" + std::to_string(pid) + "/ns/pid");
  int ws = 0;
  ::waitpid(pid, &ws, 0);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
  EXPECT_NE(child, host);
}

TEST(HostNamespaces, NetworkPathIsJoined) {
  auto ns = plan_host_namespaces(spec_with({{"network", "/run/netns/x"}}));
  EXPECT_FALSE(ns.new_net);
  EXPECT_EQ(ns.net_path, "/run/netns/x");
}

TEST(HostNamespaces, NoNetworkEntryStaysInTheRuntimesNetwork) {
  auto ns = plan_host_namespaces(spec_with({{"ipc", std::nullopt}}));
  EXPECT_FALSE(ns.new_net);
  EXPECT_EQ(ns.net_path, "");
  EXPECT_EQ(ns.unshare_flags, CLONE_NEWIPC);
}

TEST(HostNamespaces, UtsIpcCgroupMountWithoutPathAreUnshared) {
  auto s = spec_with({{"uts", std::nullopt},
                      {"ipc", std::nullopt},
                      {"cgroup", std::nullopt},
                      {"mount", std::nullopt},
                      {"ipc", "/proc/1/ns/ipc"}});
  s.hostname = "box";
  auto ns = plan_host_namespaces(s);
  EXPECT_EQ(ns.unshare_flags, CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWNS);
  EXPECT_EQ(ns.hostname, "box");
}

TEST(HostNamespaces, JsonRoundTripAndBadFlagsRefused) {
  HostNamespaces ns{"/run/netns/a", false, CLONE_NEWUTS, "h"};
  auto back = HostNamespaces::from_json(ns.to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->net_path, "/run/netns/a");
  EXPECT_EQ(back->unshare_flags, CLONE_NEWUTS);
  EXPECT_EQ(back->hostname, "h");
  auto j = ns.to_json();
  j["unshare_flags"] = CLONE_NEWUSER;
  EXPECT_FALSE(HostNamespaces::from_json(j));
}

TEST(HostNamespaces, PathOfTheWrongTypeIsRefused) {
  auto ok = check_namespace_paths(spec_with({{"cgroup", "/proc/self/ns/ipc"}}));
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("linux.namespaces[0] (cgroup)"), std::string::npos)
      << ok.error().message;
  EXPECT_NE(ok.error().message.find("type ipc, not cgroup"), std::string::npos)
      << ok.error().message;
}

// Only the network namespace can be joined by path; the others belong to the guest kernel,
// so joining the host's or another process's is refused, naming the namespace.
TEST(HostNamespaces, NonNetworkPathsAreRefusedNamingTheNamespace) {
  auto host = check_namespace_paths(spec_with({{"network", ""}, {"ipc", "/proc/self/ns/ipc"}}));
  ASSERT_FALSE(host);
  EXPECT_EQ(host.error().err, ENOTSUP);
  EXPECT_NE(host.error().message.find("linux.namespaces[1] (ipc): cannot join /proc/self/ns/ipc "
                                      "(the host's ipc namespace)"),
            std::string::npos)
      << host.error().message;
  // Another process's namespace (here: a child's new uts namespace).
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    char c = ::unshare(CLONE_NEWUTS) == 0 ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const std::string path = "/proc/" + std::to_string(child) + "/ns/uts";
  auto other = check_namespace_paths(spec_with({{"uts", path}}));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  if (c != 'y') GTEST_SKIP() << "cannot create a uts namespace here";
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("(an existing uts namespace)"), std::string::npos)
      << other.error().message;
}

TEST(HostNamespaces, APodMemberMayNameItsSandboxsIpcAndUtsButNotPidOrTheHosts) {
  // A child stands for the sandbox: new ipc and uts namespaces.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    char c = ::unshare(CLONE_NEWUTS | CLONE_NEWIPC) == 0 ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const std::string base = "/proc/" + std::to_string(child) + "/ns/";
  auto spec = spec_with({{"ipc", base + "ipc"}, {"uts", base + "uts"}});
  auto member = check_namespace_paths(spec, /*pod_member=*/true);
  auto standalone = check_namespace_paths(spec);
  auto host = check_namespace_paths(spec_with({{"ipc", "/proc/self/ns/ipc"}}), true);
  auto pid = check_namespace_paths(spec_with({{"pid", "/proc/self/ns/pid"}}), true);
  HostNamespaces planned = plan_host_namespaces(spec, true);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  if (c != 'y') GTEST_SKIP() << "cannot create namespaces here";
  EXPECT_TRUE(member) << member.error().message;
  EXPECT_FALSE(standalone);
  ASSERT_FALSE(host);
  EXPECT_NE(host.error().message.find("the host's ipc"), std::string::npos);
  ASSERT_FALSE(pid);
  EXPECT_NE(pid.error().message.find("shareProcessNamespace"), std::string::npos);
  // On the host the member's supervisor gets ipc and uts of its own.
  EXPECT_EQ(planned.unshare_flags & (CLONE_NEWIPC | CLONE_NEWUTS), CLONE_NEWIPC | CLONE_NEWUTS);
}

TEST(HostNamespaces, MissingOrNonNamespacePathIsRefused) {
  auto missing = check_namespace_paths(spec_with({{"network", "/nonexistent/netns"}}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/netns"), std::string::npos);
  EXPECT_EQ(missing.error().err, ENOENT);
  auto file = check_namespace_paths(spec_with({{"network", "/proc/self/status"}}));
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("is not a namespace"), std::string::npos)
      << file.error().message;
  EXPECT_TRUE(check_namespace_paths(spec_with({{"network", "/proc/self/ns/net"}})));
}

TEST(HostNamespaces, NewNetworkHasLoopbackUpAndPathJoinsBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string parent_ns = "/proc/" + std::to_string(::getpid()) + "/ns/net";
  const ino_t host = ns_inode(parent_ns);
  int rc = in_child([&] {
    if (!enter_host_namespaces(HostNamespaces{"", true, 0, ""})) return 1;
    if (ns_inode("/proc/self/ns/net") == host) return 2;
    if (!loopback_up()) return 3;
    if (!enter_host_namespaces(HostNamespaces{parent_ns, false, 0, ""})) return 4;
    if (ns_inode("/proc/self/ns/net") != host) return 5;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST(HostNamespaces, UtsGetsTheHostnameAndMountsStayInside) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  char before[256] = {};
  ::gethostname(before, sizeof before - 1);
  const ino_t host_mnt = ns_inode("/proc/self/ns/mnt");
  int rc = in_child([&] {
    HostNamespaces ns{"", false, CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC, "runvm-ns-test"};
    if (!enter_host_namespaces(ns)) return 1;
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    if (std::string(name) != "runvm-ns-test") return 2;
    if (ns_inode("/proc/self/ns/mnt") == host_mnt) return 3;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  char after[256] = {};
  ::gethostname(after, sizeof after - 1);
  EXPECT_STREQ(before, after);
}

}  // namespace
}  // namespace runvm::runtime::vm
