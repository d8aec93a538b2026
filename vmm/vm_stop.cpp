#include "vmm/vm_stop.h"

namespace runvm::vmm {

void VmStop::request(StopReason reason, std::string detail) {
  {
    std::lock_guard lk(mu_);
    if (reason_ != StopReason::None) return;
    reason_ = reason;
    detail_ = std::move(detail);
    requested_flag_.store(true);
  }
  cv_.notify_all();
}

StopReason VmStop::wait() {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return reason_ != StopReason::None; });
  return reason_;
}

bool VmStop::requested() const {
  std::lock_guard lk(mu_);
  return reason_ != StopReason::None;
}

StopReason VmStop::reason() const {
  std::lock_guard lk(mu_);
  return reason_;
}

std::string VmStop::detail() const {
  std::lock_guard lk(mu_);
  return detail_;
}

int VmStop::exit_status(StopReason r) {
  switch (r) {
    case StopReason::GuestReset:
    case StopReason::GuestShutdown:
    case StopReason::HostSignal:
    case StopReason::SnapshotPoint:
      return 0;
    case StopReason::GuestPanic:
      return 2;
    case StopReason::TripleFault:
      return 3;
    case StopReason::None:
    case StopReason::VmmError:
      return 1;
  }
  return 1;
}

const char* VmStop::describe(StopReason r) {
  switch (r) {
    case StopReason::None:
      return "running";
    case StopReason::GuestReset:
      return "guest requested a reset";
    case StopReason::GuestShutdown:
      return "guest powered off";
    case StopReason::SnapshotPoint:
      return "guest reached the snapshot point";
    case StopReason::HostSignal:
      return "stopped by signal";
    case StopReason::GuestPanic:
      return "guest kernel panic";
    case StopReason::TripleFault:
      return "guest triple fault";
    case StopReason::VmmError:
      return "VMM error";
  }
  return "unknown";
}

}  // namespace runvm::vmm
