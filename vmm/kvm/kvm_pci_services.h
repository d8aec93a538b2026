// PciVmServices over KVM: GSI routing (the in-kernel PIC/IOAPIC default
// routes plus one MSI route per allocated GSI), irqfd, ioeventfd (MMIO),
// direct MSI injection and legacy IRQ lines. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>

#include "vmm/pci/pci_device.h"

namespace runvm::vmm::kvm {

class KvmPciServices : public PciVmServices {
 public:
  // `vm_fd` is a KVM VM with an in-kernel irqchip (KVM_CREATE_IRQCHIP done);
  // the caller keeps it open for the lifetime of this object.
  explicit KvmPciServices(int vm_fd);

  int msi_route_add(uint64_t address, uint32_t data) override;
  bool msi_route_update(int gsi, uint64_t address, uint32_t data) override;
  bool irqfd_assign(int eventfd, int gsi) override;
  bool irqfd_deassign(int eventfd, int gsi) override;
  bool ioeventfd_assign(int eventfd, uint64_t addr, uint32_t len) override;
  bool ioeventfd_deassign(int eventfd, uint64_t addr, uint32_t len) override;
  bool signal_msi(uint64_t address, uint32_t data) override;
  bool set_irq_line(int gsi, bool level) override;

  // GSIs 0..23 are the IOAPIC pins (0..15 also on the PIC); MSI GSIs follow.
  static constexpr int kIoapicPins = 24;
  static constexpr int kMaxGsi = 1024;

 private:
  struct Msi {
    uint64_t address;
    uint32_t data;
  };
  bool commit_routes_locked();

  int vm_fd_;
  std::mutex mu_;
  std::map<int, Msi> msi_;  // GSI -> message
  int next_gsi_ = kIoapicPins;
};

}  // namespace runvm::vmm::kvm
