// The host cgroup at linux.cgroupsPath (runtime/vm/host_cgroup.h): where it is,
// what is written there, and creating + joining a real cgroup v2 directory.
#include "runtime/vm/host_cgroup.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "oci/cgroup2.h"
#include "runtime/vm/vm_layout.h"
#include "tests/runtime/test_support.h"

namespace runvm::runtime::vm {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(HostCgroupDir, CgroupfsPathsAreBelowTheRoot) {
  EXPECT_EQ(*host_cgroup_dir("/docker/abc", false, "/cg"), "/cg/docker/abc");
  EXPECT_EQ(*host_cgroup_dir("kubepods/pod1/c1", false, "/cg"), "/cg/kubepods/pod1/c1");
  EXPECT_EQ(*host_cgroup_dir("/a/./b/", false, "/cg"), "/cg/a/b");
  auto up = host_cgroup_dir("/a/../../etc", false, "/cg");
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().message, "linux.cgroupsPath \"/a/../../etc\": must not contain \"..\"");
  EXPECT_FALSE(host_cgroup_dir("/", false, "/cg"));
  auto dot = host_cgroup_dir("/./", false, "/cg");
  ASSERT_FALSE(dot);
  EXPECT_EQ(dot.error().message, "linux.cgroupsPath \"/./\": names the cgroup root");
  auto colon = host_cgroup_dir("system.slice:docker:abc", false, "/cg");
  ASSERT_FALSE(colon);
  EXPECT_NE(colon.error().message.find("needs --systemd-cgroup"), std::string::npos);
}

TEST(HostCgroupDir, SystemdSlicesExpandAsSystemdDoes) {
  EXPECT_EQ(*host_cgroup_dir("system.slice:docker:abc", true, "/cg"),
            "/cg/system.slice/docker-abc.scope");
  EXPECT_EQ(*host_cgroup_dir("kubepods-besteffort-pod1.slice:cri-containerd:c1", true, "/cg"),
            "/cg/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
            "cri-containerd-c1.scope");
  EXPECT_EQ(*host_cgroup_dir(":runvm:x", true, "/cg"), "/cg/system.slice/runvm-x.scope");
  EXPECT_EQ(*host_cgroup_dir("-.slice:p:x", true, "/cg"), "/cg/p-x.scope");
  for (const char* bad : {"/docker/abc", "a:b", "bad:p:x", "a--b.slice:p:x", "s.slice:p:../x"}) {
    auto r = host_cgroup_dir(bad, true, "/cg");
    EXPECT_FALSE(r) << bad << " -> " << (r ? *r : "");
    if (!r) {
      EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
    }
  }
}

TEST(HostCgroupResources, LimitsForTheWholeVm) {
  EXPECT_EQ(host_cgroup_resources(nullptr, 512, 2, 3), oci::Resources{});
  oci::Resources c;
  c.memory = oci::Memory{};
  c.memory->limit = 256 << 20;
  c.pids = oci::Pids{20};
  c.cpu = oci::CPU{};
  c.cpu->quota = 50000;
  c.cpu->period = 100000;
  c.cpu->cpus = "0";
  c.cpu->realtimeRuntime = 5;  // not a host matter
  auto r = host_cgroup_resources(&c, 512, 2, 3);
  ASSERT_TRUE(r.memory && r.memory->limit);
  EXPECT_EQ(*r.memory->limit, static_cast<int64_t>((512 + kVmmOverheadMib) << 20));
  ASSERT_TRUE(r.pids);
  EXPECT_EQ(r.pids->limit, kVmmPidsBase + 2 + 4 * 3);
  ASSERT_TRUE(r.cpu);
  EXPECT_EQ(r.cpu->quota, 50000);
  EXPECT_EQ(r.cpu->cpus, "0");
  EXPECT_FALSE(r.cpu->realtimeRuntime);
  auto files = oci::cgroup_files(r);
  ASSERT_TRUE(files);
  EXPECT_NE(std::find(files->begin(), files->end(),
                      std::pair<std::string, std::string>{"cpu.max", "50000 100000"}),
            files->end());
}

TEST(HostCgroup, JsonRoundTrip) {
  HostCgroup cg;
  cg.dir = "/sys/fs/cgroup/x";
  cg.fs_devices = 4;
  cg.resources.pids = oci::Pids{80};
  auto back = HostCgroup::from_json(cg.to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->dir, cg.dir);
  EXPECT_EQ(back->fs_devices, 4u);
  EXPECT_EQ(back->resources, cg.resources);
  EXPECT_FALSE(HostCgroup::from_json(nlohmann::json::array()));
}

// A stand-in hierarchy (cgroupfs files exist before they are written): every level gets
// the controllers, the leaf the limits, and cgroup.procs our "0".
TEST(HostCgroup, EnablesControllersOnEveryLevelAndWritesTheLimits) {
  testing::TempDir tmp;
  const std::string root = tmp.path();
  fs::create_directories(root + "/a/b");
  for (const char* f : {"/cgroup.subtree_control", "/a/cgroup.subtree_control", "/a/b/pids.max",
                        "/a/b/cgroup.procs"})
    std::ofstream(root + f);
  HostCgroup cg;
  cg.dir = root + "/a/b";
  cg.resources.pids = oci::Pids{90};
  auto ok = enter_host_cgroup(cg, root);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(slurp(root + "/cgroup.subtree_control"), "+pids");
  EXPECT_EQ(slurp(root + "/a/cgroup.subtree_control"), "+pids");
  EXPECT_EQ(slurp(root + "/a/b/pids.max"), "90");
  EXPECT_EQ(slurp(root + "/a/b/cgroup.procs"), "0");
  cg.resources.pids = oci::Pids{95};
  ASSERT_TRUE(update_host_cgroup(cg));
  EXPECT_EQ(slurp(root + "/a/b/pids.max"), "95");
  HostCgroup outside;
  outside.dir = "/elsewhere/x";
  EXPECT_FALSE(enter_host_cgroup(outside, root));
}

// run, a failed create and delete all go through the plan: the directory goes with the state.
TEST(HostCgroup, RemovedThroughThePlanInTheStateDirectory) {
  testing::TempDir tmp;
  fs::create_directories(tmp.path() + "/state");
  fs::create_directories(tmp.path() + "/cg/c1");
  VmLayout layout(tmp.path() + "/state");
  VmPlan plan;
  plan.settings.kernel = "/boot/vmlinuz";
  plan.settings.initrd = "/boot/initrd.img";
  plan.settings.vmm = "/usr/libexec/runvm/runvm-vmm";
  plan.cgroup.dir = tmp.path() + "/cg/c1";
  ASSERT_TRUE(write_plan(layout, plan));
  auto ok = remove_host_cgroup_of(layout);
  EXPECT_TRUE(ok) << ok.error().message;
  EXPECT_FALSE(fs::exists(tmp.path() + "/cg/c1"));
  EXPECT_TRUE(fs::exists(tmp.path() + "/cg"));  // parents stay, as with runc
  EXPECT_TRUE(remove_host_cgroup_of(VmLayout(tmp.path() + "/no-plan")));
}

// The real thing where this kernel has a cgroup v2 hierarchy we may write (root).
TEST(HostCgroup, CreatesJoinsAndRemovesARealCgroup) {
  std::string root;
  for (const char* c : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
    if (oci::is_cgroup2(c)) root = c;
  if (root.empty() || ::geteuid() != 0) GTEST_SKIP() << "no writable cgroup v2 hierarchy";
  const std::string top = root + "/runvm-test-" + std::to_string(::getpid());
  HostCgroup cg;
  cg.dir = top + "/c1";
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!enter_host_cgroup(cg, root)) ::_exit(1);
    ::_exit(slurp("/proc/self/cgroup").find("0::" + cg.dir.substr(root.size()) + "\n") !=
                    std::string::npos
                ? 0
                : 2);
  }
  int ws = 0;
  ::waitpid(pid, &ws, 0);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
  EXPECT_TRUE(fs::is_directory(cg.dir));
  auto removed = remove_host_cgroup(cg.dir);
  EXPECT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(fs::exists(cg.dir));
  ::rmdir(top.c_str());
}

}  // namespace
}  // namespace runvm::runtime::vm
