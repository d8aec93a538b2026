// pci::Msix against a fake VM: routes stay one per vector, whatever the guest
// writes and whether or not KVM takes the irqfd.
#include "vmm/pci/msix.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/vmm/virtio/fake_vm.h"

namespace runvm::vmm {
namespace {

void write32(pci::Msix& m, uint64_t off, uint32_t v) {
  uint8_t b[4];
  std::memcpy(b, &v, 4);
  m.table_write(off, b);
}

// Without an irqfd the vector keeps its one route and is delivered directly;
// reprogramming it updates that route instead of adding one per write.
TEST(Msix, AFailedIrqfdKeepsOneRoutePerVector) {
  virtio::testing::FakeVm vm;
  vm.fail_irqfd = true;
  pci::Msix msix(2);
  msix.set_vm(&vm);
  msix.set_control(true, false);
  for (uint32_t i = 0; i < 1000; ++i) {
    for (uint64_t v = 0; v < 2; ++v) {
      write32(msix, v * 16 + 0, 0xfee00000u + (i % 4) * 0x1000);  // address low
      write32(msix, v * 16 + 8, 0x40 + i);                        // data
      write32(msix, v * 16 + 12, 0);                              // unmask
    }
  }
  EXPECT_LE(vm.routes.size(), 2u);
  msix.fire(0);
  ASSERT_FALSE(vm.direct_msis.empty()) << "no irqfd: the interrupt must still arrive";
  EXPECT_EQ(vm.direct_msis.back().data, 0x40u + 999u);
}

}  // namespace
}  // namespace runvm::vmm
