// One KVM vCPU: its fd, the shared kvm_run page and the KVM_RUN exit loop.
// run() is called on the vCPU's own thread; request_stop() may be called from
// any thread and makes run() return promptly (immediate_exit + a signal that
// interrupts a KVM_RUN in progress).
#pragma once

#include <linux/kvm.h>
#include <pthread.h>

#include <atomic>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/bus/bus.h"

namespace runvm::vmm::kvm {

// How the guest left run(), in KVM's terms (the machine decides what each means for
// the VM): Stopped = request_stop(); Halted = KVM_EXIT_HLT with exit_on_hlt;
// Shutdown/Reset/Crash = KVM_SYSTEM_EVENT_*; TripleFault = KVM_EXIT_SHUTDOWN;
// Error = a failed KVM_RUN, a failed entry or an exit KVM should not give us.
enum class VcpuExitKind { Stopped, Halted, Shutdown, Reset, Crash, TripleFault, Error };

struct VcpuExit {
  VcpuExitKind kind = VcpuExitKind::Stopped;
  std::string detail;
  bool halted = false;  // KVM_EXIT_HLT (only without an in-kernel irqchip)
};

class Vcpu {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Vcpu>> create(int vm_fd, unsigned id,
                                                            size_t mmap_size);
  ~Vcpu();
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;

  int fd() const { return fd_.get(); }
  unsigned id() const { return id_; }

  // Installs the (empty) handler for the kick signal; call once per process.
  static void install_kick_handler();
  static int kick_signal();

  // Runs the guest until a terminal exit or request_stop(). With
  // `exit_on_hlt`, KVM_EXIT_HLT ends the loop (tests without irqchip).
  // `vm_stopping` (optional): checked after each port or MMIO exit served; once set,
  // run() returns (Stopped) without entering the guest again.
  VcpuExit run(const Bus& pio, const Bus& mmio, bool exit_on_hlt = false,
               const std::atomic<bool>* vm_stopping = nullptr);
  void request_stop();
  // After run() returned: lets KVM finish the exit the VMM last served (the port or
  // MMIO access's completion, which KVM does on the next KVM_RUN) without running the
  // guest, so that the registers read next are consistent (a snapshot).
  [[nodiscard]] Status complete_pending_exit();

 private:
  Vcpu(UniqueFd fd, unsigned id, kvm_run* run, size_t size);
  void handle_io(const Bus& pio);
  void handle_mmio(const Bus& mmio);

  UniqueFd fd_;
  unsigned id_;
  kvm_run* run_;
  size_t run_size_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_thread_set_{false};
  pthread_t thread_{};
};

}  // namespace runvm::vmm::kvm
