#include "vmm/jail/seccomp_filter.h"

#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <linux/if_tun.h>

#include "vmm/kvm/ioctls.h"

namespace runvm::vmm::jail {

namespace {

constexpr uint64_t kAll = ~uint64_t{0};

// What any thread does: glibc's allocator and threads, locks, time, stderr.
constexpr SyscallRule kCommon[] = {
    {SCMP_SYS(read)},
    {SCMP_SYS(write)},
    {SCMP_SYS(readv)},
    {SCMP_SYS(writev)},
    {SCMP_SYS(close)},
    {SCMP_SYS(fcntl)},
    {SCMP_SYS(lseek)},
    {SCMP_SYS(fstat)},
    {SCMP_SYS(newfstatat)},
    {SCMP_SYS(statx)},
    {SCMP_SYS(openat)},  // sysconf() reads /sys; the fs roles need it anyway
    {SCMP_SYS(futex)},
    {SCMP_SYS(mmap)},
    {SCMP_SYS(munmap)},
    {SCMP_SYS(mprotect)},
    {SCMP_SYS(mremap)},
    {SCMP_SYS(madvise)},
    {SCMP_SYS(brk)},
    {SCMP_SYS(rt_sigprocmask)},
    {SCMP_SYS(rt_sigreturn)},
    {SCMP_SYS(restart_syscall)},
    {SCMP_SYS(sched_yield)},
    {SCMP_SYS(sched_getaffinity)},
    {SCMP_SYS(getpid)},
    {SCMP_SYS(gettid)},
    {SCMP_SYS(getuid)},
    {SCMP_SYS(geteuid)},
    {SCMP_SYS(getgid)},
    {SCMP_SYS(getegid)},
    {SCMP_SYS(tgkill)},  // pthread_kill: kicking a vCPU out of KVM_RUN
    {SCMP_SYS(clock_gettime)},
    {SCMP_SYS(clock_nanosleep)},
    {SCMP_SYS(nanosleep)},
    {SCMP_SYS(getrandom)},
    {SCMP_SYS(set_robust_list)},
    {SCMP_SYS(rseq)},
    {SCMP_SYS(prctl), 0, kAll, PR_SET_NAME},
    {SCMP_SYS(prlimit64), 2, kAll, 0},  // getrlimit only
    {SCMP_SYS(exit)},
    {SCMP_SYS(exit_group)},
};

// The main thread: it starts every other thread (threads only: no fork;
// clone3 cannot be checked and answers ENOSYS, so glibc falls back to clone),
// waits for the VM to stop and tears the machine down. Its filter is the union
// of all tables; every other thread adds its own role's filter on top.
constexpr SyscallRule kMain[] = {
    {SCMP_SYS(clone), 0, CLONE_THREAD, CLONE_THREAD},
    // glibc's own thread signals (SIGCANCEL, SIGSETXID: SIGRTMIN and +1), whose
    // handlers it installs at the first pthread_create; no other handler changes.
    {SCMP_SYS(rt_sigaction), 0, kAll, 32},
    {SCMP_SYS(rt_sigaction), 0, kAll, 33},
    // Each new thread adds its role's filter (filters only ever narrow).
    {SCMP_SYS(seccomp), 0, kAll, SECCOMP_SET_MODE_FILTER},
};

// vCPU threads: KVM_RUN on their own fd and interrupt lines (kKvmIoctls); the
// register emulation of MMIO/PIO exits needs nothing else (common). Exits with
// side effects (activation, kicks, MSI-X set-up) run on the event loop.
constexpr SyscallRule kVcpu[] = {
    // COM1's console log is rotated by the vCPU whose byte crosses its limit
    // (vmm/devices/legacy/console_log.h): the log's own path, in the VMM's root.
    {SCMP_SYS(rename)},
};

// The event loop: epoll, eventfds, the vsock muxer's unix sockets, the tap,
// the console, signals and the terminal; the device work of vCPU exits
// (activation, reset, irqfds and MSI routes, virtio-net's offloads).
constexpr SyscallRule kEventLoop[] = {
    {SCMP_SYS(ioctl), 1, kAll, TUNSETOFFLOAD},  // virtio-net feature negotiation
    {SCMP_SYS(epoll_wait)},
    {SCMP_SYS(epoll_pwait)},
    {SCMP_SYS(epoll_ctl)},
    {SCMP_SYS(eventfd2)},
    {SCMP_SYS(timerfd_create)},
    {SCMP_SYS(timerfd_settime)},
    {SCMP_SYS(socket), 0, kAll, AF_UNIX},
    {SCMP_SYS(connect)},
    {SCMP_SYS(accept4)},
    {SCMP_SYS(sendto)},
    {SCMP_SYS(recvfrom)},
    {SCMP_SYS(sendmsg)},
    {SCMP_SYS(recvmsg)},
    {SCMP_SYS(shutdown)},
    {SCMP_SYS(getsockopt)},
    {SCMP_SYS(fsync)},
    {SCMP_SYS(ioctl), 1, kAll, TCGETS},
    {SCMP_SYS(ioctl), 1, kAll, TCSETS},
    {SCMP_SYS(ioctl), 1, kAll, TCSETSW},
    {SCMP_SYS(ioctl), 1, kAll, TCSETSF},
    {SCMP_SYS(ioctl), 1, kAll, TIOCGWINSZ},
    {SCMP_SYS(ioctl), 1, kAll, FIONBIO},
};

// virtio-fs and virtio-9p request workers: the file operations the guest asks for.
constexpr SyscallRule kFsWorker[] = {
    {SCMP_SYS(openat)},       {SCMP_SYS(getdents64)},      {SCMP_SYS(fstatfs)},
    {SCMP_SYS(statfs)},       {SCMP_SYS(mkdir)},           {SCMP_SYS(mkdirat)},
    {SCMP_SYS(mknodat)},      {SCMP_SYS(symlinkat)},       {SCMP_SYS(linkat)},
    {SCMP_SYS(rename)},       {SCMP_SYS(renameat)},        {SCMP_SYS(renameat2)},
    {SCMP_SYS(unlink)},       {SCMP_SYS(unlinkat)},        {SCMP_SYS(rmdir)},
    {SCMP_SYS(readlinkat)},   {SCMP_SYS(fchown)},          {SCMP_SYS(fchownat)},
    {SCMP_SYS(fchmod)},       {SCMP_SYS(fchmodat)},        {SCMP_SYS(utimensat)},
    {SCMP_SYS(fsync)},        {SCMP_SYS(fdatasync)},       {SCMP_SYS(fallocate)},
    {SCMP_SYS(ftruncate)},    {SCMP_SYS(pread64)},         {SCMP_SYS(pwrite64)},
    {SCMP_SYS(preadv)},       {SCMP_SYS(pwritev)},         {SCMP_SYS(preadv2)},
    {SCMP_SYS(pwritev2)},     {SCMP_SYS(copy_file_range)}, {SCMP_SYS(getxattr)},
    {SCMP_SYS(lgetxattr)},    {SCMP_SYS(fgetxattr)},       {SCMP_SYS(setxattr)},
    {SCMP_SYS(lsetxattr)},    {SCMP_SYS(fsetxattr)},       {SCMP_SYS(listxattr)},
    {SCMP_SYS(llistxattr)},   {SCMP_SYS(flistxattr)},      {SCMP_SYS(removexattr)},
    {SCMP_SYS(lremovexattr)}, {SCMP_SYS(fremovexattr)},    {SCMP_SYS(access)},
    {SCMP_SYS(faccessat)},    {SCMP_SYS(faccessat2)},      {SCMP_SYS(flock)},
    {SCMP_SYS(dup)},
};

#if defined(__SANITIZE_ADDRESS__)
// Sanitized builds (tests) only: the sanitizer runtimes probe memory through a
// pipe and give each thread an alternate signal stack.
constexpr SyscallRule kSanitizerRuntime[] = {{SCMP_SYS(pipe2)}, {SCMP_SYS(sigaltstack)}};
#endif

constexpr RoleFilter kRoles[] = {
    {"common", kCommon},
    {"main", kMain},
    {"vcpu", kVcpu},
    {"event-loop", kEventLoop},
    {"fs-worker", kFsWorker},
#if defined(__SANITIZE_ADDRESS__)
    {"sanitizer-runtime", kSanitizerRuntime},
#endif
};

// KVM requests once the guest runs: the vCPU loop, and the VM-fd plumbing the
// devices use for interrupts (irqfd, MSI routes, direct MSI, the legacy lines)
// and doorbells (ioeventfd).
// Which roles make each: interrupts are raised from every guest-facing thread,
// the plumbing is set up on the loop only.
constexpr unsigned kAnyRole =
    role_bit(ThreadRole::Vcpu) | role_bit(ThreadRole::EventLoop) | role_bit(ThreadRole::FsWorker);
constexpr KvmIoctlRule kKvmIoctls[] = {
    {KVM_RUN, KvmFdKind::Vcpu, role_bit(ThreadRole::Vcpu)},
    {KVM_IRQFD, KvmFdKind::Vm, role_bit(ThreadRole::EventLoop)},
    {KVM_IOEVENTFD, KvmFdKind::Vm, role_bit(ThreadRole::EventLoop)},
    {kvm::kSetGsiRouting, KvmFdKind::Vm, role_bit(ThreadRole::EventLoop)},
    {KVM_SIGNAL_MSI, KvmFdKind::Vm, kAnyRole},
    {KVM_IRQ_LINE, KvmFdKind::Vm, kAnyRole},
};

const char* role_table(ThreadRole r) {
  switch (r) {
    case ThreadRole::Vcpu:
      return "vcpu";
    case ThreadRole::EventLoop:
      return "event-loop";
    case ThreadRole::FsWorker:
      return "fs-worker";
  }
  return "";
}

struct CtxDeleter {
  void operator()(scmp_filter_ctx c) const { seccomp_release(c); }
};

}  // namespace

std::span<const RoleFilter> vmm_role_filters() {
  return kRoles;
}

std::span<const KvmIoctlRule> vmm_kvm_ioctls() {
  return kKvmIoctls;
}

namespace {

using Ctx = std::unique_ptr<void, CtxDeleter>;

Status add_rule(scmp_filter_ctx ctx, std::string_view role, const SyscallRule& r) {
  int rc = r.arg < 0 ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r.nr, 0)
                     : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r.nr, 1,
                                        SCMP_CMP(static_cast<unsigned>(r.arg), SCMP_CMP_MASKED_EQ,
                                                 r.mask, r.value));
  // The same unconditional rule in two roles is EEXIST: the union keeps one.
  if (rc == 0 || rc == -EEXIST) return {};
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r.nr);
  std::string what =
      "seccomp: " + std::string(role) + " rule for " + (name ? name : std::to_string(r.nr));
  free(name);
  return Error::from_errno(what, -rc);
}

Status add_role(scmp_filter_ctx ctx, std::string_view role) {
  for (const auto& t : kRoles) {
    if (t.role != role) continue;
    for (const auto& r : t.rules) {
      if (auto s = add_rule(ctx, t.role, r); !s) return s;
    }
  }
  return {};
}

// The KVM ioctls whose roles intersect `roles`, pinned to their fds.
Status add_kvm_rules(scmp_filter_ctx ctx, const KvmFds& kvm, unsigned roles) {
  for (const KvmIoctlRule& k : kKvmIoctls) {
    if (!(k.roles & roles)) continue;
    std::vector<int> fds = k.fd == KvmFdKind::Vm ? std::vector<int>{kvm.vm} : kvm.vcpus;
    for (int fd : fds) {
      if (fd < 0) continue;
      int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
                                SCMP_CMP(0, SCMP_CMP_EQ, static_cast<uint64_t>(fd), 0),
                                SCMP_CMP(1, SCMP_CMP_EQ, static_cast<uint64_t>(k.request), 0));
      if (rc != 0 && rc != -EEXIST)
        return Error::from_errno("seccomp: KVM ioctl rule for fd " + std::to_string(fd), -rc);
    }
  }
  return {};
}

// A new filter context: kill on anything not allowed, clone3 refused cleanly,
// no forced speculation mitigations.
Result<Ctx> new_filter(bool all_threads) {
  Ctx ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return Error("seccomp: cannot create a filter");
  if (all_threads) {
    if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0)
      return Error::from_errno("seccomp: TSYNC", -rc);
  } else {
    // A thread's own filter comes on top of the process's, under which libseccomp's
    // prctl(PR_SET_NO_NEW_PRIVS) would be refused; the thread has it already.
    if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc != 0)
      return Error::from_errno("seccomp: NNP attribute", -rc);
  }
  // SECCOMP_FILTER_FLAG_SPEC_ALLOW: the filter does not also force the kernel's
  // speculative store bypass / indirect branch mitigations onto the VMM's threads
  // (their MSR toggling on every switch of a vCPU thread froze the nested test host
  // under fs load); KVM keeps managing the guest's own speculation controls.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_SSB, 1); rc != 0)
    return Error::from_errno("seccomp: SPEC_ALLOW", -rc);
  // clone3's flags live in memory a filter cannot read: refuse it cleanly.
  if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); rc != 0)
    return Error::from_errno("seccomp: clone3 rule", -rc);
  return ctx;
}

}  // namespace

Status install_vmm_seccomp_filter(const KvmFds& kvm) {
  auto ctx = new_filter(true);
  if (!ctx) return std::move(ctx).error();
  for (const auto& role : kRoles) {
    for (const auto& r : role.rules) {
      if (auto s = add_rule(ctx->get(), role.role, r); !s) return s;
    }
  }
  if (auto s = add_kvm_rules(ctx->get(), kvm, ~0u); !s) return s;
  if (int rc = seccomp_load(ctx->get()); rc != 0) return Error::from_errno("seccomp: load", -rc);
  return {};
}

Status install_thread_role_filter(ThreadRole role, const KvmFds& kvm) {
  auto ctx = new_filter(false);
  if (!ctx) return std::move(ctx).error();
  const std::string_view table = role_table(role);
  for (std::string_view t : {std::string_view("common"), table}) {
    if (auto s = add_role(ctx->get(), t); !s) return s;
  }
#if defined(__SANITIZE_ADDRESS__)
  if (auto s = add_role(ctx->get(), "sanitizer-runtime"); !s) return s;
#endif
  if (auto s = add_kvm_rules(ctx->get(), kvm, role_bit(role)); !s) return s;
  if (int rc = seccomp_load(ctx->get()); rc != 0)
    return Error::from_errno("seccomp: load the " + std::string(table) + " filter", -rc);
  return {};
}

}  // namespace runvm::vmm::jail
