#include "vmm/arch/x86_64/cpu_setup.h"

#include <sys/ioctl.h>

#include <cstring>
#include <memory>

#include "vmm/arch/x86_64/layout.h"
#include "vmm/kvm/ioctls.h"

namespace runvm::vmm::x86_64 {

namespace {

constexpr uint64_t kPresentRw = 0x3;
constexpr uint64_t kPageSize2M = 0x80;

constexpr uint64_t kCr0Pe = 1ull << 0;
constexpr uint64_t kCr0Et = 1ull << 4;
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kEferLme = 1ull << 8;
constexpr uint64_t kEferLma = 1ull << 10;

// A GDT descriptor from flags (the 12 bits holding access byte and G/DB/L/AVL), base and limit.
constexpr uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit) {
  return ((uint64_t(base) & 0xff000000) << (56 - 24)) | ((uint64_t(flags) & 0x0000f0ff) << 40) |
         ((uint64_t(limit) & 0x000f0000) << (48 - 16)) | ((uint64_t(base) & 0x00ffffff) << 16) |
         (uint64_t(limit) & 0x0000ffff);
}

kvm_segment segment_from(uint64_t d, uint16_t selector) {
  kvm_segment s{};
  s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
  uint32_t limit = static_cast<uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
  s.g = (d >> 55) & 1;
  s.limit = s.g ? (limit << 12) | 0xfff : limit;
  s.selector = selector;
  s.type = (d >> 40) & 0xf;
  s.s = (d >> 44) & 1;
  s.dpl = (d >> 45) & 3;
  s.present = (d >> 47) & 1;
  s.avl = (d >> 52) & 1;
  s.l = (d >> 53) & 1;
  s.db = (d >> 54) & 1;
  s.unusable = s.present ? 0 : 1;
  return s;
}

constexpr uint64_t kGdt[] = {
    0,
    0,
    gdt_entry(0xa09b, 0, 0xfffff),  // 0x10: 64-bit code, execute/read
    gdt_entry(0xc093, 0, 0xfffff),  // 0x18: flat data, read/write
    gdt_entry(0x808b, 0, 0xfffff),  // 0x20: TSS (busy)
};

}  // namespace

Status write_page_tables(const GuestMemory& mem) {
  if (!mem.write_obj<uint64_t>(kPml4Addr, kPdptAddr | kPresentRw))
    return Error("page tables: PML4 outside guest memory");
  for (uint64_t i = 0; i < 4; ++i) {
    uint64_t pd = kPdAddr + i * 0x1000;
    if (!mem.write_obj<uint64_t>(kPdptAddr + i * 8, pd | kPresentRw))
      return Error("page tables: PDPT outside guest memory");
    for (uint64_t j = 0; j < 512; ++j) {
      uint64_t addr = ((i << 9) + j) << 21;
      if (!mem.write_obj<uint64_t>(pd + j * 8, addr | kPresentRw | kPageSize2M))
        return Error("page tables: PD outside guest memory");
    }
  }
  return {};
}

Status write_gdt(const GuestMemory& mem) {
  if (!mem.write(kGdtAddr, kGdt, sizeof kGdt)) return Error("GDT outside guest memory");
  if (!mem.write_obj<uint64_t>(kIdtAddr, 0)) return Error("IDT outside guest memory");
  return {};
}

Status setup_boot_regs(int fd, uint64_t entry, uint64_t boot_params) {
  kvm_sregs sregs{};
  if (ioctl(fd, KVM_GET_SREGS, &sregs) != 0) return Error::from_errno("KVM_GET_SREGS");
  sregs.gdt.base = kGdtAddr;
  sregs.gdt.limit = sizeof kGdt - 1;
  sregs.idt.base = kIdtAddr;
  sregs.idt.limit = 7;
  sregs.cs = segment_from(kGdt[kBootCs / 8], kBootCs);
  sregs.ds = segment_from(kGdt[kBootDs / 8], kBootDs);
  sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
  sregs.tr = segment_from(kGdt[kBootTss / 8], kBootTss);
  sregs.cr0 = kCr0Pe | kCr0Et | kCr0Pg;  // caches enabled (CD/NW clear)
  sregs.cr3 = kPml4Addr;
  sregs.cr4 = kCr4Pae;
  sregs.efer = kEferLme | kEferLma;
  if (ioctl(fd, KVM_SET_SREGS, &sregs) != 0) return Error::from_errno("KVM_SET_SREGS");

  kvm_regs regs{};
  regs.rflags = 0x2;  // bit 1 is reserved-one; interrupts off
  regs.rip = entry;
  regs.rsp = kBootStackTop;
  regs.rbp = kBootStackTop;
  regs.rsi = boot_params;
  if (ioctl(fd, KVM_SET_REGS, &regs) != 0) return Error::from_errno("KVM_SET_REGS");
  return {};
}

Status setup_fpu(int fd) {
  kvm_fpu fpu{};
  fpu.fcw = 0x37f;
  fpu.mxcsr = 0x1f80;
  if (ioctl(fd, KVM_SET_FPU, &fpu) != 0) return Error::from_errno("KVM_SET_FPU");
  return {};
}

std::vector<kvm_msr_entry> boot_msrs() {
  auto e = [](uint32_t index, uint64_t data) {
    kvm_msr_entry m{};
    m.index = index;
    m.data = data;
    return m;
  };
  return {
      e(0x174, 0),                 // IA32_SYSENTER_CS
      e(0x175, 0),                 // IA32_SYSENTER_ESP
      e(0x176, 0),                 // IA32_SYSENTER_EIP
      e(0xc0000081, 0),            // STAR
      e(0xc0000082, 0),            // LSTAR
      e(0xc0000083, 0),            // CSTAR
      e(0xc0000084, 0),            // SYSCALL_MASK
      e(0xc0000102, 0),            // KERNEL_GS_BASE
      e(0x10, 0),                  // IA32_TSC
      e(0x1a0, 1),                 // IA32_MISC_ENABLE: fast strings
      e(0x2ff, (1u << 11) | 0x6),  // MTRR default type: enabled, write-back
  };
}

Status setup_msrs(int fd) {
  auto msrs = boot_msrs();
  kvm::FlexBuffer<kvm_msr_entry> buf(msrs.size());
  buf.count() = static_cast<uint32_t>(msrs.size());
  std::memcpy(buf.entries(), msrs.data(), msrs.size() * sizeof(kvm_msr_entry));
  int n = ioctl(fd, kvm::kSetMsrs, buf.data());
  if (n < 0) return Error::from_errno("KVM_SET_MSRS");
  if (static_cast<size_t>(n) != msrs.size()) {
    char idx[16];
    std::snprintf(idx, sizeof idx, "0x%x", msrs[static_cast<size_t>(n)].index);
    return Error(std::string("KVM_SET_MSRS: MSR ") + idx + " rejected");
  }
  return {};
}

Status setup_cpuid(int fd, const std::vector<kvm_cpuid_entry2>& entries) {
  kvm::FlexBuffer<kvm_cpuid_entry2> buf(entries.size());
  buf.count() = static_cast<uint32_t>(entries.size());
  std::memcpy(buf.entries(), entries.data(), entries.size() * sizeof(kvm_cpuid_entry2));
  if (ioctl(fd, kvm::kSetCpuid2, buf.data()) != 0) return Error::from_errno("KVM_SET_CPUID2");
  return {};
}

Status setup_lapic(int fd) {
  kvm_lapic_state st{};
  if (ioctl(fd, KVM_GET_LAPIC, &st) != 0) return Error::from_errno("KVM_GET_LAPIC");
  auto set_mode = [&](size_t off, uint32_t mode) {
    uint32_t v;
    std::memcpy(&v, st.regs + off, 4);
    v = (v & ~0x700u) | (mode << 8);
    std::memcpy(st.regs + off, &v, 4);
  };
  set_mode(0x350, 0x7);  // LVT LINT0: ExtINT
  set_mode(0x360, 0x4);  // LVT LINT1: NMI
  if (ioctl(fd, KVM_SET_LAPIC, &st) != 0) return Error::from_errno("KVM_SET_LAPIC");
  return {};
}

}  // namespace runvm::vmm::x86_64
