#include "vmm/jail/seccomp_filter.h"

#include <linux/kvm.h>
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
    // Threads only (device workers start when the guest activates a device);
    // clone3 cannot be checked and answers ENOSYS, so glibc falls back to clone.
    {SCMP_SYS(clone), 0, CLONE_THREAD, CLONE_THREAD},
    {SCMP_SYS(set_robust_list)},
    // glibc's own thread signals (SIGCANCEL, SIGSETXID: SIGRTMIN and +1), whose
    // handlers it installs at the first pthread_create; no other handler changes.
    {SCMP_SYS(rt_sigaction), 0, kAll, 32},
    {SCMP_SYS(rt_sigaction), 0, kAll, 33},
    {SCMP_SYS(rseq)},
    {SCMP_SYS(prctl), 0, kAll, PR_SET_NAME},
    {SCMP_SYS(prlimit64), 2, kAll, 0},  // getrlimit only
    {SCMP_SYS(exit)},
    {SCMP_SYS(exit_group)},
};

// vCPU threads: KVM_RUN (kKvmIoctls) and the device emulation that runs on
// MMIO/PIO exits (notify kicks, activation on DRIVER_OK, irqfd set-up at MSI-X
// unmask).
constexpr SyscallRule kVcpu[] = {
    {SCMP_SYS(eventfd2)},
    {SCMP_SYS(epoll_ctl)},
    {SCMP_SYS(ioctl), 1, kAll, TUNSETOFFLOAD},  // virtio-net feature negotiation
};

// The event loop: epoll, eventfds, the vsock muxer's unix sockets, the tap,
// the console, signals and the terminal.
constexpr SyscallRule kEventLoop[] = {
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
constexpr KvmIoctlRule kKvmIoctls[] = {
    {KVM_RUN, KvmFdKind::Vcpu},     {KVM_IRQFD, KvmFdKind::Vm},
    {KVM_IOEVENTFD, KvmFdKind::Vm}, {KVM_SIGNAL_MSI, KvmFdKind::Vm},
    {KVM_IRQ_LINE, KvmFdKind::Vm},  {kvm::kSetGsiRouting, KvmFdKind::Vm},
};

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

Status install_vmm_seccomp_filter(const KvmFds& kvm) {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return Error("seccomp: cannot create a filter");
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0)
    return Error::from_errno("seccomp: TSYNC", -rc);
  // SECCOMP_FILTER_FLAG_SPEC_ALLOW: the filter does not also force the kernel's
  // speculative store bypass / indirect branch mitigations onto the VMM's threads
  // (their MSR toggling on every switch of a vCPU thread froze the nested test host
  // under fs load); KVM keeps managing the guest's own speculation controls.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_SSB, 1); rc != 0)
    return Error::from_errno("seccomp: SPEC_ALLOW", -rc);
  // clone3's flags live in memory a filter cannot read: refuse it cleanly.
  if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); rc != 0)
    return Error::from_errno("seccomp: clone3 rule", -rc);
  for (const auto& role : kRoles) {
    for (const auto& r : role.rules) {
      int rc = r.arg < 0 ? seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, r.nr, 0)
                         : seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, r.nr, 1,
                                            SCMP_CMP(static_cast<unsigned>(r.arg),
                                                     SCMP_CMP_MASKED_EQ, r.mask, r.value));
      // The same unconditional rule in two roles is EEXIST: the union keeps one.
      if (rc != 0 && rc != -EEXIST) {
        char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r.nr);
        std::string what = "seccomp: " + std::string(role.role) + " rule for " +
                           (name ? name : std::to_string(r.nr));
        free(name);
        return Error::from_errno(what, -rc);
      }
    }
  }
  for (const KvmIoctlRule& k : kKvmIoctls) {
    std::vector<int> fds = k.fd == KvmFdKind::Vm ? std::vector<int>{kvm.vm} : kvm.vcpus;
    for (int fd : fds) {
      if (fd < 0) continue;
      int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
                                SCMP_CMP(0, SCMP_CMP_EQ, static_cast<uint64_t>(fd), 0),
                                SCMP_CMP(1, SCMP_CMP_EQ, static_cast<uint64_t>(k.request), 0));
      if (rc != 0 && rc != -EEXIST)
        return Error::from_errno("seccomp: KVM ioctl rule for fd " + std::to_string(fd), -rc);
    }
  }
  if (int rc = seccomp_load(ctx.get()); rc != 0) return Error::from_errno("seccomp: load", -rc);
  return {};
}

}  // namespace runvm::vmm::jail
