// Name tables of the runtime-spec (Linux, x86-64 numbering where numbers matter),
// used by validate(), features() and the runtime (kill's signal argument, exec --cap).
// All tables are static and immutable; lookups are case-sensitive unless stated.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace runvm::oci {

struct NameValue {
  std::string_view name;
  int value;
};

// True if `name` is in `table`.
[[nodiscard]] bool contains(std::span<const std::string_view> table, std::string_view name);

// CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40).
[[nodiscard]] std::span<const NameValue> capabilities();
[[nodiscard]] std::optional<int> capability_number(std::string_view name);

// RLIMIT_CPU (0) .. RLIMIT_RTTIME (15).
[[nodiscard]] std::span<const NameValue> rlimits();
[[nodiscard]] std::optional<int> rlimit_number(std::string_view name);

// pid network mount ipc uts user cgroup time.
[[nodiscard]] std::span<const std::string_view> namespace_types();

// SIGHUP (1) .. SIGSYS (31) with their Linux aliases (SIGIOT, SIGPOLL, SIGCLD, SIGUNUSED
// is not included). Real-time signals are not listed; parse_signal handles them.
[[nodiscard]] std::span<const NameValue> signals();
// runc's `kill` rules: a decimal number (1..64), or a name, case-insensitive, with or
// without the "SIG" prefix ("KILL", "sigterm", "SIGUSR1"), or SIGRTMIN[+n] / SIGRTMAX[-n].
[[nodiscard]] std::optional<int> parse_signal(std::string_view s);
// "SIGKILL", "SIGRTMIN+3"; nullopt outside 1..64.
[[nodiscard]] std::optional<std::string> signal_name(int sig);

// SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO,
// SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY.
[[nodiscard]] std::span<const std::string_view> seccomp_actions();
// SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT, _MASKED_EQ.
[[nodiscard]] std::span<const std::string_view> seccomp_operators();
// SCMP_ARCH_X86 .. SCMP_ARCH_SHEB (the spec's list).
[[nodiscard]] std::span<const std::string_view> seccomp_archs();
// SECCOMP_FILTER_FLAG_TSYNC, _LOG, _SPEC_ALLOW, _WAIT_KILLABLE_RECV.
[[nodiscard]] std::span<const std::string_view> seccomp_flags();

// IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE.
[[nodiscard]] std::span<const std::string_view> io_priority_classes();
// LINUX, LINUX32.
[[nodiscard]] std::span<const std::string_view> personality_domains();
// SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE.
[[nodiscard]] std::span<const std::string_view> scheduler_policies();
// SCHED_FLAG_RESET_ON_FORK, _RECLAIM, _DL_OVERRUN, _KEEP_POLICY, _KEEP_PARAMS,
// _UTIL_CLAMP_MIN, _UTIL_CLAMP_MAX.
[[nodiscard]] std::span<const std::string_view> scheduler_flags();
// shared slave private unbindable and their recursive r* forms (runc accepts both).
[[nodiscard]] std::span<const std::string_view> rootfs_propagations();
// Mount options runvm understands (features "mountOptions"): runc's list.
[[nodiscard]] std::span<const std::string_view> mount_options();
// prestart createRuntime createContainer startContainer poststart poststop.
[[nodiscard]] std::span<const std::string_view> hook_names();
// boottime monotonic (linux.timeOffsets keys).
[[nodiscard]] std::span<const std::string_view> time_offset_clocks();

}  // namespace runvm::oci
