#include "vmm/kvm/vcpu.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

namespace runvm::vmm::kvm {

namespace {
void kick_handler(int) {}
}  // namespace

int Vcpu::kick_signal() {
  return SIGRTMIN + 1;
}

void Vcpu::install_kick_handler() {
  struct sigaction sa {};
  sa.sa_handler = kick_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
  sigaction(kick_signal(), &sa, nullptr);
}

Result<std::unique_ptr<Vcpu>> Vcpu::create(int vm_fd, unsigned id, size_t mmap_size) {
  int fd = ioctl(vm_fd, KVM_CREATE_VCPU, static_cast<unsigned long>(id));
  if (fd < 0) return Error::from_errno("KVM_CREATE_VCPU " + std::to_string(id));
  UniqueFd owned(fd);
  if (mmap_size < sizeof(kvm_run)) return Error("vcpu mmap size too small");
  void* p = mmap(nullptr, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Error::from_errno("mmap kvm_run of vcpu " + std::to_string(id));
  return std::unique_ptr<Vcpu>(new Vcpu(std::move(owned), id, static_cast<kvm_run*>(p), mmap_size));
}

Vcpu::Vcpu(UniqueFd fd, unsigned id, kvm_run* run, size_t size)
    : fd_(std::move(fd)), id_(id), run_(run), run_size_(size) {}

Vcpu::~Vcpu() {
  munmap(run_, run_size_);
}

void Vcpu::request_stop() {
  stop_.store(true);
  // immediate_exit covers the window just before KVM_RUN; the signal
  // interrupts a KVM_RUN in progress.
  __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_SEQ_CST);
  if (running_thread_set_.load()) pthread_kill(thread_, kick_signal());
}

Status Vcpu::complete_pending_exit() {
  __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_SEQ_CST);
  int r = ioctl(fd(), KVM_RUN, 0);
  int err = errno;
  __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_SEQ_CST);
  if (r < 0 && err != EINTR)
    return Error("vcpu " + std::to_string(id_) + ": KVM_RUN (immediate exit): " +
                     std::strerror(err),
                 err);
  return {};
}

void Vcpu::handle_io(const Bus& pio) {
  auto& io = run_->io;
  uint64_t total = uint64_t{io.size} * io.count;
  if (io.size == 0 || io.size > 8 || io.data_offset > run_size_ ||
      total > run_size_ - io.data_offset)
    return;
  uint8_t* data = reinterpret_cast<uint8_t*>(run_) + io.data_offset;
  for (uint32_t i = 0; i < io.count; ++i) {
    std::span<uint8_t> d(data + size_t{i} * io.size, io.size);
    if (io.direction == KVM_EXIT_IO_OUT)
      pio.write(io.port, d);
    else
      pio.read(io.port, d);
  }
}

void Vcpu::handle_mmio(const Bus& mmio) {
  auto& m = run_->mmio;
  if (m.len == 0 || m.len > sizeof(m.data)) return;
  std::span<uint8_t> d(m.data, m.len);
  if (m.is_write)
    mmio.write(m.phys_addr, d);
  else
    mmio.read(m.phys_addr, d);
}

VcpuExit Vcpu::run(const Bus& pio, const Bus& mmio, bool exit_on_hlt,
                   const std::atomic<bool>* vm_stopping) {
  thread_ = pthread_self();
  running_thread_set_.store(true);
  // The kick signal must reach this thread even if the creator blocked it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kick_signal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

  char buf[160];
  while (!stop_.load()) {
    int r = ioctl(fd(), KVM_RUN, 0);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_SEQ_CST);
        continue;
      }
      return {VcpuExitKind::Error,
              "vcpu " + std::to_string(id_) + ": KVM_RUN: " + std::strerror(errno)};
    }
    switch (run_->exit_reason) {
      case KVM_EXIT_IO:
        handle_io(pio);
        if (vm_stopping && vm_stopping->load()) return {};
        break;
      case KVM_EXIT_MMIO:
        handle_mmio(mmio);
        if (vm_stopping && vm_stopping->load()) return {};
        break;
      case KVM_EXIT_HLT:
        if (exit_on_hlt) return {VcpuExitKind::Halted, "hlt", true};
        break;
      case KVM_EXIT_IRQ_WINDOW_OPEN:
      case KVM_EXIT_INTR:
        break;
      case KVM_EXIT_SHUTDOWN:
        return {VcpuExitKind::TripleFault,
                "vcpu " + std::to_string(id_) + ": triple fault (KVM_EXIT_SHUTDOWN)"};
      case KVM_EXIT_SYSTEM_EVENT:
        switch (run_->system_event.type) {
          case KVM_SYSTEM_EVENT_SHUTDOWN:
            return {VcpuExitKind::Shutdown, "system event shutdown"};
          case KVM_SYSTEM_EVENT_RESET:
            return {VcpuExitKind::Reset, "system event reset"};
          case KVM_SYSTEM_EVENT_CRASH:
            return {VcpuExitKind::Crash, "system event crash"};
          default:
            break;
        }
        break;
      case KVM_EXIT_FAIL_ENTRY:
        std::snprintf(
            buf, sizeof buf, "vcpu %u: KVM_EXIT_FAIL_ENTRY, reason 0x%llx", id_,
            static_cast<unsigned long long>(run_->fail_entry.hardware_entry_failure_reason));
        return {VcpuExitKind::Error, buf};
      case KVM_EXIT_INTERNAL_ERROR:
        std::snprintf(buf, sizeof buf, "vcpu %u: KVM_EXIT_INTERNAL_ERROR, suberror %u", id_,
                      run_->internal.suberror);
        return {VcpuExitKind::Error, buf};
      default:
        std::snprintf(buf, sizeof buf, "vcpu %u: unexpected KVM exit reason %u", id_,
                      run_->exit_reason);
        return {VcpuExitKind::Error, buf};
    }
  }
  return {};
}

}  // namespace runvm::vmm::kvm
