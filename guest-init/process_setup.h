// Per-process OCI settings that are plain syscalls: rlimits, user and groups,
// umask, oom_score_adj, no_new_privs; and the guest-wide hostname, domainname
// and sysctls. Each fails with the setting it was applying.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::guest {

// setrlimit for each entry; unknown types are errors ("rlimits[1]: unknown type ...").
[[nodiscard]] Status apply_rlimits(const std::vector<oci::Rlimit>& rlimits);

// setgroups(additionalGids), setresgid, setresuid, umask (if given). The
// permitted capabilities survive the uid change (PR_SET_KEEPCAPS) so the
// capability sets can be applied afterwards.
[[nodiscard]] Status apply_user(const oci::User& user);

// Writes /proc/self/oom_score_adj.
[[nodiscard]] Status apply_oom_score_adj(int value);

// ioprio_set for the calling process (process.ioPriority).
[[nodiscard]] Status apply_io_priority(const oci::IoPriority& io);

// sched_setattr for the calling process (process.scheduler): policy, nice,
// priority, flags and the SCHED_DEADLINE runtime/deadline/period.
[[nodiscard]] Status apply_scheduler(const oci::Scheduler& s);

// prctl(PR_SET_NO_NEW_PRIVS).
[[nodiscard]] Status set_no_new_privileges();

// sethostname / setdomainname (UTS namespace of the caller: in the guest, the VM's).
[[nodiscard]] Status apply_hostname(const std::optional<std::string>& hostname,
                                    const std::optional<std::string>& domainname);

// Writes each sysctl to /proc/sys ("net.ipv4.ip_forward" -> net/ipv4/ip_forward).
// Keys with ".." or "/" components are rejected.
[[nodiscard]] Status apply_sysctls(const oci::StringMap& sysctl);

}  // namespace runvm::guest
