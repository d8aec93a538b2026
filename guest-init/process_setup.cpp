#include "guest-init/process_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <linux/sched/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>

#include "base/file_io.h"
#include "oci/names.h"

namespace runvm::guest {

Status apply_rlimits(const std::vector<oci::Rlimit>& rlimits) {
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const auto& r = rlimits[i];
    std::string where = "rlimits[" + std::to_string(i) + "]";
    auto n = oci::rlimit_number(r.type);
    if (!n) return Error(where + ": unknown type \"" + r.type + "\"", EINVAL);
    struct rlimit lim {
      static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)
    };
    if (setrlimit(static_cast<__rlimit_resource>(*n), &lim) < 0)
      return Error::from_errno(where + ": setrlimit " + r.type);
  }
  return {};
}

Status apply_user(const oci::User& u) {
  std::vector<gid_t> groups;
  if (u.additionalGids) groups.assign(u.additionalGids->begin(), u.additionalGids->end());
  if (setgroups(groups.size(), groups.data()) < 0) return Error::from_errno("setgroups");
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return Error::from_errno("PR_SET_KEEPCAPS");
  if (setresgid(u.gid, u.gid, u.gid) < 0)
    return Error::from_errno("setgid " + std::to_string(u.gid));
  if (setresuid(u.uid, u.uid, u.uid) < 0)
    return Error::from_errno("setuid " + std::to_string(u.uid));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return Error::from_errno("PR_SET_KEEPCAPS");
  if (u.umask) ::umask(static_cast<mode_t>(*u.umask & 0777));
  return {};
}

Status apply_oom_score_adj(int value) {
  return write_control_file("/proc/self/oom_score_adj", std::to_string(value));
}

Status apply_io_priority(const oci::IoPriority& io) {
  int cls;
  if (io.class_ == "IOPRIO_CLASS_RT")
    cls = IOPRIO_CLASS_RT;
  else if (io.class_ == "IOPRIO_CLASS_BE")
    cls = IOPRIO_CLASS_BE;
  else if (io.class_ == "IOPRIO_CLASS_IDLE")
    cls = IOPRIO_CLASS_IDLE;
  else
    return Error("ioPriority.class: unknown class \"" + io.class_ + "\"", EINVAL);
  if (io.priority < 0 || io.priority > 7) return Error("ioPriority.priority: must be 0..7", EINVAL);
  if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(cls, io.priority)) < 0)
    return Error::from_errno("ioprio_set " + io.class_);
  return {};
}

Status apply_scheduler(const oci::Scheduler& s) {
  static const std::map<std::string, unsigned> kPolicies = {
      {"SCHED_OTHER", SCHED_NORMAL}, {"SCHED_FIFO", SCHED_FIFO},
      {"SCHED_RR", SCHED_RR},        {"SCHED_BATCH", SCHED_BATCH},
      {"SCHED_IDLE", SCHED_IDLE},    {"SCHED_DEADLINE", SCHED_DEADLINE}};
  static const std::map<std::string, uint64_t> kFlags = {
      {"SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK},
      {"SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM},
      {"SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN},
      {"SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY},
      {"SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS},
      {"SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX}};
  auto pol = kPolicies.find(s.policy);
  if (pol == kPolicies.end())
    return Error("scheduler.policy: unsupported policy \"" + s.policy + "\"", EINVAL);
  sched_attr a{};
  a.size = sizeof a;
  a.sched_policy = pol->second;
  a.sched_nice = s.nice.value_or(0);
  a.sched_priority = static_cast<uint32_t>(s.priority.value_or(0));
  if (s.flags)
    for (const auto& f : *s.flags) {
      auto it = kFlags.find(f);
      if (it == kFlags.end()) return Error("scheduler.flags: unknown flag \"" + f + "\"", EINVAL);
      a.sched_flags |= it->second;
    }
  a.sched_runtime = s.runtime.value_or(0);
  a.sched_deadline = s.deadline.value_or(0);
  a.sched_period = s.period.value_or(0);
  if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
    return Error::from_errno("sched_setattr " + s.policy);
  return {};
}

Status set_no_new_privileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return Error::from_errno("PR_SET_NO_NEW_PRIVS");
  return {};
}

Status apply_hostname(const std::optional<std::string>& hostname,
                      const std::optional<std::string>& domainname) {
  if (hostname && sethostname(hostname->data(), hostname->size()) < 0)
    return Error::from_errno("sethostname \"" + *hostname + "\"");
  if (domainname && setdomainname(domainname->data(), domainname->size()) < 0)
    return Error::from_errno("setdomainname \"" + *domainname + "\"");
  return {};
}

Status apply_sysctls(const oci::StringMap& sysctl) {
  for (const auto& [key, value] : sysctl) {
    std::string rel = key;
    for (char& c : rel)
      if (c == '.') c = '/';
    if (rel.empty() || rel.find("//") != std::string::npos || rel.front() == '/' ||
        rel.back() == '/' || key.find('/') != std::string::npos)
      return Error("sysctl \"" + key + "\": invalid name", EINVAL);
    if (auto s = write_control_file("/proc/sys/" + rel, value); !s)
      return s.error().wrap("sysctl " + key);
  }
  return {};
}

}  // namespace runvm::guest
