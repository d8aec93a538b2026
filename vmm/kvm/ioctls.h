// KVM ioctls whose argument is a header followed by a flexible array
// (kvm_cpuid2, kvm_msrs, kvm_irq_routing). In C++ the UAPI headers'
// __DECLARE_FLEX_ARRAY adds an empty struct member, which moves `entries`
// and changes sizeof() (and so the size encoded in the ioctl number). These
// helpers use the C layout: an 8-byte header, entries from offset 8.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace runvm::vmm::kvm {

inline constexpr unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8);
inline constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, 8);
inline constexpr unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, 8);
inline constexpr unsigned long kSetGsiRouting = _IOC(_IOC_WRITE, KVMIO, 0x6a, 8);

// A zeroed, 8-byte aligned buffer: u32 count, u32 flags/padding, Entry[n].
template <class Entry>
class FlexBuffer {
 public:
  explicit FlexBuffer(size_t n) : words_((8 + n * sizeof(Entry) + 7) / 8, 0) {}
  void* data() { return words_.data(); }
  uint32_t& count() { return *reinterpret_cast<uint32_t*>(words_.data()); }
  Entry* entries() { return reinterpret_cast<Entry*>(words_.data() + 1); }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace runvm::vmm::kvm
