#include <gtest/gtest.h>

#include <vector>

#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/arch/x86_64/e820.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/arch/x86_64/mptable.h"
#include "vmm/boot/linux_boot.h"

namespace runvm::vmm::x86_64 {
namespace {

// A GuestMemory describing regions without backing (only e820 looks at it).
GuestMemory fake_memory(std::vector<std::pair<uint64_t, uint64_t>> regions) {
  std::vector<MemoryRegion> r;
  for (auto [a, s] : regions) r.push_back({a, s, nullptr});
  return GuestMemory::from_regions(r);
}

TEST(E820, BelowThePciHole) {
  auto mem = fake_memory({{0, 256ull << 20}});
  auto e = build_e820(mem);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].addr, 0u);
  EXPECT_EQ(e[0].size, kEbdaStart);
  EXPECT_EQ(e[0].type, kE820Ram);
  EXPECT_EQ(e[1].addr, kEbdaStart);
  EXPECT_EQ(e[1].addr + e[1].size, kHighMemStart);
  EXPECT_EQ(e[1].type, kE820Reserved);
  EXPECT_EQ(e[2].addr, kHighMemStart);
  EXPECT_EQ(e[2].addr + e[2].size, 256ull << 20);
  EXPECT_EQ(e[2].type, kE820Ram);
}

TEST(E820, SplitAroundTheHole) {
  const uint64_t hole = GuestMemory::kDefaultHoleStart;
  auto mem = fake_memory({{0, hole}, {GuestMemory::k4GiB, 1ull << 30}});
  auto e = build_e820(mem);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[2].addr + e[2].size, hole);
  EXPECT_EQ(e[3].addr, GuestMemory::k4GiB);
  EXPECT_EQ(e[3].size, 1ull << 30);
  EXPECT_EQ(e[3].type, kE820Ram);
  uint64_t ram = 0;
  for (auto& x : e)
    if (x.type == kE820Ram) ram += x.size;
  EXPECT_EQ(ram, hole + (1ull << 30) - (kHighMemStart - kEbdaStart));
}

TEST(BootParams, FieldsFromHeaderAndInputs) {
  setup_header h{};
  h.header = 0x53726448;
  h.boot_flag = 0xaa55;
  h.version = 0x020f;
  h.loadflags = 0x01;
  h.initrd_addr_max = 0x7fffffff;
  BootParamsInput in;
  in.hdr = h;
  in.cmdline_addr = kCmdlineAddr;
  in.cmdline_size = 12;
  in.initrd_addr = 0x0800'0000;
  in.initrd_size = 0x1234;
  in.acpi_rsdp = kAcpiAddr;
  in.e820 = {{0, 0x9fc00, 1}, {0x100000, 0x1000000, 1}};
  auto bp = build_boot_params(in);
  ASSERT_TRUE(bp) << bp.error().what();
  EXPECT_EQ(bp->hdr.type_of_loader, 0xff);
  EXPECT_EQ(bp->hdr.loadflags & 0x81, 0x81);  // LOADED_HIGH kept, CAN_USE_HEAP set
  EXPECT_EQ(bp->hdr.cmd_line_ptr, kCmdlineAddr);
  EXPECT_EQ(bp->hdr.cmdline_size, 12u);
  EXPECT_EQ(bp->hdr.ramdisk_image, 0x0800'0000u);
  EXPECT_EQ(bp->hdr.ramdisk_size, 0x1234u);
  EXPECT_EQ(bp->hdr.initrd_addr_max, 0x7fffffffu);
  EXPECT_EQ(bp->acpi_rsdp_addr, kAcpiAddr);
  ASSERT_EQ(bp->e820_entries, 2);
  EXPECT_EQ(bp->e820_table[1].addr, 0x100000u);
  EXPECT_EQ(bp->e820_table[1].type, 1u);
}

TEST(BootParams, ElfGetsSynthesisedHeader) {
  BootParamsInput in;
  auto bp = build_boot_params(in);
  ASSERT_TRUE(bp);
  EXPECT_EQ(bp->hdr.header, 0x53726448u);
  EXPECT_EQ(bp->hdr.boot_flag, 0xaa55);
  EXPECT_EQ(bp->hdr.ramdisk_size, 0u);
}

TEST(BootParams, RejectsTooManyE820Entries) {
  BootParamsInput in;
  in.e820.assign(200, E820Entry{0, 0x1000, 1});
  EXPECT_FALSE(build_boot_params(in));
}

TEST(BootParams, RejectsInitrdAbove4G) {
  BootParamsInput in;
  in.initrd_addr = 0x1'0000'0000;
  in.initrd_size = 10;
  EXPECT_FALSE(build_boot_params(in));
}

uint8_t sum(const uint8_t* p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + p[i]);
  return s;
}

TEST(MpTable, ChecksumsAndEntryCounts) {
  MpTableInput in;
  in.cpus = 4;
  in.pci_intx = {{1, 0, 16}, {2, 0, 17}};
  auto t = build_mptable(in, kMpTableAddr);
  ASSERT_TRUE(t) << t.error().what();
  const auto& b = *t;
  ASSERT_GE(b.size(), 16u + 44u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "_MP_");
  EXPECT_EQ(sum(b.data(), 16), 0);
  uint32_t phys = b[4] | b[5] << 8 | b[6] << 16 | uint32_t(b[7]) << 24;
  EXPECT_EQ(phys, kMpTableAddr + 16);
  const uint8_t* c = b.data() + 16;
  EXPECT_EQ(std::string(c, c + 4), "PCMP");
  uint16_t len = c[4] | c[5] << 8;
  ASSERT_EQ(16u + len, b.size());
  EXPECT_EQ(sum(c, len), 0);
  uint16_t count = c[34] | c[35] << 8;
  // 4 CPUs + 2 buses + 1 IOAPIC + 16 ISA IRQs + 2 PCI INTx + 2 local interrupts.
  EXPECT_EQ(count, 4 + 2 + 1 + 16 + 2 + 2);
  // Walk the entries and count each kind; the first CPU is the BSP.
  size_t off = 44;
  int cpus = 0, ioints = 0, pci_level = 0;
  for (int i = 0; i < count; ++i) {
    ASSERT_LT(off, len);
    uint8_t type = c[off];
    if (type == 0) {
      EXPECT_EQ(c[off + 1], cpus);
      EXPECT_EQ((c[off + 3] & 2) != 0, cpus == 0);
      ++cpus;
      off += 20;
    } else {
      if (type == 3) {
        ++ioints;
        if (c[off + 4] == kMpPciBusId) {
          ++pci_level;
          EXPECT_EQ(c[off + 2], 0x0d);  // level, active high
          EXPECT_EQ(c[off + 5] >> 2, pci_level);
          EXPECT_EQ(c[off + 7], 15 + pci_level);
        }
      }
      off += 8;
    }
  }
  EXPECT_EQ(off, len);
  EXPECT_EQ(cpus, 4);
  EXPECT_EQ(ioints, 18);
  EXPECT_EQ(pci_level, 2);
}

TEST(MpTable, RejectsBadInput) {
  MpTableInput in;
  in.cpus = 0;
  EXPECT_FALSE(build_mptable(in, kMpTableAddr));
  in.cpus = 1;
  in.pci_intx = {{1, 0, 99}};
  EXPECT_FALSE(build_mptable(in, kMpTableAddr));
}

TEST(Initrd, PlacedHighBelowLimits) {
  auto a = boot::place_initrd(0x1800, 0x37ffffff, 256ull << 20, 0x300'0000);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a % 4096, 0u);
  EXPECT_LE(*a + 0x1800, 256ull << 20);
  EXPECT_GE(*a, (256ull << 20) - 0x2000);
  // The header's limit wins when it is lower than RAM.
  auto b = boot::place_initrd(0x1000, 0x00ffffff, 256ull << 20, 0x200000);
  ASSERT_TRUE(b);
  EXPECT_LE(*b + 0x1000, 0x01000000u);
  // Does not fit above the kernel.
  EXPECT_FALSE(boot::place_initrd(200ull << 20, 0x37ffffff, 256ull << 20, 100ull << 20));
  EXPECT_FALSE(boot::place_initrd(300ull << 20, 0x37ffffff, 256ull << 20, 0));
}

}  // namespace
}  // namespace runvm::vmm::x86_64
