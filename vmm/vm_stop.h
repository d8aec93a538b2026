// Why and when the VM ends. The first request wins; any thread (vCPU, event
// loop, a device such as pvpanic, the signal handler) may call request().
// The main thread waits for it and then tears the VM down.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

namespace runvm::vmm {

enum class StopReason {
  None,
  GuestReset,     // i8042 reset, KVM_SYSTEM_EVENT_RESET: runvm VMs never reboot -> exit 0
  GuestShutdown,  // KVM_SYSTEM_EVENT_SHUTDOWN (guest power-off) -> exit 0
  HostSignal,     // SIGTERM/SIGINT to the VMM -> exit 0
  GuestPanic,     // pvpanic or KVM_SYSTEM_EVENT_CRASH -> non-zero
  TripleFault,    // KVM_EXIT_SHUTDOWN -> non-zero
  VmmError,       // KVM internal error, failed entry, VMM bug -> non-zero
  SnapshotPoint,  // the guest reached the snapshot point (--snapshot-save only) -> saved, 0
};

class VmStop {
 public:
  // Records the reason (unless one is already recorded) and wakes wait().
  void request(StopReason reason, std::string detail);
  // Blocks until request() was called; returns the first reason.
  StopReason wait();
  bool requested() const;
  StopReason reason() const;
  std::string detail() const;

  // Process exit status for a reason: 0 for resets, power-off and signals.
  // Set once a stop was requested: vCPUs check it after each exit they served, so
  // that none runs the guest on after, say, the snapshot point.
  const std::atomic<bool>& requested_flag() const { return requested_flag_; }
  static int exit_status(StopReason r);
  static const char* describe(StopReason r);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  StopReason reason_ = StopReason::None;
  std::atomic<bool> requested_flag_{false};
  std::string detail_;
};

}  // namespace runvm::vmm
