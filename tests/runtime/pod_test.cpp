// runtime/pod on the host: which part of a pod a container is, the pod VM's size, the
// plan kept for delete, and mounts placed into another process's mount namespace (a
// stand-in for the running VMM's jail; needs root, skipped otherwise).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/pod/mount_injection.h"
#include "runtime/pod/pod_plan.h"
#include "runtime/pod/pod_role.h"
#include "runtime/pod/pod_sizing.h"

namespace runvm::runtime::pod {
namespace {

TEST(PodRole, ComesFromContainerdsOrCrioAnnotations) {
  auto none = pod_membership({{"org.example", "x"}});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->role, PodRole::kStandalone);
  auto sandbox = pod_membership({{kCriContainerType, "sandbox"}, {kCriSandboxId, "p1"}});
  ASSERT_TRUE(sandbox);
  EXPECT_EQ(sandbox->role, PodRole::kSandbox);
  auto member = pod_membership({{kCriContainerType, "container"}, {kCriSandboxId, "p1"}});
  ASSERT_TRUE(member);
  EXPECT_EQ(member->role, PodRole::kMember);
  EXPECT_EQ(member->sandbox_id, "p1");
  auto crio = pod_membership({{kCrioContainerType, "container"}, {kCrioSandboxId, "p2"}});
  ASSERT_TRUE(crio);
  EXPECT_EQ(crio->sandbox_id, "p2");
}

TEST(PodRole, AnUnknownTypeOrAMissingSandboxIsAnError) {
  auto odd = pod_membership({{kCriContainerType, "sidecar"}});
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().message.find(kCriContainerType), std::string::npos);
  auto orphan = pod_membership({{kCriContainerType, "container"}});
  ASSERT_FALSE(orphan);
  EXPECT_NE(orphan.error().message.find(kCriSandboxId), std::string::npos);
}

TEST(PodSizing, AddsThePodsMemoryAndCpusUnlessAnnotationsFixThem) {
  vm::VmSettings s;
  s.memory_mib = 512;
  s.vcpus = 1;
  s.max_memory_mib = 8192;
  s.max_vcpus = 8;
  ASSERT_TRUE(size_pod_vm(s, {{kCriSandboxMemory, std::to_string(256u << 20)},
                              {kCriSandboxCpuQuota, "150000"},
                              {kCriSandboxCpuPeriod, "100000"}}));
  EXPECT_EQ(s.memory_mib, 768u);
  EXPECT_EQ(s.vcpus, 3u);
  vm::VmSettings fixed;
  ASSERT_TRUE(size_pod_vm(fixed, {{kCriSandboxMemory, "1073741824"},
                                  {"io.runvm.vm.memory_mib", "600"},
                                  {kCriSandboxCpuQuota, "-1"}}));
  EXPECT_EQ(fixed.memory_mib, vm::VmSettings{}.memory_mib);
  EXPECT_EQ(fixed.vcpus, vm::VmSettings{}.vcpus);
  auto bad = size_pod_vm(fixed, {{kCriSandboxMemory, "12x"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(kCriSandboxMemory), std::string::npos);
}

TEST(PodPlan, AMembersPlanSurvivesTheRoundTrip) {
  PodPlan p;
  p.role = PodRole::kMember;
  p.sandbox_id = "sb";
  p.sandbox_dir = "/run/runvm/sb";
  p.name = "c1-0011aabb";
  p.guest_rootfs = "/run/runvm/shares/runvm-pod/c1-0011aabb";
  p.vmm_pid = 42;
  p.vmm_start_time = 7;
  p.injected = {"/a", "/b"};
  p.volume_keys = {"803-1f-rw"};
  p.rootfs_id = "803-2a";
  auto back = PodPlan::from_json(p.to_json());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->role, PodRole::kMember);
  EXPECT_EQ(back->name, p.name);
  EXPECT_EQ(back->injected, p.injected);
  EXPECT_EQ(back->volume_keys, p.volume_keys);
  EXPECT_EQ(back->rootfs_id, p.rootfs_id);
  EXPECT_EQ(back->vmm_pid, 42);
  auto bad = PodPlan::from_json({{"role", "leader"}});
  EXPECT_FALSE(bad);
}

// A child in a mount namespace of its own (private), waiting for a byte on `go`; then it
// reports whether <target>/marker exists in its view on `answer`, and exits.
pid_t namespace_holder(int go, int answer, const std::string& target) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr))
    _exit(2);
  (void)!write(answer, "r", 1);  // ready
  for (;;) {
    char c;
    if (read(go, &c, 1) != 1 || c == 'q') _exit(0);
    char seen = access((target + "/marker").c_str(), F_OK) == 0 ? 'y' : 'n';
    (void)!write(answer, &seen, 1);
  }
}

TEST(MountInjection, PlacesAndRemovesAMountInAnotherNamespaceOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (setns into a mount namespace)";
  namespace fs = std::filesystem;
  fs::path base = fs::temp_directory_path() / ("runvm-pod-test-" + std::to_string(getpid()));
  fs::create_directories(base / "source");
  fs::create_directories(base / "target");
  std::ofstream(base / "source" / "marker") << "x";
  int go[2], answer[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(answer), 0);
  pid_t holder = namespace_holder(go[0], answer[1], (base / "target").string());
  char c = 0;
  ASSERT_EQ(read(answer[0], &c, 1), 1);
  ASSERT_EQ(c, 'r');
  auto ask = [&] {
    char q = '?', a = 0;
    EXPECT_EQ(write(go[1], &q, 1), 1);
    EXPECT_EQ(read(answer[0], &a, 1), 1);
    return a;
  };
  EXPECT_EQ(ask(), 'n');
  auto ok = inject_mount(holder, (base / "source").string(), (base / "target").string(), true);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ask(), 'y') << "the mount is not in the holder's namespace";
  EXPECT_FALSE(fs::exists(base / "target" / "marker")) << "the mount leaked into ours";
  ASSERT_TRUE(remove_injected_mount(holder, (base / "target").string()));
  EXPECT_EQ(ask(), 'n');
  // Again: nothing there is not an error.
  EXPECT_TRUE(remove_injected_mount(holder, (base / "target").string()));
  auto missing = inject_mount(holder, (base / "nope").string(), (base / "target").string(), false);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  EXPECT_EQ(write(go[1], "q", 1), 1);
  int ws = 0;
  ASSERT_EQ(waitpid(holder, &ws, 0), holder);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  fs::remove_all(base);
}

}  // namespace
}  // namespace runvm::runtime::pod
