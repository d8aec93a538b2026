#include "vmm/snapshot/vm_state.h"

#include <sys/ioctl.h>

namespace runvm::vmm::snapshot {

namespace {
Status vm_ioctl(int fd, unsigned long req, void* arg, const char* what) {
  if (ioctl(fd, req, arg) != 0) return Error::from_errno(what);
  return {};
}
}  // namespace

Result<VmState> save_vm(int fd) {
  VmState s;
  s.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
  s.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
  s.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
  for (kvm_irqchip* c : {&s.pic_master, &s.pic_slave, &s.ioapic})
    if (auto r = vm_ioctl(fd, KVM_GET_IRQCHIP, c, "KVM_GET_IRQCHIP"); !r) return r.error();
  if (auto r = vm_ioctl(fd, KVM_GET_PIT2, &s.pit, "KVM_GET_PIT2"); !r) return r.error();
  if (auto r = vm_ioctl(fd, KVM_GET_CLOCK, &s.clock, "KVM_GET_CLOCK"); !r) return r.error();
  return s;
}

Status restore_vm(int fd, const VmState& in) {
  VmState s = in;
  for (kvm_irqchip* c : {&s.pic_master, &s.pic_slave, &s.ioapic})
    if (auto r = vm_ioctl(fd, KVM_SET_IRQCHIP, c, "KVM_SET_IRQCHIP"); !r) return r;
  if (auto r = vm_ioctl(fd, KVM_SET_PIT2, &s.pit, "KVM_SET_PIT2"); !r) return r;
  // The guest's clock goes on from where it was saved (time stood still while the
  // snapshot was on disk); the agent sets the wall clock after restore. KVM takes
  // only the clock value here, not the saved host TSC or realtime.
  kvm_clock_data c{};
  c.clock = s.clock.clock;
  if (auto r = vm_ioctl(fd, KVM_SET_CLOCK, &c, "KVM_SET_CLOCK"); !r) return r;
  return {};
}

void encode_vm(StateWriter& w, const VmState& s) {
  w.put(s.pic_master);
  w.put(s.pic_slave);
  w.put(s.ioapic);
  w.put(s.pit);
  w.put(s.clock);
}

bool decode_vm(StateReader& r, VmState* s) {
  return r.get(&s->pic_master) && r.get(&s->pic_slave) && r.get(&s->ioapic) && r.get(&s->pit) &&
         r.get(&s->clock) && s->pic_master.chip_id == KVM_IRQCHIP_PIC_MASTER &&
         s->pic_slave.chip_id == KVM_IRQCHIP_PIC_SLAVE && s->ioapic.chip_id == KVM_IRQCHIP_IOAPIC;
}

}  // namespace runvm::vmm::snapshot
