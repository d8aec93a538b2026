#include "vmm/arch/x86_64/mptable.h"

#include <cstring>

#include "vmm/arch/x86_64/layout.h"

namespace runvm::vmm::x86_64 {

namespace {

class Writer {
 public:
  void u8(uint8_t v) { b_.push_back(v); }
  void u16(uint16_t v) {
    u8(v & 0xff);
    u8(v >> 8);
  }
  void u32(uint32_t v) {
    u16(v & 0xffff);
    u16(v >> 16);
  }
  void str(const char* s, size_t n) {  // fixed-width, space padded
    size_t l = std::strlen(s);
    for (size_t i = 0; i < n; ++i) u8(i < l ? static_cast<uint8_t>(s[i]) : ' ');
  }
  void zeros(size_t n) { b_.insert(b_.end(), n, 0); }
  std::vector<uint8_t>& bytes() { return b_; }

 private:
  std::vector<uint8_t> b_;
};

uint8_t checksum(const uint8_t* p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + p[i]);
  return static_cast<uint8_t>(-s);
}

constexpr uint8_t kProcessor = 0, kBus = 1, kIoapic = 2, kIoInt = 3, kLocalInt = 4;
constexpr uint8_t kIntINT = 0, kIntNMI = 1, kIntExtINT = 3;
// Polarity bits 0-1, trigger bits 2-3: 01 = active high / edge, 11 = active low / level.
constexpr uint16_t kFlagsConform = 0;
constexpr uint16_t kFlagsLevelHigh = 0x1 | (0x3 << 2);

}  // namespace

Result<std::vector<uint8_t>> build_mptable(const MpTableInput& in, uint64_t base) {
  if (in.cpus == 0 || in.cpus > 254) return Error("mptable: cpu count out of range");
  if (base + 16 > 0xffffffff) return Error("mptable: base above 4 GiB");
  const uint8_t ioapic_id = static_cast<uint8_t>(in.cpus);  // after the CPUs' APIC ids
  Writer w;
  // Floating pointer structure (16 bytes).
  w.str("_MP_", 4);
  w.u32(static_cast<uint32_t>(base + 16));  // config table follows
  w.u8(1);                                  // length in 16-byte units
  w.u8(4);                                  // spec revision 1.4
  w.u8(0);                                  // checksum, patched below
  w.u8(0);                                  // feature 1: a config table is present
  w.zeros(4);                               // feature 2-5: virtual wire mode, no IMCR

  // Configuration table header (44 bytes).
  const size_t hdr = w.bytes().size();
  w.str("PCMP", 4);
  w.u16(0);  // base table length, patched
  w.u8(4);
  w.u8(0);  // checksum, patched
  w.str("RUNVM", 8);
  w.str("MICROVM", 12);
  w.u32(0);  // OEM table
  w.u16(0);
  w.u16(0);  // entry count, patched
  w.u32(static_cast<uint32_t>(kLapicAddr));
  w.u16(0);  // extended table
  w.u8(0);
  w.u8(0);
  uint16_t entries = 0;

  for (unsigned i = 0; i < in.cpus; ++i) {
    w.u8(kProcessor);
    w.u8(static_cast<uint8_t>(i));                         // local APIC id
    w.u8(0x14);                                            // local APIC version
    w.u8(static_cast<uint8_t>(0x1 | (i == 0 ? 0x2 : 0)));  // enabled, BSP
    w.u32(in.cpu_signature);
    w.u32(in.cpu_features);
    w.zeros(8);
    ++entries;
  }
  for (auto [id, name] : {std::pair{kMpPciBusId, "PCI"}, std::pair{kMpIsaBusId, "ISA"}}) {
    w.u8(kBus);
    w.u8(id);
    w.str(name, 6);
    ++entries;
  }
  w.u8(kIoapic);
  w.u8(ioapic_id);
  w.u8(0x11);  // IOAPIC version
  w.u8(1);     // enabled
  w.u32(static_cast<uint32_t>(kIoapicAddr));
  ++entries;

  auto io_int = [&](uint8_t type, uint16_t flags, uint8_t bus, uint8_t bus_irq, uint8_t pin) {
    w.u8(kIoInt);
    w.u8(type);
    w.u16(flags);
    w.u8(bus);
    w.u8(bus_irq);
    w.u8(ioapic_id);
    w.u8(pin);
    ++entries;
  };
  // ISA IRQ n is IOAPIC pin n (the in-kernel irqchip's default GSI routing).
  for (uint8_t irq = 0; irq < 16; ++irq) io_int(kIntINT, kFlagsConform, kMpIsaBusId, irq, irq);
  for (const auto& r : in.pci_intx) {
    if (r.slot < 0 || r.slot > 31 || r.pin < 0 || r.pin > 3 || r.gsi < 0 || r.gsi > 23)
      return Error("mptable: bad PCI INTx route for slot " + std::to_string(r.slot));
    io_int(kIntINT, kFlagsLevelHigh, kMpPciBusId, static_cast<uint8_t>((r.slot << 2) | r.pin),
           static_cast<uint8_t>(r.gsi));
  }
  auto local_int = [&](uint8_t type, uint8_t dst_apic, uint8_t lint) {
    w.u8(kLocalInt);
    w.u8(type);
    w.u16(kFlagsConform);
    w.u8(kMpIsaBusId);
    w.u8(0);
    w.u8(dst_apic);
    w.u8(lint);
    ++entries;
  };
  local_int(kIntExtINT, 0xff, 0);
  local_int(kIntNMI, 0xff, 1);

  auto& b = w.bytes();
  const size_t len = b.size() - hdr;
  b[hdr + 4] = static_cast<uint8_t>(len);
  b[hdr + 5] = static_cast<uint8_t>(len >> 8);
  b[hdr + 34] = static_cast<uint8_t>(entries);
  b[hdr + 35] = static_cast<uint8_t>(entries >> 8);
  b[hdr + 7] = checksum(b.data() + hdr, len);
  b[10] = checksum(b.data(), 16);
  return std::move(b);
}

}  // namespace runvm::vmm::x86_64
