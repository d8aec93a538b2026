// The VM-wide KVM state of a snapshot: the in-kernel PIC pair and IOAPIC, the
// PIT and the kvmclock. Restored before the vCPUs.
#pragma once

#include <linux/kvm.h>

#include "base/result.h"
#include "vmm/snapshot/state_buffer.h"

namespace runvm::vmm::snapshot {

struct VmState {
  kvm_irqchip pic_master{};
  kvm_irqchip pic_slave{};
  kvm_irqchip ioapic{};
  kvm_pit_state2 pit{};
  kvm_clock_data clock{};
};

[[nodiscard]] Result<VmState> save_vm(int vm_fd);
[[nodiscard]] Status restore_vm(int vm_fd, const VmState& s);

void encode_vm(StateWriter& w, const VmState& s);
[[nodiscard]] bool decode_vm(StateReader& r, VmState* s);

}  // namespace runvm::vmm::snapshot
