// A whole x86-64 microVM: KVM VM + memory + devices + vCPU threads + the event
// loop thread, built from a VmConfig and run until the guest or the host ends
// it. Bring-up is a list of steps, each failing with context.
#pragma once

#include <functional>

#include "base/result.h"
#include "vmm/devices/device_manager.h"
#include "vmm/vm_stop.h"
#include "vmm/vm_config.h"

namespace runvm::vmm {

struct MachineResult {
  StopReason reason = StopReason::None;
  std::string detail;
  int exit_status = 1;
};

// Extra devices (virtio) are added by `add_devices` after the legacy devices
// and before the boot tables are written (the MP table lists PCI INTx).
using AddDevicesFn = std::function<Status(DeviceManager&, const VmConfig&)>;

// Builds and runs the VM on the calling thread. SIGTERM/SIGINT/SIGHUP are
// blocked in the calling thread and taken through a signalfd: they stop the VM
// (StopReason::HostSignal). Returns an Error when the VM could not be set up.
[[nodiscard]] Result<MachineResult> run_machine(const VmConfig& cfg,
                                                const AddDevicesFn& add_devices);

}  // namespace runvm::vmm
