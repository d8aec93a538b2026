// The OCI seccomp profile is enforced: each profile is loaded in a forked child
// (with no_new_privs, so no privilege is needed) and the denied calls fail.
#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest-init/seccomp_filter.h"
#include "tests/guest-init/child.h"

namespace runvm::guest {
namespace {

using testing::exited_ok;
using testing::run_in_child;

oci::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                         std::optional<uint32_t> errno_ret = std::nullopt) {
  oci::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.errnoRet = errno_ret;
  return s;
}

int load(const oci::Seccomp& p) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 90;
  auto s = load_seccomp(p);
  if (!s) {
    fprintf(stderr, "%s\n", s.error().message.c_str());
    return 91;
  }
  return 0;
}

TEST(Seccomp, DeniesGetcwdAndMkdirWithEperm) {
  oci::Seccomp p;
  p.defaultAction = "SCMP_ACT_ALLOW";
  p.architectures = oci::StringList{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  p.syscalls = std::vector<oci::SeccompSyscall>{
      rule({"getcwd", "mkdir", "mkdirat", "no_such_syscall_xyz"}, "SCMP_ACT_ERRNO")};
  int ws = run_in_child([&] {
    if (int rc = load(p)) return rc;
    char buf[256];
    if (getcwd(buf, sizeof buf) != nullptr || errno != EPERM) return 1;
    if (mkdir("/tmp/runvm-seccomp-should-not-exist", 0700) == 0 || errno != EPERM) return 2;
    if (getpid() <= 0) return 3;  // other calls still work
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws;
}

TEST(Seccomp, ArgumentComparisonsAndErrnoRet) {
  oci::Seccomp p;
  p.defaultAction = "SCMP_ACT_ALLOW";
  auto dup_rule = rule({"dup"}, "SCMP_ACT_ERRNO", 42);
  dup_rule.args = std::vector<oci::SeccompArg>{{0, 99, std::nullopt, "SCMP_CMP_EQ"}};
  // Two comparisons on one argument: either matches (runc's semantics).
  auto umask_rule = rule({"umask"}, "SCMP_ACT_ERRNO", 43);
  umask_rule.args = std::vector<oci::SeccompArg>{{0, 0111, std::nullopt, "SCMP_CMP_EQ"},
                                                 {0, 0222, std::nullopt, "SCMP_CMP_EQ"}};
  // MASKED_EQ: value is the mask, valueTwo the expected result.
  auto kill_rule = rule({"kill"}, "SCMP_ACT_ERRNO", 44);
  kill_rule.args = std::vector<oci::SeccompArg>{{1, 0xff, uint64_t{SIGUSR2}, "SCMP_CMP_MASKED_EQ"}};
  p.syscalls = std::vector<oci::SeccompSyscall>{dup_rule, umask_rule, kill_rule};
  int ws = run_in_child([&] {
    if (int rc = load(p)) return rc;
    errno = 0;
    if (dup(99) != -1 || errno != 42) return 1;
    int fd = dup(0);
    if (fd < 0) return 2;
    errno = 0;
    if (syscall(SYS_umask, 0111) != -1 || errno != 43) return 3;
    errno = 0;
    if (syscall(SYS_umask, 0222) != -1 || errno != 43) return 4;
    if (syscall(SYS_umask, 022) < 0) return 5;
    if (kill(getpid(), SIGUSR2) != -1 || errno != 44) return 6;
    if (kill(getpid(), 0) != 0) return 7;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws;
}

TEST(Seccomp, KillProcessAction) {
  oci::Seccomp p;
  p.defaultAction = "SCMP_ACT_ALLOW";
  p.syscalls = std::vector<oci::SeccompSyscall>{rule({"getppid"}, "SCMP_ACT_KILL_PROCESS")};
  int ws = run_in_child([&] {
    if (int rc = load(p)) return rc;
    getppid();
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(ws)) << "status " << ws;
  EXPECT_EQ(WTERMSIG(ws), SIGSYS);
}

TEST(Seccomp, DefaultErrnoRetApplies) {
  // Deny-by-default with an allow list big enough for the child to finish.
  oci::Seccomp p;
  p.defaultAction = "SCMP_ACT_ERRNO";
  p.defaultErrnoRet = 77;
  p.syscalls = std::vector<oci::SeccompSyscall>{
      // Enough for the child to finish, also under ASan (signal stack, mappings).
      rule({"exit", "exit_group", "write", "getpid", "rt_sigreturn", "brk", "mmap", "munmap",
            "mprotect", "madvise", "sigaltstack", "rt_sigaction", "rt_sigprocmask", "futex",
            "gettid", "tgkill"},
           "SCMP_ACT_ALLOW")};
  int ws = run_in_child([&] {
    if (int rc = load(p)) return rc;
    errno = 0;
    long r = syscall(SYS_getuid);
    int code = 0;
    if (r != -1 || errno != 77)
      code = 1;
    else if (syscall(SYS_getpid) <= 0)
      code = 2;
    syscall(SYS_exit_group, code);  // straight out: no exit handlers under the filter
    return 99;
  });
  EXPECT_TRUE(exited_ok(ws)) << "child status " << ws;
}

TEST(Seccomp, RejectsWhatItCannotTranslate) {
  oci::Seccomp p;
  p.defaultAction = "SCMP_ACT_FOO";
  auto r = build_seccomp_filter(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("defaultAction"), std::string::npos);

  p.defaultAction = "SCMP_ACT_ALLOW";
  p.architectures = oci::StringList{"SCMP_ARCH_NOPE"};
  r = build_seccomp_filter(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("SCMP_ARCH_NOPE"), std::string::npos);

  p.architectures.reset();
  auto bad = rule({"dup"}, "SCMP_ACT_ERRNO");
  bad.args = std::vector<oci::SeccompArg>{{0, 1, std::nullopt, "SCMP_CMP_WAT"}};
  p.syscalls = std::vector<oci::SeccompSyscall>{bad};
  r = build_seccomp_filter(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("syscalls[0]"), std::string::npos) << r.error().message;

  p.syscalls = std::vector<oci::SeccompSyscall>{rule({"dup"}, "SCMP_ACT_NOTIFY")};
  r = build_seccomp_filter(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("NOTIFY"), std::string::npos);

  p.syscalls = std::vector<oci::SeccompSyscall>{rule({"dup"}, "SCMP_ACT_ERRNO")};
  r = build_seccomp_filter(p);
  ASSERT_TRUE(r) << r.error().message;
  seccomp_release(*r);
}

}  // namespace
}  // namespace runvm::guest
