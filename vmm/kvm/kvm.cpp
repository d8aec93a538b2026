#include "vmm/kvm/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "vmm/kvm/ioctls.h"

namespace runvm::vmm::kvm {

Result<Kvm> Kvm::open(const std::string& path) {
  Kvm k;
  k.fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!k.fd_.valid()) return Error::from_errno("open " + path);
  int v = ioctl(k.fd(), KVM_GET_API_VERSION, 0);
  if (v != KVM_API_VERSION)
    return Error(path + ": unsupported KVM API version " + std::to_string(v));
  return k;
}

Result<size_t> Kvm::vcpu_mmap_size() const {
  int n = ioctl(fd(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (n <= 0) return Error::from_errno("KVM_GET_VCPU_MMAP_SIZE");
  return static_cast<size_t>(n);
}

bool Kvm::has_extension(int cap) const {
  return ioctl(fd(), KVM_CHECK_EXTENSION, cap) > 0;
}

Result<std::vector<kvm_cpuid_entry2>> Kvm::supported_cpuid() const {
  for (uint32_t n = 128; n <= 4096; n *= 2) {
    FlexBuffer<kvm_cpuid_entry2> buf(n);
    buf.count() = n;
    if (ioctl(fd(), kGetSupportedCpuid, buf.data()) == 0) {
      uint32_t got = std::min(buf.count(), n);
      return std::vector<kvm_cpuid_entry2>(buf.entries(), buf.entries() + got);
    }
    if (errno != E2BIG) return Error::from_errno("KVM_GET_SUPPORTED_CPUID");
  }
  return Error("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

Result<Vm> Vm::create(const Kvm& kvm) {
  Vm vm;
  int fd;
  do {
    fd = ioctl(kvm.fd(), KVM_CREATE_VM, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return Error::from_errno("KVM_CREATE_VM");
  vm.fd_ = UniqueFd(fd);
  return vm;
}

Status Vm::setup_x86_irqchip() {
  if (ioctl(fd(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(kTssAddr)) != 0)
    return Error::from_errno("KVM_SET_TSS_ADDR");
  uint64_t ident = kIdentityMapAddr;
  if (ioctl(fd(), KVM_SET_IDENTITY_MAP_ADDR, &ident) != 0)
    return Error::from_errno("KVM_SET_IDENTITY_MAP_ADDR");
  if (ioctl(fd(), KVM_CREATE_IRQCHIP, 0) != 0) return Error::from_errno("KVM_CREATE_IRQCHIP");
  kvm_pit_config pit{};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;
  if (ioctl(fd(), KVM_CREATE_PIT2, &pit) != 0) return Error::from_errno("KVM_CREATE_PIT2");
  return {};
}

Status Vm::set_memory(const GuestMemory& mem) {
  uint32_t slot = 0;
  for (const auto& r : mem.regions()) {
    kvm_userspace_memory_region m{};
    m.slot = slot++;
    m.guest_phys_addr = r.guest_addr;
    m.memory_size = r.size;
    m.userspace_addr = reinterpret_cast<uint64_t>(r.host);
    if (ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &m) != 0)
      return Error::from_errno("KVM_SET_USER_MEMORY_REGION slot " + std::to_string(m.slot));
  }
  return {};
}

}  // namespace runvm::vmm::kvm
