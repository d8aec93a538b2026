#include "vmm/arch/x86_64/e820.h"

#include "vmm/arch/x86_64/layout.h"

namespace runvm::vmm::x86_64 {

std::vector<E820Entry> build_e820(const GuestMemory& mem) {
  std::vector<E820Entry> out;
  const auto& regions = mem.regions();
  for (size_t i = 0; i < regions.size(); ++i) {
    const auto& r = regions[i];
    if (i == 0 && r.guest_addr == 0 && r.size > kHighMemStart) {
      out.push_back({0, kEbdaStart, kE820Ram});
      out.push_back({kEbdaStart, kHighMemStart - kEbdaStart, kE820Reserved});
      out.push_back({kHighMemStart, r.size - kHighMemStart, kE820Ram});
    } else {
      out.push_back({r.guest_addr, r.size, kE820Ram});
    }
  }
  return out;
}

}  // namespace runvm::vmm::x86_64
