// process.oomScoreAdj on the host: the supervisor's own value (inherited by the VMM),
// and the plan that carries it from create to the supervisor.
#include "runtime/vm/oom_score_adj.h"

#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/runtime/test_support.h"

#include "runtime/vm/vm_layout.h"

namespace runvm::runtime::vm {
namespace {

int current() {
  std::ifstream in("/proc/self/oom_score_adj");
  int v = 0;
  in >> v;
  return v;
}

bool has_sys_resource() {
  cap_t caps = ::cap_get_proc();
  cap_flag_value_t v = CAP_CLEAR;
  ::cap_get_flag(caps, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v);
  ::cap_free(caps);
  return v == CAP_SET;
}

// In a child, so this test process keeps its own value.
TEST(OomScoreAdj, SetForTheSupervisorAndItsVmm) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!apply_oom_score_adj(321) || current() != 321) _exit(1);
    pid_t grandchild = ::fork();  // as the VMM: inherited
    if (grandchild == 0) _exit(current() == 321 ? 0 : 1);
    int ws = 0;
    ::waitpid(grandchild, &ws, 0);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) _exit(2);
    auto out_of_range = apply_oom_score_adj(1001);
    if (out_of_range || out_of_range.error().err != EINVAL) _exit(3);
    // Lowering needs CAP_SYS_RESOURCE; without it the error says so.
    auto lower = apply_oom_score_adj(-5);
    if (has_sys_resource()) _exit(lower && current() == -5 ? 0 : 4);
    if (lower || lower.error().err != EACCES ||
        lower.error().message.find("CAP_SYS_RESOURCE") == std::string::npos)
      _exit(5);
    _exit(current() == 321 ? 0 : 6);
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws));
  EXPECT_EQ(WEXITSTATUS(ws), 0);
}

TEST(OomScoreAdj, CarriedByThePlan) {
  testing::TempDir tmp;
  VmLayout layout(tmp.path());
  VmPlan plan;
  plan.id = "c1";
  plan.settings.vmm = "/usr/libexec/runvm/runvm-vmm";
  plan.settings.kernel = "/boot/vmlinuz";
  plan.settings.initrd = "/var/lib/runvm/runvm-initrd-6.1.img";
  ASSERT_TRUE(write_plan(layout, plan));
  auto none = read_plan(layout);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->settings.initrd, plan.settings.initrd);
  EXPECT_FALSE(none->oom_score_adj);
  plan.oom_score_adj = -999;
  ASSERT_TRUE(write_plan(layout, plan));
  auto set = read_plan(layout);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->oom_score_adj, -999);
}

}  // namespace
}  // namespace runvm::runtime::vm
