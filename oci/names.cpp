#include "oci/names.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace runvm::oci {
namespace {

constexpr NameValue kCapabilities[] = {
    {"CAP_CHOWN", 0},
    {"CAP_DAC_OVERRIDE", 1},
    {"CAP_DAC_READ_SEARCH", 2},
    {"CAP_FOWNER", 3},
    {"CAP_FSETID", 4},
    {"CAP_KILL", 5},
    {"CAP_SETGID", 6},
    {"CAP_SETUID", 7},
    {"CAP_SETPCAP", 8},
    {"CAP_LINUX_IMMUTABLE", 9},
    {"CAP_NET_BIND_SERVICE", 10},
    {"CAP_NET_BROADCAST", 11},
    {"CAP_NET_ADMIN", 12},
    {"CAP_NET_RAW", 13},
    {"CAP_IPC_LOCK", 14},
    {"CAP_IPC_OWNER", 15},
    {"CAP_SYS_MODULE", 16},
    {"CAP_SYS_RAWIO", 17},
    {"CAP_SYS_CHROOT", 18},
    {"CAP_SYS_PTRACE", 19},
    {"CAP_SYS_PACCT", 20},
    {"CAP_SYS_ADMIN", 21},
    {"CAP_SYS_BOOT", 22},
    {"CAP_SYS_NICE", 23},
    {"CAP_SYS_RESOURCE", 24},
    {"CAP_SYS_TIME", 25},
    {"CAP_SYS_TTY_CONFIG", 26},
    {"CAP_MKNOD", 27},
    {"CAP_LEASE", 28},
    {"CAP_AUDIT_WRITE", 29},
    {"CAP_AUDIT_CONTROL", 30},
    {"CAP_SETFCAP", 31},
    {"CAP_MAC_OVERRIDE", 32},
    {"CAP_MAC_ADMIN", 33},
    {"CAP_SYSLOG", 34},
    {"CAP_WAKE_ALARM", 35},
    {"CAP_BLOCK_SUSPEND", 36},
    {"CAP_AUDIT_READ", 37},
    {"CAP_PERFMON", 38},
    {"CAP_BPF", 39},
    {"CAP_CHECKPOINT_RESTORE", 40},
};

constexpr NameValue kRlimits[] = {
    {"RLIMIT_CPU", 0},       {"RLIMIT_FSIZE", 1}, {"RLIMIT_DATA", 2},    {"RLIMIT_STACK", 3},
    {"RLIMIT_CORE", 4},      {"RLIMIT_RSS", 5},   {"RLIMIT_NPROC", 6},   {"RLIMIT_NOFILE", 7},
    {"RLIMIT_MEMLOCK", 8},   {"RLIMIT_AS", 9},    {"RLIMIT_LOCKS", 10},  {"RLIMIT_SIGPENDING", 11},
    {"RLIMIT_MSGQUEUE", 12}, {"RLIMIT_NICE", 13}, {"RLIMIT_RTPRIO", 14}, {"RLIMIT_RTTIME", 15},
};

constexpr std::string_view kNamespaces[] = {"pid", "network", "mount",  "ipc",
                                            "uts", "user",    "cgroup", "time"};

constexpr NameValue kSignals[] = {
    {"SIGHUP", 1},   {"SIGINT", 2},     {"SIGQUIT", 3},    {"SIGILL", 4},   {"SIGTRAP", 5},
    {"SIGABRT", 6},  {"SIGIOT", 6},     {"SIGBUS", 7},     {"SIGFPE", 8},   {"SIGKILL", 9},
    {"SIGUSR1", 10}, {"SIGSEGV", 11},   {"SIGUSR2", 12},   {"SIGPIPE", 13}, {"SIGALRM", 14},
    {"SIGTERM", 15}, {"SIGSTKFLT", 16}, {"SIGCHLD", 17},   {"SIGCLD", 17},  {"SIGCONT", 18},
    {"SIGSTOP", 19}, {"SIGTSTP", 20},   {"SIGTTIN", 21},   {"SIGTTOU", 22}, {"SIGURG", 23},
    {"SIGXCPU", 24}, {"SIGXFSZ", 25},   {"SIGVTALRM", 26}, {"SIGPROF", 27}, {"SIGWINCH", 28},
    {"SIGIO", 29},   {"SIGPOLL", 29},   {"SIGPWR", 30},    {"SIGSYS", 31},
};
constexpr int kSigRtMin = 34;  // glibc's SIGRTMIN (the kernel's is 32; glibc reserves two)
constexpr int kSigRtMax = 64;

constexpr std::string_view kSeccompActions[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

constexpr std::string_view kSeccompOperators[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

constexpr std::string_view kSeccompArchs[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

constexpr std::string_view kSeccompFlags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

constexpr std::string_view kIoPriorityClasses[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                                   "IOPRIO_CLASS_IDLE"};

constexpr std::string_view kPersonalityDomains[] = {"LINUX", "LINUX32"};

constexpr std::string_view kSchedulerPolicies[] = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
    "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
};

constexpr std::string_view kSchedulerFlags[] = {
    "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX",
};

constexpr std::string_view kRootfsPropagations[] = {
    "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};

// runc 1.1's `features` mountOptions.
constexpr std::string_view kMountOptions[] = {
    "acl",          "async",       "atime",          "bind",
    "defaults",     "dev",         "diratime",       "dirsync",
    "exec",         "iversion",    "lazytime",       "loud",
    "mand",         "noacl",       "noatime",        "nodev",
    "nodiratime",   "noexec",      "noiversion",     "nolazytime",
    "nomand",       "norelatime",  "nostrictatime",  "nosuid",
    "nosymfollow",  "private",     "ratime",         "rbind",
    "rdev",         "rdiratime",   "relatime",       "remount",
    "rexec",        "rnoatime",    "rnodev",         "rnodiratime",
    "rnoexec",      "rnorelatime", "rnostrictatime", "rnosuid",
    "rnosymfollow", "ro",          "rprivate",       "rrelatime",
    "rro",          "rrw",         "rshared",        "rslave",
    "rstrictatime", "rsuid",       "rsymfollow",     "runbindable",
    "rw",           "shared",      "silent",         "slave",
    "strictatime",  "suid",        "symfollow",      "sync",
    "tmpcopyup",    "unbindable",
};

constexpr std::string_view kHookNames[] = {"prestart",       "createRuntime", "createContainer",
                                           "startContainer", "poststart",     "poststop"};

constexpr std::string_view kTimeOffsetClocks[] = {"boottime", "monotonic"};

std::optional<int> lookup(std::span<const NameValue> table, std::string_view name) {
  for (const auto& nv : table) {
    if (nv.name == name) return nv.value;
  }
  return std::nullopt;
}

// Parses a decimal integer occupying all of `s`.
std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool contains(std::span<const std::string_view> table, std::string_view name) {
  return std::find(table.begin(), table.end(), name) != table.end();
}

std::span<const NameValue> capabilities() {
  return kCapabilities;
}
std::optional<int> capability_number(std::string_view name) {
  return lookup(kCapabilities, name);
}
std::span<const NameValue> rlimits() {
  return kRlimits;
}
std::optional<int> rlimit_number(std::string_view name) {
  return lookup(kRlimits, name);
}
std::span<const std::string_view> namespace_types() {
  return kNamespaces;
}
std::span<const NameValue> signals() {
  return kSignals;
}

std::optional<int> parse_signal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    auto n = parse_int(s);
    if (!n || *n < 1 || *n > kSigRtMax) return std::nullopt;
    return n;
  }
  std::string up;
  up.reserve(s.size() + 3);
  for (char c : s) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (up.rfind("SIG", 0) != 0) up.insert(0, "SIG");
  if (auto v = lookup(kSignals, up)) return v;
  std::string_view u = up;
  auto rt = [&](std::string_view base, int origin, int sign) -> std::optional<int> {
    if (u.rfind(base, 0) != 0) return std::nullopt;
    std::string_view rest = u.substr(base.size());
    if (rest.empty()) return origin;
    if (rest[0] != (sign > 0 ? '+' : '-')) return std::nullopt;
    auto n = parse_int(rest.substr(1));
    if (!n || *n < 0) return std::nullopt;
    int sig = origin + sign * *n;
    if (sig < kSigRtMin || sig > kSigRtMax) return std::nullopt;
    return sig;
  };
  if (auto v = rt("SIGRTMIN", kSigRtMin, +1)) return v;
  if (auto v = rt("SIGRTMAX", kSigRtMax, -1)) return v;
  return std::nullopt;
}

std::optional<std::string> signal_name(int sig) {
  if (sig < 1 || sig > kSigRtMax) return std::nullopt;
  for (const auto& nv : kSignals) {
    if (nv.value == sig) return std::string(nv.name);  // first entry = canonical name
  }
  if (sig < kSigRtMin) return std::nullopt;  // 32, 33: reserved by glibc
  if (sig == kSigRtMin) return std::string("SIGRTMIN");
  if (sig == kSigRtMax) return std::string("SIGRTMAX");
  if (sig - kSigRtMin <= kSigRtMax - sig) return "SIGRTMIN+" + std::to_string(sig - kSigRtMin);
  return "SIGRTMAX-" + std::to_string(kSigRtMax - sig);
}

std::span<const std::string_view> seccomp_actions() {
  return kSeccompActions;
}
std::span<const std::string_view> seccomp_operators() {
  return kSeccompOperators;
}
std::span<const std::string_view> seccomp_archs() {
  return kSeccompArchs;
}
std::span<const std::string_view> seccomp_flags() {
  return kSeccompFlags;
}
std::span<const std::string_view> io_priority_classes() {
  return kIoPriorityClasses;
}
std::span<const std::string_view> personality_domains() {
  return kPersonalityDomains;
}
std::span<const std::string_view> scheduler_policies() {
  return kSchedulerPolicies;
}
std::span<const std::string_view> scheduler_flags() {
  return kSchedulerFlags;
}
std::span<const std::string_view> rootfs_propagations() {
  return kRootfsPropagations;
}
std::span<const std::string_view> mount_options() {
  return kMountOptions;
}
std::span<const std::string_view> hook_names() {
  return kHookNames;
}
std::span<const std::string_view> time_offset_clocks() {
  return kTimeOffsetClocks;
}

}  // namespace runvm::oci
