// The KVM system handle (/dev/kvm) and the VM file descriptor.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/memory/guest_memory.h"

namespace runvm::vmm::kvm {

class Kvm {
 public:
  // Opens the device and checks the stable API version (12).
  [[nodiscard]] static Result<Kvm> open(const std::string& path = "/dev/kvm");

  int fd() const { return fd_.get(); }
  [[nodiscard]] Result<size_t> vcpu_mmap_size() const;
  // KVM_GET_SUPPORTED_CPUID; the array grows until it is large enough (hosts
  // report well over 100 entries with subleaves).
  [[nodiscard]] Result<std::vector<kvm_cpuid_entry2>> supported_cpuid() const;
  bool has_extension(int cap) const;

 private:
  UniqueFd fd_;
};

class Vm {
 public:
  [[nodiscard]] static Result<Vm> create(const Kvm& kvm);

  int fd() const { return fd_.get(); }

  // x86 platform set-up, before vCPUs: TSS and identity-map pages (needed on
  // Intel, harmless elsewhere), the in-kernel PIC+IOAPIC+LAPICs and the PIT.
  [[nodiscard]] Status setup_x86_irqchip();
  // One KVM memory slot per guest memory region.
  [[nodiscard]] Status set_memory(const GuestMemory& mem);

  // Just below the 4 GiB boundary, above the IOAPIC/LAPIC pages.
  static constexpr uint64_t kIdentityMapAddr = 0xfffb'c000;
  static constexpr uint64_t kTssAddr = 0xfffb'd000;

 private:
  UniqueFd fd_;
};

}  // namespace runvm::vmm::kvm
