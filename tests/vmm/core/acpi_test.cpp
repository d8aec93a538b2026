#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>

#include "vmm/arch/x86_64/acpi.h"
#include "vmm/arch/x86_64/layout.h"

namespace runvm::vmm::x86_64 {
namespace {

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

TEST(Acpi, TablesLinkAndChecksum) {
  AcpiInput in;
  in.cpus = 3;
  in.pci_intx = {{1, 0, 16}, {2, 0, 17}};
  const uint64_t base = kAcpiAddr;
  auto t = build_acpi_tables(in, base);
  ASSERT_TRUE(t) << t.error().what();
  const auto& b = *t;
  auto at = [&](uint64_t gpa) {
    EXPECT_GE(gpa, base);
    EXPECT_LT(gpa - base, b.size());
    return b.data() + (gpa - base);
  };
  ASSERT_EQ(std::memcmp(b.data(), "RSD PTR ", 8), 0);
  EXPECT_EQ(acpi_sum(b.data(), 20), 0);
  EXPECT_EQ(acpi_sum(b.data(), 36), 0);
  EXPECT_EQ(b[15], 2);  // revision
  const uint8_t* xsdt = at(le(b.data() + 24, 8));
  ASSERT_EQ(std::memcmp(xsdt, "XSDT", 4), 0);
  uint32_t xlen = static_cast<uint32_t>(le(xsdt + 4, 4));
  EXPECT_EQ(acpi_sum(xsdt, xlen), 0);
  std::map<std::string, const uint8_t*> tables;
  for (uint32_t off = 36; off < xlen; off += 8) {
    const uint8_t* tb = at(le(xsdt + off, 8));
    uint32_t len = static_cast<uint32_t>(le(tb + 4, 4));
    EXPECT_EQ(acpi_sum(tb, len), 0);
    tables[std::string(tb, tb + 4)] = tb;
  }
  ASSERT_TRUE(tables.count("FACP"));
  ASSERT_TRUE(tables.count("APIC"));
  const uint8_t* fadt = tables["FACP"];
  EXPECT_EQ(le(fadt + 4, 4), 276u);
  EXPECT_TRUE(le(fadt + 112, 4) & (1u << 20));  // hardware reduced
  EXPECT_EQ(le(fadt + 116 + 4, 8), 0x64u);      // reset register: i8042
  EXPECT_EQ(fadt[128], 0xfe);
  EXPECT_EQ(le(fadt + 244 + 4, 8), kSleepControlPort);
  const uint8_t* dsdt = at(le(fadt + 140, 8));
  ASSERT_EQ(std::memcmp(dsdt, "DSDT", 4), 0);
  uint32_t dlen = static_cast<uint32_t>(le(dsdt + 4, 4));
  EXPECT_EQ(acpi_sum(dsdt, dlen), 0);
  std::string aml(dsdt + 36, dsdt + dlen);
  EXPECT_NE(aml.find("PCI0"), std::string::npos);
  EXPECT_NE(aml.find("_S5_"), std::string::npos);
  EXPECT_NE(aml.find("_CRS"), std::string::npos);
  EXPECT_NE(aml.find("COM1"), std::string::npos);
  // _PRT entry for slot 2: DWordConst 0x0002FFFF, Zero (pin A), Zero, ByteConst 17.
  EXPECT_NE(aml.find("_PRT"), std::string::npos);
  EXPECT_NE(aml.find(std::string("\x0c\xff\xff\x02\x00\x00\x00\x0a\x11", 9)), std::string::npos);
  // COM1's IRQ 4 is described (IRQ descriptor 0x22 with mask 1 << 4).
  EXPECT_NE(aml.find(std::string("\x22\x10\x00", 3)), std::string::npos);

  // MADT: 3 local APICs with ids 0..2, one IOAPIC, one LAPIC NMI.
  const uint8_t* madt = tables["APIC"];
  uint32_t mlen = static_cast<uint32_t>(le(madt + 4, 4));
  EXPECT_EQ(le(madt + 36, 4), kLapicAddr);
  int lapics = 0, ioapics = 0, nmis = 0;
  for (uint32_t off = 44; off < mlen;) {
    uint8_t type = madt[off], len = madt[off + 1];
    ASSERT_GT(len, 0);
    if (type == 0) {
      EXPECT_EQ(madt[off + 3], lapics);
      ++lapics;
    } else if (type == 1) {
      EXPECT_EQ(le(madt + off + 4, 4), kIoapicAddr);
      ++ioapics;
    } else if (type == 4) {
      ++nmis;
    }
    off += len;
  }
  EXPECT_EQ(lapics, 3);
  EXPECT_EQ(ioapics, 1);
  EXPECT_EQ(nmis, 1);
}

TEST(Acpi, RejectsBadInput) {
  AcpiInput in;
  in.cpus = 0;
  EXPECT_FALSE(build_acpi_tables(in, kAcpiAddr));
  in.cpus = 1;
  EXPECT_FALSE(build_acpi_tables(in, kAcpiAddr + 4));
  in.pci_intx = {{1, 0, 30}};
  EXPECT_FALSE(build_acpi_tables(in, kAcpiAddr));
  in.pci_intx.clear();
  in.pci_mmio_end = in.pci_mmio_base;
  EXPECT_FALSE(build_acpi_tables(in, kAcpiAddr));
}

}  // namespace
}  // namespace runvm::vmm::x86_64
