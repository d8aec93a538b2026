#include "vmm/arch/x86_64/acpi.h"

#include <cstring>
#include <string>

#include "vmm/arch/x86_64/layout.h"

namespace runvm::vmm::x86_64 {

namespace {

using Bytes = std::vector<uint8_t>;

void put(Bytes& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_str(Bytes& b, const char* s, size_t n) {
  size_t l = std::strlen(s);
  for (size_t i = 0; i < n; ++i) b.push_back(i < l ? static_cast<uint8_t>(s[i]) : ' ');
}
void patch(Bytes& b, size_t off, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Standard 36-byte description header; length and checksum fixed by finish().
Bytes header(const char* sig, uint8_t rev) {
  Bytes b;
  put_str(b, sig, 4);
  put(b, 0, 4);  // length
  put(b, rev, 1);
  put(b, 0, 1);  // checksum
  put_str(b, "RUNVM", 6);
  put_str(b, "RUNVMTBL", 8);
  put(b, 1, 4);  // OEM revision
  put_str(b, "RNVM", 4);
  put(b, 1, 4);  // creator revision
  return b;
}
void finish(Bytes& t) {
  patch(t, 4, t.size(), 4);
  t[9] = 0;
  t[9] = static_cast<uint8_t>(-acpi_sum(t.data(), t.size()));
}

// Generic Address Structure for an 8-bit system I/O register.
void gas_io8(Bytes& b, uint16_t port) {
  put(b, 1, 1);  // system I/O space
  put(b, 8, 1);  // bit width
  put(b, 0, 1);  // bit offset
  put(b, 1, 1);  // byte access
  put(b, port, 8);
}

// --- AML -------------------------------------------------------------------
// PkgLength covers itself and what follows; 1 byte up to 63, else 2-4 bytes.
Bytes pkg(uint8_t op_or_none, const Bytes& body, bool ext = false) {
  Bytes out;
  if (ext) out.push_back(0x5b);
  if (op_or_none) out.push_back(op_or_none);
  size_t len = body.size() + 1;
  Bytes enc;
  if (len <= 63) {
    enc.push_back(static_cast<uint8_t>(len));
  } else {
    int extra = len + 1 < (1u << 12) ? 1 : (len + 2 < (1u << 20) ? 2 : 3);
    len = body.size() + 1 + extra;
    enc.push_back(static_cast<uint8_t>((extra << 6) | (len & 0x0f)));
    for (int i = 0; i < extra; ++i) enc.push_back(static_cast<uint8_t>(len >> (4 + 8 * i)));
  }
  out.insert(out.end(), enc.begin(), enc.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}
Bytes name_seg(const char* s) {  // 4 characters
  return Bytes(s, s + 4);
}
Bytes aml_name(const char* seg, const Bytes& value) {
  Bytes b{0x08};
  auto n = name_seg(seg);
  b.insert(b.end(), n.begin(), n.end());
  b.insert(b.end(), value.begin(), value.end());
  return b;
}
Bytes aml_int(uint32_t v) {
  if (v == 0) return {0x00};
  if (v == 1) return {0x01};
  Bytes b;
  if (v <= 0xff) {
    b.push_back(0x0a);
    put(b, v, 1);
  } else if (v <= 0xffff) {
    b.push_back(0x0b);
    put(b, v, 2);
  } else {
    b.push_back(0x0c);
    put(b, v, 4);
  }
  return b;
}
Bytes aml_buffer(const Bytes& data) {
  Bytes body = aml_int(static_cast<uint32_t>(data.size()));
  body.insert(body.end(), data.begin(), data.end());
  return pkg(0x11, body);
}
Bytes aml_package(const std::vector<Bytes>& elems) {
  Bytes body{static_cast<uint8_t>(elems.size())};
  for (auto& e : elems) body.insert(body.end(), e.begin(), e.end());
  return pkg(0x12, body);
}

// ResourceTemplate for the root bridge: bus 0, the config ports, the I/O
// windows around them and the 32-bit BAR window.
Bytes pci_crs(const AcpiInput& in) {
  Bytes r;
  auto word_addr = [&](uint8_t type, uint8_t tflags, uint16_t min, uint16_t max) {
    put(r, 0x88, 1);
    put(r, 13, 2);
    put(r, type, 1);
    put(r, 0x0c, 1);  // min and max fixed, consumer/producer: producer (bit 0 clear)
    put(r, tflags, 1);
    put(r, 0, 2);  // granularity
    put(r, min, 2);
    put(r, max, 2);
    put(r, 0, 2);  // translation
    put(r, uint32_t{max} - min + 1, 2);
  };
  word_addr(2, 0, 0, 0);  // bus numbers 0..0
  put(r, 0x47, 1);        // I/O port descriptor: 0xCF8, 8 ports
  put(r, 1, 1);
  put(r, 0xcf8, 2);
  put(r, 0xcf8, 2);
  put(r, 1, 1);
  put(r, 8, 1);
  word_addr(1, 3, 0x0000, 0x0cf7);
  word_addr(1, 3, 0x0d00, 0xffff);
  put(r, 0x87, 1);  // DWord memory window
  put(r, 23, 2);
  put(r, 0, 1);  // memory
  put(r, 0x0c, 1);
  put(r, 0x01, 1);  // read/write, non-cacheable
  put(r, 0, 4);
  put(r, in.pci_mmio_base, 4);
  put(r, in.pci_mmio_end - 1, 4);
  put(r, 0, 4);
  put(r, in.pci_mmio_end - in.pci_mmio_base, 4);
  put(r, 0x79, 1);  // end tag
  put(r, 0, 1);
  return r;
}

// An ISA device with a fixed I/O range and optionally one edge-triggered IRQ.
// Hardware-reduced ACPI has no legacy PIC and so no implicit ISA IRQ mapping:
// the guest wires COM1's IRQ only through this description.
Bytes isa_device(const char* name, uint32_t eisa_id, uint32_t uid, uint16_t port, uint8_t len,
                 int irq) {
  Bytes crs;
  put(crs, 0x47, 1);  // I/O port descriptor, 16-bit decode
  put(crs, 1, 1);
  put(crs, port, 2);
  put(crs, port, 2);
  put(crs, 1, 1);
  put(crs, len, 1);
  if (irq >= 0) {
    put(crs, 0x22, 1);  // IRQ descriptor without flags: edge, active high
    put(crs, 1u << irq, 2);
  }
  put(crs, 0x79, 1);
  put(crs, 0, 1);
  Bytes body = name_seg(name);
  Bytes hid{0x0c};
  put(hid, eisa_id, 4);
  for (auto& n :
       {aml_name("_HID", hid), aml_name("_UID", aml_int(uid)), aml_name("_CRS", aml_buffer(crs))})
    body.insert(body.end(), n.begin(), n.end());
  return pkg(0x82, body, true);
}

// _PRT: Package { Package { slot << 16 | 0xFFFF, pin, Zero, GSI } ... }; the
// source Zero means "GSI given directly" (level-triggered).
Bytes pci_prt(const AcpiInput& in) {
  std::vector<Bytes> entries;
  for (const auto& r : in.pci_intx) {
    entries.push_back(aml_package({aml_int((static_cast<uint32_t>(r.slot) << 16) | 0xffff),
                                   aml_int(static_cast<uint32_t>(r.pin)), aml_int(0),
                                   aml_int(static_cast<uint32_t>(r.gsi))}));
  }
  return aml_package(entries);
}

Bytes dsdt(const AcpiInput& in) {
  Bytes t = header("DSDT", 2);
  Bytes dev_body = name_seg("PCI0");
  for (auto& n :
       {aml_name("_HID", {0x0c, 0x41, 0xd0, 0x0a, 0x03}),  // EisaId("PNP0A03")
        aml_name("_SEG", aml_int(0)), aml_name("_BBN", aml_int(0)), aml_name("_UID", aml_int(0)),
        aml_name("_CRS", aml_buffer(pci_crs(in))), aml_name("_PRT", pci_prt(in))})
    dev_body.insert(dev_body.end(), n.begin(), n.end());
  Bytes scope_body{0x5c, '_', 'S', 'B', '_'};  // \_SB_
  Bytes dev = pkg(0x82, dev_body, true);
  scope_body.insert(scope_body.end(), dev.begin(), dev.end());
  // EisaId("PNP0501") = 16550 UART, EisaId("PNP0B00") = AT RTC (no alarm IRQ).
  Bytes com1 = isa_device("COM1", 0x0105d041, 1, 0x3f8, 8, 4);
  Bytes rtc = isa_device("RTC_", 0x000bd041, 0, 0x70, 2, -1);
  scope_body.insert(scope_body.end(), com1.begin(), com1.end());
  scope_body.insert(scope_body.end(), rtc.begin(), rtc.end());
  Bytes scope = pkg(0x10, scope_body);
  t.insert(t.end(), scope.begin(), scope.end());
  Bytes s5 = aml_name(
      "_S5_", aml_package({aml_int(kS5SleepType), aml_int(kS5SleepType), aml_int(0), aml_int(0)}));
  t.insert(t.end(), s5.begin(), s5.end());
  finish(t);
  return t;
}

Bytes fadt(uint64_t dsdt_addr) {
  Bytes t = header("FACP", 6);
  put(t, 0, 4);          // FIRMWARE_CTRL: no FACS
  put(t, dsdt_addr, 4);  // DSDT
  put(t, 0, 1);          // reserved
  put(t, 0, 1);          // preferred PM profile: unspecified
  put(t, 0, 2);          // SCI_INT: none (hardware reduced)
  t.resize(109, 0);      // SMI_CMD .. CENTURY: unused
  put(t, 0, 2);          // IAPC_BOOT_ARCH: no 8042 to probe, no VGA
  put(t, 0, 1);
  put(t, (1u << 20) | (1u << 10), 4);  // HW_REDUCED_ACPI, RESET_REG_SUP
  gas_io8(t, 0x64);                    // RESET_REG: i8042 command port
  put(t, 0xfe, 1);                     // RESET_VALUE: pulse CPU reset
  put(t, 0, 2);                        // ARM_BOOT_ARCH
  put(t, 0, 1);                        // FADT minor version
  put(t, 0, 8);                        // X_FIRMWARE_CTRL
  put(t, dsdt_addr, 8);                // X_DSDT
  t.resize(244, 0);                    // X_PM*/X_GPE*: none
  gas_io8(t, kSleepControlPort);
  gas_io8(t, kSleepStatusPort);
  put_str(t, "RUNVM", 8);  // hypervisor vendor identity
  finish(t);
  return t;
}

Bytes madt(const AcpiInput& in) {
  Bytes t = header("APIC", 5);
  put(t, kLapicAddr, 4);
  put(t, 1, 4);  // PCAT_COMPAT: legacy 8259s present (Linux masks them)
  for (unsigned i = 0; i < in.cpus; ++i) {
    put(t, 0, 1);  // processor local APIC
    put(t, 8, 1);
    put(t, i, 1);  // ACPI processor UID
    put(t, i, 1);  // APIC id
    put(t, 1, 4);  // enabled
  }
  put(t, 1, 1);  // IOAPIC
  put(t, 12, 1);
  put(t, in.cpus, 1);  // IOAPIC id after the CPUs' APIC ids
  put(t, 0, 1);
  put(t, kIoapicAddr, 4);
  put(t, 0, 4);  // GSI base
  put(t, 4, 1);  // local APIC NMI: all processors, LINT1
  put(t, 6, 1);
  put(t, 0xff, 1);
  put(t, 0, 2);
  put(t, 1, 1);
  finish(t);
  return t;
}

}  // namespace

uint8_t acpi_sum(const uint8_t* p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + p[i]);
  return s;
}

Result<std::vector<uint8_t>> build_acpi_tables(const AcpiInput& in, uint64_t base) {
  if (in.cpus == 0 || in.cpus > 254) return Error("acpi: cpu count out of range");
  if (base & 0xf) return Error("acpi: base must be 16-byte aligned");
  if (in.pci_mmio_end <= in.pci_mmio_base || in.pci_mmio_end > 0x1'0000'0000)
    return Error("acpi: bad PCI window");
  if (in.pci_intx.size() > 32) return Error("acpi: too many PCI INTx routes");
  for (const auto& r : in.pci_intx) {
    if (r.slot < 0 || r.slot > 31 || r.pin < 0 || r.pin > 3 || r.gsi < 0 || r.gsi > 23)
      return Error("acpi: bad PCI INTx route for slot " + std::to_string(r.slot));
  }
  auto align = [](Bytes& b) { b.resize((b.size() + 15) & ~size_t{15}, 0); };
  Bytes out(36, 0);  // RSDP, filled last
  align(out);
  const uint64_t dsdt_addr = base + out.size();
  Bytes d = dsdt(in);
  out.insert(out.end(), d.begin(), d.end());
  align(out);
  const uint64_t fadt_addr = base + out.size();
  Bytes f = fadt(dsdt_addr);
  out.insert(out.end(), f.begin(), f.end());
  align(out);
  const uint64_t madt_addr = base + out.size();
  Bytes m = madt(in);
  out.insert(out.end(), m.begin(), m.end());
  align(out);
  const uint64_t xsdt_addr = base + out.size();
  Bytes x = header("XSDT", 1);
  put(x, fadt_addr, 8);
  put(x, madt_addr, 8);
  finish(x);
  out.insert(out.end(), x.begin(), x.end());
  if (base + out.size() > 0xffffffff) return Error("acpi: tables above 4 GiB");

  Bytes r;
  put_str(r, "RSD PTR ", 8);
  put(r, 0, 1);  // checksum of the first 20 bytes
  put_str(r, "RUNVM", 6);
  put(r, 2, 1);  // revision 2: XSDT
  put(r, 0, 4);  // no RSDT
  put(r, 36, 4);
  put(r, xsdt_addr, 8);
  put(r, 0, 1);  // extended checksum
  put(r, 0, 3);
  r[8] = static_cast<uint8_t>(-acpi_sum(r.data(), 20));
  r[32] = static_cast<uint8_t>(-acpi_sum(r.data(), 36));
  std::memcpy(out.data(), r.data(), 36);
  return out;
}

}  // namespace runvm::vmm::x86_64
