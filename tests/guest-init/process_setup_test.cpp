// rlimits, user/groups/umask, oom_score_adj, no_new_privs, hostname and sysctl,
// each applied in a forked child and read back.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "guest-init/process_setup.h"
#include "tests/guest-init/child.h"
#include "tests/support/temp_dir.h"

namespace runvm::guest {
namespace {

using testing::exited_ok;
using testing::run_in_child;

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

TEST(Rlimits, AppliesSoftAndHard) {
  std::vector<oci::Rlimit> l{{"RLIMIT_NOFILE", 100, 200}, {"RLIMIT_CORE", 0, 0}};
  int ws = run_in_child([&] {
    if (!apply_rlimits(l)) return 1;
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur != 100 || r.rlim_max != 200) return 2;
    getrlimit(RLIMIT_CORE, &r);
    if (r.rlim_cur != 0 || r.rlim_max != 0) return 3;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

TEST(Rlimits, RejectsUnknownTypeAndImpossibleValues) {
  int ws = run_in_child([] {
    auto r = apply_rlimits({{"RLIMIT_BOGUS", 1, 1}});
    if (r || r.error().message.find("rlimits[0]: unknown type") == std::string::npos) return 1;
    auto h = apply_rlimits({{"RLIMIT_NOFILE", 10, 5}});  // soft > hard
    if (h || h.error().err != EINVAL) return 2;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

TEST(User, SwitchesUidGidGroupsAndUmask) {
  SKIP_UNLESS_ROOT();
  runvm::testing::TempDir dir;
  chmod(dir.path().c_str(), 0777);
  int ws = run_in_child([&] {
    oci::User u;
    u.uid = 1000;
    u.gid = 1001;
    u.additionalGids = std::vector<uint32_t>{2000, 2001};
    u.umask = 027;
    if (!apply_user(u)) return 1;
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    if (r != 1000 || e != 1000 || s != 1000) return 2;
    gid_t gr, ge, gs;
    getresgid(&gr, &ge, &gs);
    if (gr != 1001 || ge != 1001 || gs != 1001) return 3;
    gid_t groups[8];
    int n = getgroups(8, groups);
    if (n != 2 || groups[0] != 2000 || groups[1] != 2001) return 4;
    std::string f = dir / "f";
    int fd = open(f.c_str(), O_CREAT | O_WRONLY, 0666);
    if (fd < 0) return 5;
    struct stat st;
    fstat(fd, &st);
    if ((st.st_mode & 0777) != 0640 || st.st_uid != 1000 || st.st_gid != 1001) return 6;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

TEST(OomScoreAdj, IsWritten) {
  int ws = run_in_child([] {
    if (!apply_oom_score_adj(500)) return 1;
    return slurp("/proc/self/oom_score_adj") == "500" ? 0 : 2;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

TEST(IoPriority, IsSetAndValidated) {
  int ws = run_in_child([] {
    if (!apply_io_priority(oci::IoPriority{"IOPRIO_CLASS_BE", 6})) return 1;
    long v = syscall(SYS_ioprio_get, 1 /*IOPRIO_WHO_PROCESS*/, 0);
    if (v != ((2 /*BE*/ << 13) | 6)) return 2;
    if (apply_io_priority(oci::IoPriority{"IOPRIO_CLASS_NOPE", 1})) return 3;
    if (apply_io_priority(oci::IoPriority{"IOPRIO_CLASS_BE", 8})) return 4;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

TEST(Scheduler, PolicyAndNiceAreApplied) {
  int ws = run_in_child([] {
    oci::Scheduler s;
    s.policy = "SCHED_BATCH";
    s.nice = 7;
    auto r = apply_scheduler(s);
    if (!r) {
      fprintf(stderr, "%s\n", r.error().message.c_str());
      return 1;
    }
    if (sched_getscheduler(0) != SCHED_BATCH) return 2;
    errno = 0;
    if (getpriority(PRIO_PROCESS, 0) != 7 || errno) return 3;
    s.policy = "SCHED_NOPE";
    if (apply_scheduler(s)) return 4;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

TEST(NoNewPrivileges, IsSet) {
  int ws = run_in_child([] {
    if (!set_no_new_privileges()) return 1;
    return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 2;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

TEST(Hostname, SetsHostAndDomainName) {
  SKIP_UNLESS_ROOT();
  int ws = run_in_child([] {
    if (unshare(CLONE_NEWUTS) < 0) return 1;
    if (!apply_hostname(std::string("box"), std::string("example.org"))) return 2;
    struct utsname u;
    uname(&u);
    if (std::string(u.nodename) != "box" || std::string(u.domainname) != "example.org") return 3;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

TEST(Sysctl, WritesProcSysAndRejectsPathTricks) {
  SKIP_UNLESS_ROOT();
  int ws = run_in_child([] {
    if (unshare(CLONE_NEWNET) < 0) return 1;
    if (!apply_sysctls({{"net.ipv4.ip_forward", "1"}})) return 2;
    if (slurp("/proc/sys/net/ipv4/ip_forward") != "1") return 3;
    if (apply_sysctls({{"net/../../etc", "x"}})) return 4;
    if (apply_sysctls({{"net..ipv4", "x"}})) return 5;
    auto missing = apply_sysctls({{"net.ipv4.no_such_knob", "1"}});
    if (missing || missing.error().message.find("sysctl net.ipv4.no_such_knob") != 0) return 6;
    return 0;
  });
  EXPECT_TRUE(exited_ok(ws)) << ws;
}

}  // namespace
}  // namespace runvm::guest
