#include "vmm/kvm/kvm_pci_services.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "vmm/kvm/ioctls.h"

namespace runvm::vmm::kvm {

KvmPciServices::KvmPciServices(int vm_fd) : vm_fd_(vm_fd) {}

// KVM_SET_GSI_ROUTING replaces the whole table, so the defaults that
// KVM_CREATE_IRQCHIP installed (GSI 0-15 on PIC and IOAPIC, 16-23 on the
// IOAPIC) are re-sent with every change.
bool KvmPciServices::commit_routes_locked() {
  const size_t n = 16 * 2 + (kIoapicPins - 16) + msi_.size();
  FlexBuffer<kvm_irq_routing_entry> buf(n);
  kvm_irq_routing_entry* entries = buf.entries();
  size_t i = 0;
  auto irqchip = [&](uint32_t gsi, uint32_t chip, uint32_t pin) {
    auto& e = entries[i++];
    e.gsi = gsi;
    e.type = KVM_IRQ_ROUTING_IRQCHIP;
    e.u.irqchip.irqchip = chip;
    e.u.irqchip.pin = pin;
  };
  for (uint32_t g = 0; g < 16; ++g) {
    irqchip(g, g < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, g % 8);
    irqchip(g, KVM_IRQCHIP_IOAPIC, g);
  }
  for (uint32_t g = 16; g < kIoapicPins; ++g) irqchip(g, KVM_IRQCHIP_IOAPIC, g);
  for (auto& [gsi, m] : msi_) {
    auto& e = entries[i++];
    e.gsi = static_cast<uint32_t>(gsi);
    e.type = KVM_IRQ_ROUTING_MSI;
    e.u.msi.address_lo = static_cast<uint32_t>(m.address);
    e.u.msi.address_hi = static_cast<uint32_t>(m.address >> 32);
    e.u.msi.data = m.data;
  }
  buf.count() = static_cast<uint32_t>(i);
  return ioctl(vm_fd_, kSetGsiRouting, buf.data()) == 0;
}

int KvmPciServices::msi_route_add(uint64_t address, uint32_t data) {
  std::lock_guard lk(mu_);
  if (next_gsi_ >= kMaxGsi) return -1;
  int gsi = next_gsi_;
  msi_[gsi] = Msi{address, data};
  if (!commit_routes_locked()) {
    msi_.erase(gsi);
    return -1;
  }
  ++next_gsi_;
  return gsi;
}

bool KvmPciServices::msi_route_update(int gsi, uint64_t address, uint32_t data) {
  std::lock_guard lk(mu_);
  auto it = msi_.find(gsi);
  if (it == msi_.end()) return false;
  Msi old = it->second;
  it->second = Msi{address, data};
  if (!commit_routes_locked()) {
    it->second = old;
    return false;
  }
  return true;
}

bool KvmPciServices::irqfd_assign(int eventfd, int gsi) {
  if (gsi < 0 || gsi >= kMaxGsi || eventfd < 0) return false;
  kvm_irqfd f{};
  f.fd = static_cast<uint32_t>(eventfd);
  f.gsi = static_cast<uint32_t>(gsi);
  return ioctl(vm_fd_, KVM_IRQFD, &f) == 0;
}

bool KvmPciServices::irqfd_deassign(int eventfd, int gsi) {
  if (gsi < 0 || gsi >= kMaxGsi || eventfd < 0) return false;
  kvm_irqfd f{};
  f.fd = static_cast<uint32_t>(eventfd);
  f.gsi = static_cast<uint32_t>(gsi);
  f.flags = KVM_IRQFD_FLAG_DEASSIGN;
  return ioctl(vm_fd_, KVM_IRQFD, &f) == 0;
}

bool KvmPciServices::ioeventfd_assign(int eventfd, uint64_t addr, uint32_t len) {
  if (eventfd < 0) return false;
  kvm_ioeventfd io{};
  io.addr = addr;
  io.len = len;
  io.fd = eventfd;
  return ioctl(vm_fd_, KVM_IOEVENTFD, &io) == 0;
}

bool KvmPciServices::ioeventfd_deassign(int eventfd, uint64_t addr, uint32_t len) {
  if (eventfd < 0) return false;
  kvm_ioeventfd io{};
  io.addr = addr;
  io.len = len;
  io.fd = eventfd;
  io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
  return ioctl(vm_fd_, KVM_IOEVENTFD, &io) == 0;
}

bool KvmPciServices::signal_msi(uint64_t address, uint32_t data) {
  kvm_msi msi{};
  msi.address_lo = static_cast<uint32_t>(address);
  msi.address_hi = static_cast<uint32_t>(address >> 32);
  msi.data = data;
  // > 0: delivered, 0: blocked by the guest (masked), < 0: error.
  return ioctl(vm_fd_, KVM_SIGNAL_MSI, &msi) >= 0;
}

bool KvmPciServices::set_irq_line(int gsi, bool level) {
  if (gsi < 0 || gsi >= kIoapicPins) return false;
  kvm_irq_level l{};
  l.irq = static_cast<uint32_t>(gsi);
  l.level = level ? 1 : 0;
  return ioctl(vm_fd_, KVM_IRQ_LINE, &l) == 0;
}

}  // namespace runvm::vmm::kvm
